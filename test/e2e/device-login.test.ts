import { mkdtemp, readFile, realpath, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KaiAgentRun, machineHome } from "../support/device-login";
import { type Edge, startEdge } from "../support/edge-server";
import { request, type Session, signUp, uniqueName } from "../support/kai-client";
import { dialAgent } from "../support/raw-agent";

/**
 * Device login (issue 14, point 2) against the real Worker on workerd and the real kai-agent
 * process: `kai-agent login` prints a code, a signed-in user approves it through the API, the
 * agent saves its token and then connects. The edge trusts X-Real-IP here (a self-hoster's
 * proxy header), so each test that calls the routes by hand is its own client address.
 */

let edge: Edge;
let owner: Session;
let other: Session;
let tmp: string;
const runs: KaiAgentRun[] = [];
let addresses = 0;

beforeAll(async () => {
  edge = await startEdge({ vars: { TRUSTED_CLIENT_IP_HEADER: "X-Real-IP" } });
  owner = await signUp(edge.url);
  other = await signUp(edge.url);
  tmp = await realpath(await mkdtemp(path.join(os.tmpdir(), "kai-device-")));
});

afterAll(async () => {
  await Promise.all(runs.map((run) => run.stop()));
  await edge?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const freshAddress = () => `192.0.2.${(addresses += 1)}`;

function track(run: KaiAgentRun): KaiAgentRun {
  runs.push(run);
  return run;
}

type Codes = { deviceCode: string; userCode: string; verificationUri: string; interval: number; expiresIn: number };

async function newCodes(url = edge.url, address = freshAddress()) {
  return request<Codes>(url, "/api/v1/device/codes", {
    body: { hostname: "build-box", os: "linux", arch: "x64" },
    headers: { "X-Real-IP": address },
  });
}

const poll = (deviceCode: string, url = edge.url) =>
  request<{ status: string; token?: string; host?: { id: string }; detail?: string }>(url, "/api/v1/device/token", {
    body: { deviceCode },
  });

const lookup = (session: Session, userCode: string) =>
  request(session.url, `/api/v1/device/codes/${encodeURIComponent(userCode)}`, { token: session.token });

const approve = (session: Session, userCode: string, name = uniqueName("dev-")) =>
  request<{ host: { id: string; name: string; online: boolean } }>(
    session.url,
    `/api/v1/device/codes/${encodeURIComponent(userCode)}/approval`,
    { token: session.token, body: { name } },
  );

const configOf = (home: string) => path.join(home, "kai", "agent.json");

describe("kai-agent login, approved through the API", () => {
  it("prints a code and URL; approved, it saves the token (0600), exits 0; then the agent comes online", async () => {
    const home = await machineHome(tmp, "laptop");
    const name = uniqueName("laptop-");
    const login = track(KaiAgentRun.login(edge.url, home, ["--name", name]));
    const { userCode, url } = await login.printed();
    expect(url).toBe(`${edge.url}/device?code=${userCode}`);

    const asking = await lookup(owner, userCode.toLowerCase().replace("-", " "));
    expect(asking.status).toBe(200);
    expect(asking.body).toMatchObject({ userCode, name, hostname: os.hostname(), os: process.platform });
    expect(asking.body.arch).toBe(process.arch);

    const approved = await approve(owner, userCode, name);
    expect(approved.status).toBe(201);
    expect(approved.body.host).toMatchObject({ name, online: false });
    // The host is listed at once, before its agent has even collected the token.
    const hosts = await request(edge.url, "/api/hosts", { token: owner.token });
    expect(hosts.body.data.hosts.map((host: { id: string }) => host.id)).toContain(approved.body.host.id);

    expect(await login.exit).toBe(0);
    expect(login.output).toContain(`this machine is the host "${name}"`);
    expect(login.output).toContain("now run: kai-agent");
    expect((await stat(configOf(home))).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(await readFile(configOf(home), "utf8"));
    expect(saved).toEqual({ server: edge.url, token: expect.stringMatching(/^kai_agent_/) });
    expect(login.output).not.toContain(saved.token);

    const audit = await request(edge.url, "/api/audit?op=device.approve", { token: owner.token });
    expect(audit.body.data.entries).toEqual([
      expect.objectContaining({ hostId: approved.body.host.id, op: "device.approve", outcome: "ok" }),
    ]);

    const agent = track(new KaiAgentRun([], home));
    await agent.waitFor(/ connected /);
    const ping = await request(edge.url, `/api/hosts/${approved.body.host.id}/ping`, { token: owner.token });
    expect(ping.status).toBe(200);
    const listed = await request(edge.url, `/api/hosts/${approved.body.host.id}`, { token: owner.token });
    expect(listed.body.data).toMatchObject({ name, online: true });
    await agent.stop();
  });

  it("denied in the dashboard: the agent says so, saves nothing and exits non-zero", async () => {
    const home = await machineHome(tmp, "denied");
    const login = track(KaiAgentRun.login(edge.url, home));
    const { userCode } = await login.printed();
    const denied = await request(edge.url, `/api/v1/device/codes/${userCode}/denial`, {
      method: "POST",
      token: owner.token,
    });
    expect(denied.status).toBe(204);
    expect(await login.exit).toBe(2);
    expect(login.output).toContain("denied in the dashboard; nothing was saved");
    await expect(stat(configOf(home))).rejects.toMatchObject({ code: "ENOENT" });
    expect((await lookup(owner, userCode)).status).toBe(404);
  });

  it("Ctrl-C while waiting leaves nothing saved", async () => {
    const home = await machineHome(tmp, "cancelled");
    const login = track(KaiAgentRun.login(edge.url, home));
    await login.printed();
    login.signal("SIGINT");
    expect(await login.exit).toBe(130);
    expect(login.output).toContain("login cancelled; nothing was saved");
    await expect(stat(configOf(home))).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("the codes", () => {
  it("an unapproved code yields nothing; polling sooner than the interval is 429 with Retry-After", async () => {
    const issued = await newCodes();
    expect(issued.status).toBe(201);
    expect(issued.body).toMatchObject({ verificationUri: `${edge.url}/device`, expiresIn: 600, interval: 5 });
    expect(issued.body.userCode).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);

    const first = await poll(issued.body.deviceCode);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ status: "pending" });
    const again = await poll(issued.body.deviceCode);
    expect(again.status).toBe(429);
    expect(again.headers.get("content-type")).toContain("application/problem+json");
    expect(again.body).toMatchObject({ code: "RATE_LIMITED" });
    const retryAfter = Number(again.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(5);
    expect(JSON.stringify(again.body)).not.toContain("kai_agent_");

    const unknown = await poll("kai_device_not-a-real-one");
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: "NOT_FOUND", detail: expect.stringContaining("kai-agent login") });
  });

  it("is single use: the approved code answers the token once, then 404; the token works", async () => {
    const issued = await newCodes();
    const approved = await approve(owner, issued.body.userCode);
    expect(approved.status).toBe(201);
    const collected = await poll(issued.body.deviceCode);
    expect(collected.status).toBe(200);
    expect(collected.body).toMatchObject({ status: "approved", host: { id: approved.body.host.id } });
    const token = collected.body.token as string;
    expect(token).toMatch(/^kai_agent_/);

    const second = await poll(issued.body.deviceCode);
    expect(second.status).toBe(404);
    expect(second.body.detail).toContain("run `kai-agent login --server URL` again");
    expect((await approve(owner, issued.body.userCode)).status).toBe(404);

    const agent = await dialAgent(edge.url, token);
    expect(agent.hostId).toBe(approved.body.host.id);
    agent.socket.close();
  });

  it("two polls racing to collect an approved code: one gets a token, the other nothing", async () => {
    const issued = await newCodes();
    const approved = await approve(owner, issued.body.userCode);
    const answers = await Promise.all([poll(issued.body.deviceCode), poll(issued.body.deviceCode)]);
    const tokens = answers.filter((answer) => answer.status === 200 && answer.body.status === "approved");
    expect(tokens).toHaveLength(1);
    const loser = answers.find((answer) => !tokens.includes(answer));
    expect([404, 429]).toContain(loser?.status);
    expect(JSON.stringify(loser?.body)).not.toContain("kai_agent_");
    const agent = await dialAgent(edge.url, tokens[0]?.body.token as string);
    expect(agent.hostId).toBe(approved.body.host.id);
    agent.socket.close();
  });

  it("anyone signed in who has the code may approve it (the host is theirs); a wrong code is 404", async () => {
    const issued = await newCodes();
    for (const wrong of ["BBBB-BBBB", "hello", "AAAA-AAAA"]) {
      const res = await lookup(other, wrong);
      expect(res.status, wrong).toBe(404);
      expect(res.body.detail).toContain("run `kai-agent login` on the machine again");
    }
    const name = uniqueName("theirs-");
    const approved = await approve(other, issued.body.userCode, name);
    expect(approved.status).toBe(201);
    const theirs = await request(edge.url, "/api/hosts", { token: other.token });
    expect(theirs.body.data.hosts.map((host: { name: string }) => host.name)).toContain(name);
    const mine = await request(edge.url, "/api/hosts", { token: owner.token });
    expect(mine.body.data.hosts.map((host: { name: string }) => host.name)).not.toContain(name);
  });

  it("approving with a name the user already has is 409, and the code stays pending", async () => {
    const taken = uniqueName("taken-");
    expect((await request(edge.url, "/api/hosts", { token: owner.token, body: { name: taken } })).status).toBe(201);
    const issued = await newCodes();
    const clash = await approve(owner, issued.body.userCode, taken.toUpperCase());
    expect(clash.status).toBe(409);
    expect(clash.body).toMatchObject({ code: "CONFLICT" });
    expect((await lookup(owner, issued.body.userCode)).status).toBe(200);
    const invalid = await approve(owner, issued.body.userCode, "../etc");
    expect(invalid.status).toBe(422);
  });

  it("rate limits new codes per client address and lookups per user", async () => {
    const address = freshAddress();
    for (let i = 0; i < 10; i++) expect((await newCodes(edge.url, address)).status).toBe(201);
    const refused = await newCodes(edge.url, address);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await newCodes()).status).toBe(201);

    const guesser = await signUp(edge.url);
    for (let i = 0; i < 10; i++) expect((await lookup(guesser, "BCDF-GHJK")).status).toBe(404);
    const limited = await lookup(guesser, "BCDF-GHJK");
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ code: "RATE_LIMITED" });
  });
});

