import { useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { api, call } from "../api/client";
import type { components } from "../api/schema";
import { ErrorView } from "../components/error-view";
import { field, useSubmit } from "../components/submit";
import { useResource } from "../state/use-resource";
import "../components/device/device.css";

type PendingDevice = components["schemas"]["PendingDevice"];
type Host = components["schemas"]["Host"];

/**
 * `/device`: where `kai-agent login` sends you. `?code=` (from the URL it printed) shows which
 * machine is asking; approving makes it one of your hosts, denying gives it nothing.
 */
export function Device() {
  const { query } = useLocation();
  const code = query.code?.trim();
  return (
    <>
      <h1>Connect a machine</h1>
      {code ? <Decide key={code} code={code} /> : <EnterCode />}
    </>
  );
}

function EnterCode() {
  const { route } = useLocation();
  const go = (event: Event) => {
    event.preventDefault();
    const code = field(new FormData(event.currentTarget as HTMLFormElement), "code").trim();
    route(`/device?code=${encodeURIComponent(code)}`);
  };
  return (
    <form onSubmit={go}>
      <p>
        Enter the code that <code>kai-agent login</code> printed on the machine.
      </p>
      <label>
        Code
        <input
          name="code"
          required
          maxLength={32}
          autocomplete="off"
          autocapitalize="characters"
          placeholder="BCDF-GHJK"
        />
      </label>
      <button class="primary" type="submit">
        Continue
      </button>
    </form>
  );
}

type Outcome = { approved: Host } | { denied: true };

function Decide({ code }: { code: string }) {
  const path = { userCode: code };
  const asking = useResource(() => call(api.GET("/api/v1/device/codes/{userCode}", { params: { path } })));
  const [outcome, setOutcome] = useState<Outcome>();
  const approve = useSubmit(async (form) => {
    const body = { name: field(form, "name").trim() };
    const answer = await call(api.POST("/api/v1/device/codes/{userCode}/approval", { params: { path }, body }));
    setOutcome({ approved: answer.host });
  });
  const deny = useSubmit(async () => {
    await call(api.POST("/api/v1/device/codes/{userCode}/denial", { params: { path } }));
    setOutcome({ denied: true });
  });

  if (outcome && "approved" in outcome)
    return (
      <div class="card" role="status">
        <strong>Approved: {outcome.approved.name}</strong>
        <span>
          It will appear on <a href="/machines">Machines</a> as soon as its agent has collected its token and connected,
          within a few seconds.
        </span>
      </div>
    );
  if (outcome)
    return (
      <div class="card" role="status">
        <strong>Denied</strong>
        <span>That machine got nothing; its kai-agent login stops and says so.</span>
      </div>
    );
  if (asking.error)
    return (
      <>
        <ErrorView error={asking.error} />
        <p>
          <a href="/device">Enter another code</a>
        </p>
      </>
    );
  if (!asking.data) return <p class="muted">Loading…</p>;
  const device = asking.data;
  return (
    <>
      <p>
        Check that the machine shows the same code: <span class="user-code">{device.userCode}</span>
      </p>
      <Facts device={device} />
      <form id="deny-device" onSubmit={deny.run} />
      <form onSubmit={approve.run}>
        <label>
          Machine name
          <input name="name" required maxLength={64} defaultValue={device.name ?? suggestedName(device.hostname)} />
        </label>
        <p class="muted">Approving lets this machine act as your host: approve only one you just ran the command on.</p>
        <div class="row spread">
          <button class="danger" type="submit" form="deny-device" disabled={deny.busy || approve.busy}>
            Deny
          </button>
          <button class="primary" type="submit" disabled={approve.busy || deny.busy}>
            Approve
          </button>
        </div>
        <ErrorView error={approve.error ?? deny.error} />
      </form>
    </>
  );
}

function Facts({ device }: { device: PendingDevice }) {
  const expires = new Date(device.expiresAt);
  return (
    <dl class="facts card" aria-label="The machine asking">
      {device.name && (
        <>
          <dt>Name</dt>
          <dd>{device.name}</dd>
        </>
      )}
      <dt>Hostname</dt>
      <dd>{device.hostname}</dd>
      <dt>System</dt>
      <dd>
        {device.os} / {device.arch}
      </dd>
      <dt>Address</dt>
      <dd>{device.ip === "unattributed" ? "not known (no trusted proxy names it)" : device.ip}</dd>
      <dt>Expires</dt>
      <dd>{expires.toLocaleTimeString()}</dd>
    </dl>
  );
}

/** A hostname as a host name: the enroll rules allow letters, digits, space, _ . - (first a letter or digit). */
function suggestedName(hostname: string): string {
  return hostname
    .replace(/[^A-Za-z0-9 _.-]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 64);
}
