import { useEffect, useState } from "preact/hooks";
import { api, call } from "../api/client";
import type { components } from "../api/schema";
import { feedStatus, hostsLive } from "../state/live-feed";
import { ErrorView } from "./error-view";
import { SecretOnce } from "./secret-once";
import { field, useSubmit } from "./submit";

type Enrolled = components["schemas"]["EnrolledHost"];
/** Only while the live feed is down: how often to ask REST whether the machine connected. */
const POLL_MS = 2000;
/** After this long with no connection, say what to check. */
const HINT_AFTER_MS = 30_000;

/**
 * Enrolls a machine: Kai answers with its one-time agent token and the line to run there
 * (install.sh with --with-token: it asks for the token at the terminal, so the token never
 * lands on a command line). Then it waits live (the event feed's `host.online`) for the first
 * connection, and says what to check when none arrives after ~30 s.
 */
export function EnrollForm({ onEnrolled }: { onEnrolled: () => void }) {
  const [enrolled, setEnrolled] = useState<Enrolled>();
  const [polledOnline, setPolledOnline] = useState(false);
  const [slow, setSlow] = useState(false);
  const online = polledOnline || (enrolled !== undefined && hostsLive.value.get(enrolled.host.id)?.online === true);
  const feedLive = feedStatus.value === "live";
  const enroll = useSubmit(async (form) => {
    const answer = await call(api.POST("/api/hosts", { body: { name: field(form, "name") } }));
    (document.getElementById("enroll-name") as HTMLInputElement | null)?.form?.reset();
    setEnrolled(answer.data);
    setPolledOnline(false);
    setSlow(false);
    onEnrolled();
  });
  useEffect(() => {
    if (!enrolled || online) return;
    const timer = setTimeout(() => setSlow(true), HINT_AFTER_MS);
    return () => clearTimeout(timer);
  }, [enrolled, online]);
  useEffect(() => {
    if (online && enrolled) onEnrolled();
  }, [online, enrolled, onEnrolled]);
  // The feed is down (a proxy without WebSockets, say): ask REST instead until it is back.
  useEffect(() => {
    if (!enrolled || online || feedLive) return;
    const id = enrolled.host.id;
    const timer = setInterval(async () => {
      const host = await call(api.GET("/api/hosts/{id}", { params: { path: { id } } })).catch(() => undefined);
      if (host?.data.online) setPolledOnline(true);
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [enrolled, online, feedLive]);
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
            value={enrolled.install}
            note="It installs kai-agent in your home (Node 20.19 or newer), asks for the token, then starts it."
          />
          <SecretOnce
            label="2. Paste this agent token when it asks"
            value={enrolled.token}
            note="Shown once: it is not stored anywhere you can read it again."
          />
          <p class="muted" data-enroll-command>
            kai-agent already installed there? Run <code>{enrolled.command}</code> instead.
          </p>
          {online ? (
            <p class="online">{enrolled.host.name} is connected.</p>
          ) : (
            <div aria-live="polite">
              <p class="muted">Waiting for {enrolled.host.name} to connect…</p>
              {slow && (
                <div data-enroll-hints>
                  <p>Nothing yet after 30 seconds. Check:</p>
                  <ul class="enroll-hints">
                    <li>the command ran on the machine and the token was pasted whole (enroll again for a new one);</li>
                    <li>kai-agent's own output there: it says why it cannot connect;</li>
                    <li>
                      that the machine reaches the address in the command with outbound WebSockets (wss): a firewall or
                      proxy may block them.
                    </li>
                  </ul>
                </div>
              )}
            </div>
          )}
        </div>
      )}
    </>
  );
}