describe("an expired code", () => {
  const SHORT_TTL_SECONDS = 8;
  let shortEdge: Edge;
  let session: Session;
  beforeAll(async () => {
    // A code shorter than the poll interval: the agent's first poll comes after its deadline.
    // Long enough, though, for a test to approve in time on a loaded machine.
    // No trusted client-IP header: every caller shares one rate-limit bucket, as self-hosted.
    shortEdge = await startEdge({
      vars: { DEVICE_CODE_TTL_SECONDS: String(SHORT_TTL_SECONDS), DEVICE_POLL_INTERVAL_SECONDS: "10" },
    });
    session = await signUp(shortEdge.url);
  });
  afterAll(async () => {
    await shortEdge?.stop();
  });

  it("answers 404 to polls, lookups and approvals, saying to run kai-agent login again", async () => {
    const issued = await newCodes(shortEdge.url);
    expect(issued.body).toMatchObject({ expiresIn: SHORT_TTL_SECONDS, interval: 10 });
    await sleep(SHORT_TTL_SECONDS * 1000 + 100);
    const polled = await poll(issued.body.deviceCode, shortEdge.url);
    expect(polled.status).toBe(404);
    expect(polled.body.detail).toContain("kai-agent login");
    expect((await lookup(session, issued.body.userCode)).status).toBe(404);
    expect((await approve(session, issued.body.userCode)).status).toBe(404);
  });

  it("the agent gives up at expiry, says what to do and saves nothing", async () => {
    const home = await machineHome(tmp, "expired");
    const login = track(KaiAgentRun.login(shortEdge.url, home));
    await login.printed();
    expect(await login.exit).toBe(2);
    expect(login.output).toContain("expired before anyone approved it; nothing was saved");
    expect(login.output).toContain(`kai-agent login --server ${shortEdge.url} again`);
    await expect(stat(configOf(home))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("approved in the code's last seconds, the agent's poll past its deadline still collects the token", async () => {
    const home = await machineHome(tmp, "last-second");
    const login = track(KaiAgentRun.login(shortEdge.url, home));
    const { userCode } = await login.printed();
    // Before the 8 s expiry, long before the agent's first poll (10 s): that poll is past
    // both the agent's deadline and the code's original expiry, which approval extended.
    expect((await approve(session, userCode)).status).toBe(201);
    expect(await login.exit).toBe(0);
    expect(login.output).toContain("approved: this machine is the host");
    expect(JSON.parse(await readFile(configOf(home), "utf8"))).toMatchObject({ server: shortEdge.url });
  });

  it("when every caller shares one bucket and it is full, the agent waits for Retry-After and asks again", async () => {
    let refused = 0;
    for (let i = 0; i < 20 && refused === 0; i++) if ((await newCodes(shortEdge.url)).status === 429) refused += 1;
    expect(refused).toBe(1);
    const home = await machineHome(tmp, "crowded");
    const login = track(KaiAgentRun.login(shortEdge.url, home));
    await login.waitFor(/is handing out too many login codes right now; asking again in \d+ s/);
    // The window (a minute) passes, and the same process gets its code.
    await login.waitFor(/\/device\?code=/, 120_000);
    expect(login.exited).toBe(false);
    await login.stop();
  }, 150_000);
});

describe("a public origin install.sh cannot embed", () => {
  let badEdge: Edge;
  let session: Session;
  beforeAll(async () => {
    // WHATWG URLs allow `$` in a host name; inside the script it would be sh syntax.
    badEdge = await startEdge({ vars: { PUBLIC_ORIGIN: "http://ka$i.test" } });
    session = await signUp(badEdge.url);
  });
  afterAll(async () => {
    await badEdge?.stop();
  });

  it("is a 400 to enrolling and to a new device login, before a host or a code is stored", async () => {
    const enrolled = await request(badEdge.url, "/api/hosts", { token: session.token, body: { name: "orphan" } });
    expect(enrolled.status).toBe(400);
    const hosts = await request(badEdge.url, "/api/hosts", { token: session.token });
    expect(hosts.body.data.hosts).toEqual([]);
    expect((await newCodes(badEdge.url)).status).toBe(400);
    const install = await request(badEdge.url, "/api/install");
    expect(install.status).toBe(400);
    expect(install.body.error.code).toBe("BAD_REQUEST");
  });
});

describe("a public origin other than the address the dashboard is reached at (a proxy)", () => {
  const PUBLIC = "https://kai.example.test";
  let proxied: Edge;
  beforeAll(async () => {
    proxied = await startEdge({ vars: { PUBLIC_ORIGIN: PUBLIC } });
  });
  afterAll(async () => {
    await proxied?.stop();
  });

  it("is the server in the install line the dashboard shows and in the script it runs", async () => {
    const install = await request(proxied.url, "/api/install");
    expect(install.status).toBe(200);
    expect(install.body.data).toEqual({ server: PUBLIC, install: `curl -fsSL ${PUBLIC}/install.sh | sh` });
    const script = await fetch(`${proxied.url}/install.sh`).then((res) => res.text());
    expect(script).toContain(`\nKAI_SERVER='${PUBLIC}'\n`);
  });
});
