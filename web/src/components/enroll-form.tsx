import { useEffect, useState } from "preact/hooks";
import { api, call } from "../api/client";
import type { components } from "../api/schema";
import { ErrorView } from "./error-view";
import { SecretOnce } from "./secret-once";
import { field, useSubmit } from "./submit";

type Enrolled = components["schemas"]["EnrolledHost"];
const POLL_MS = 2000;

/**
 * Enrolls a machine: Kai answers with its one-time agent token and the command to run there
 * (it asks for the token on stdin, so the token never lands on a command line). Then it waits
 * for the first connection, and says what to check while none arrives.
 */
export function EnrollForm({ onEnrolled }: { onEnrolled: () => void }) {
  const [enrolled, setEnrolled] = useState<Enrolled>();
  const [online, setOnline] = useState(false);
  const enroll = useSubmit(async (form) => {
    const answer = await call(api.POST("/api/hosts", { body: { name: field(form, "name") } }));
    (document.getElementById("enroll-name") as HTMLInputElement | null)?.form?.reset();
    setEnrolled(answer.data);
    setOnline(false);
    onEnrolled();
  });
  useEffect(() => {
    if (!enrolled || online) return;
    const id = enrolled.host.id;
    const timer = setInterval(async () => {
      const host = await call(api.GET("/api/hosts/{id}", { params: { path: { id } } })).catch(() => undefined);
      if (host?.data.online) {
        setOnline(true);
        onEnrolled();
      }
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [enrolled, online, onEnrolled]);
  return (
    <>
      <form onSubmit={enroll.run}>
        <label>
          Machine name
          <input id="enroll-name" name="name" required maxLength={64} placeholder="laptop" />
        </label>
        <button class="primary" type="submit" disabled={enroll.busy}>
          Enroll
        </button>
        <ErrorView error={enroll.error} />
      </form>
      {enrolled && (
        <div class="card" data-enrolled={enrolled.host.name}>
          <SecretOnce
            label="1. Run this on the machine"
            value={enrolled.command}
            note="Needs Node 20.19 or newer and kai-agent (from a checkout: npx kai-agent …)."
          />
          <SecretOnce
            label="2. Paste this agent token when it asks"
            value={enrolled.token}
            note="Shown once: it is not stored anywhere you can read it again."
          />
          {online ? (
            <p class="online">{enrolled.host.name} is connected.</p>
          ) : (
            <p class="muted" aria-live="polite">
              Waiting for {enrolled.host.name} to connect… Nothing after a minute? Check that the machine can reach{" "}
              {location.origin}, that the token was pasted whole, and the agent's own output.
            </p>
          )}
        </div>
      )}
    </>
  );
}
