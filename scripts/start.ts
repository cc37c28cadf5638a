/**
 * `npm start`: runs Kai on this machine with no Cloudflare account.
 *
 *   1. creates a git-ignored `.kai/dev.vars` with random secrets, passed to wrangler dev
 *      with --env-file (overriding the production `[vars]` of wrangler.toml). Not the
 *      conventional `.dev.vars`: the Workers test pool would read that one too and mix
 *      a developer's local settings into the tests;
 *   2. builds the dashboard (web/dist, which the Worker serves) and applies the D1 migrations
 *      to the local database;
 *   3. starts `wrangler dev` on 127.0.0.1 and waits for `/api/health`;
 *   4. signs a dev user in (registering it through the real API the first time) and makes
 *      sure there is a personal API token;
 *   5. enrolls this machine as the dev user's host "local" and runs its kai-agent, then
 *      prints everything needed to start poking.
 *
 * Ctrl-C stops wrangler and workerd and exits 0.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { parseArgs } from "node:util";
import { messageOf } from "../shared/errors";
import { buildWeb } from "./build-web";
import { ensureLocalHost, type LocalHost, startLocalAgent } from "./local-host";

const ROOT = path.resolve(import.meta.dirname, "..");
const WRANGLER = path.join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
/**
 * Passed explicitly to both `d1 migrations apply --local` and `dev`: both default to this
 * folder today, but the migrated database and the served one must be the same file, so we
 * do not rely on two defaults staying equal.
 */
const PERSIST_TO = path.join(ROOT, ".wrangler", "state");
const DEV_VARS = path.join(ROOT, ".kai", "dev.vars");
const LOGIN_FILE = path.join(ROOT, ".kai", "dev-login.json");
const DEV_EMAIL = "dev@kai.local";
const DEFAULT_PORT = 8787;

const HELP = `Usage: npm start [-- --port <n>]

Starts Kai locally (wrangler dev + local D1), creates a dev user and an API token,
and prints the dashboard's URL, the login and the token. No Cloudflare account needed.

Options:
  --port <n>   port to listen on (default: $PORT or ${DEFAULT_PORT}; 0 picks a free one)
  -h, --help   show this help

Files (all git-ignored): .kai/dev.vars (local secrets), .kai/dev-login.json (dev login and
token, reused on restart), .kai/agent-token (the local kai-agent's token, mode 0600),
.wrangler/state (local database), .xdg (wrangler's own files).
Reset everything local with: rm -rf .wrangler/state .kai`;

/** Wrangler must not phone home, and its logs/registry stay inside the project. */
const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  XDG_CONFIG_HOME: path.join(ROOT, ".xdg"),
};

const secret = (length: number) => randomBytes(length).toString("base64url").slice(0, length);

function ensureDevVars(): void {
  if (!existsSync(DEV_VARS)) {
    mkdirSync(path.dirname(DEV_VARS), { recursive: true });
    writeFileSync(
      DEV_VARS,
      [
        "# Local secrets for `wrangler dev`, written by `npm start`. Git-ignored: never commit.",
        "ENVIRONMENT=development",
        `JWT_SECRET=${secret(48)}`,
        `PASSWORD_PEPPER=${secret(32)}`,
        `ADMIN_EMAILS=${DEV_EMAIL}`,
        "# Local webhook receivers (loopback) are fine in development.",
        "WEBHOOKS_ALLOW_PRIVATE=true",
        "",
      ].join("\n"),
      { mode: 0o600 },
    );
    console.log("kai: created .kai/dev.vars with fresh random secrets");
  } else if (!/^ENVIRONMENT\s*=\s*"?development"?\s*$/m.test(readFileSync(DEV_VARS, "utf8"))) {
    // Without it the dev mailbox answers 404 and the dev user cannot be registered.
    console.warn("kai: warning: .kai/dev.vars does not set ENVIRONMENT=development; dev sign-up will fail");
  }
  try {
    execFileSync("git", ["check-ignore", "-q", DEV_VARS], { cwd: ROOT, stdio: "ignore" });
  } catch (error) {
    // Exit status 1 means "not ignored"; anything else (no git, not a repo) is no verdict.
    if ((error as { status?: number }).status === 1)
      console.warn("kai: WARNING: .kai/dev.vars is not git-ignored; add .kai/ to .gitignore");
  }
}

/** Resolves `port` to one we can bind on 127.0.0.1 (0 = any free port); rejects if taken. */
function bindablePort(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const bound = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(bound));
    });
  });
}

async function choosePort(requested: string | undefined): Promise<number> {
  const raw = requested ?? process.env.PORT;
  const port = raw === undefined ? DEFAULT_PORT : Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`not a port: ${raw}`);
  try {
    return await bindablePort(port);
  } catch {
    // Only the default may move: a port the user asked for must not silently change.
    if (raw !== undefined)
      throw new Error(`port ${port} is in use; choose another with --port <n> (0 = any free port)`);
    const free = await bindablePort(0);
    console.log(`kai: port ${DEFAULT_PORT} is in use, using ${free} instead`);
    return free;
  }
}

function runWrangler(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    // stdin ignored: without a terminal, `migrations apply` answers its own confirmation.
    const child = spawn(process.execPath, [WRANGLER, ...args], {
      cwd: ROOT,
      env,
      stdio: ["ignore", "inherit", "inherit"],
    });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`wrangler ${args.join(" ")} exited with ${code}`)),
    );
  });
}

/**
 * `kill <npm pid>` makes npm exit without passing the signal on, which would orphan us and
 * leave wrangler holding the port. So we watch the process that launched tsx (Linux /proc):
 * when tsx gets re-parented, the launcher is gone and we stop too.
 */
function onLauncherGone(callback: () => void): void {
  const parentOf = (pid: number) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      return Number(stat.slice(stat.lastIndexOf(") ") + 2).split(" ")[1]); // "pid (comm) state ppid ..."
    } catch {
      return undefined;
    }
  };
  const launcher = parentOf(process.ppid);
  if (!launcher || launcher <= 1) return;
  setInterval(() => parentOf(process.ppid) !== launcher && callback(), 2_000).unref();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForHealth(url: string, dev: ChildProcess, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    if (dev.exitCode !== null || dev.signalCode !== null)
      throw new Error("wrangler dev exited before Kai answered; see its output above");
    try {
      const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return;
      last = `HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`;
    } catch (error) {
      last = String(error);
    }
    await sleep(300);
  }
  // A 503 here usually means the served database is not the migrated one.
  throw new Error(`Kai did not become healthy within ${timeoutMs / 1000} s (last: ${last})`);
}

interface DevLogin {
  email: string;
  password: string;
  apiToken?: string;
  host?: LocalHost;
}

function loadLogin(): DevLogin {
  if (existsSync(LOGIN_FILE)) return JSON.parse(readFileSync(LOGIN_FILE, "utf8")) as DevLogin;
  const login = { email: DEV_EMAIL, password: secret(20) };
  saveLogin(login); // saved before registering, so a crash half-way cannot lose the password
  return login;
}

function saveLogin(login: DevLogin): void {
  mkdirSync(path.dirname(LOGIN_FILE), { recursive: true });
  writeFileSync(LOGIN_FILE, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 });
}

async function api(url: string, method: string, route: string, body?: unknown, bearer?: string) {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  const res = await fetch(`${url}${route}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON (e.g. 204): callers only look at the status then.
  }
  const fail = (what: string): never => {
    throw new Error(`${what}: ${method} ${route} answered ${res.status} ${text.slice(0, 400)}`);
  };
  return { status: res.status, json, fail };
}

/** Signs in as the dev user; registers it (code read from the dev mailbox) when it does not exist yet. */
async function devAccessToken(url: string, login: DevLogin): Promise<string> {
  const signIn = await api(url, "POST", "/api/v1/auth/sessions", { email: login.email, password: login.password });
  if (signIn.status === 200) return signIn.json.access_token as string;
  if (signIn.status !== 401) signIn.fail("signing in the dev user failed");

  const register = await api(url, "POST", "/api/v1/auth/verifications", {
    username: "dev",
    email: login.email,
    password: login.password,
  });
  if (register.status !== 202) register.fail("registering the dev user failed");
  const mailbox = await api(url, "GET", `/api/v1/dev/mailbox?email=${encodeURIComponent(login.email)}`);
  if (mailbox.status !== 200) mailbox.fail("reading the dev mailbox failed");
  const code = mailbox.json.messages?.[0]?.code as string | null | undefined;
  if (!code) {
    // Registration of a known email mails a notice without a code: the account exists
    // with a password we do not have (e.g. .kai/dev-login.json was deleted).
    throw new Error(
      `${login.email} already exists with a different password than .kai/dev-login.json holds. ` +
        "Put the right password there, or reset local data with: rm -rf .wrangler/state .kai",
    );
  }
  const verify = await api(url, "POST", "/api/v1/auth/verifications/verify", { email: login.email, token: code });
  if (verify.status !== 200) verify.fail("confirming the dev user failed");
  console.log(`kai: registered the dev user ${login.email}`);
  return verify.json.access_token as string;
}

/**
 * Reuses the saved API token while it works, so restarts do not spend the auth rate limits
 * (10 sign-ins per account per 15 min) nor pile up tokens; otherwise creates a new one.
 */
async function devApiToken(url: string, login: DevLogin): Promise<string> {
  if (login.apiToken && (await api(url, "GET", "/api/tokens", undefined, login.apiToken)).status === 200)
    return login.apiToken;
  const access = await devAccessToken(url, login);
  const created = await api(url, "POST", "/api/tokens", { name: "local dev" }, access);
  if (created.status !== 201 || !created.json?.data?.token) created.fail("creating the API token failed");
  login.apiToken = created.json.data.token as string;
  saveLogin(login);
  return login.apiToken;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: "string" }, help: { type: "boolean", short: "h" } } });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const port = await choosePort(values.port);
  ensureDevVars();
  mkdirSync(env.XDG_CONFIG_HOME, { recursive: true });
  await buildWeb();
  await runWrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", PERSIST_TO]);

  // Own process group, so a terminal's Ctrl-C reaches only us and we stop wrangler and
  // its workerd together (signalling the group), with nothing left running behind.
  const dev = spawn(
    process.execPath,
    [
      WRANGLER,
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--persist-to",
      PERSIST_TO,
      "--env-file",
      DEV_VARS,
      "--show-interactive-dev-session=false",
    ],
    { cwd: ROOT, env, stdio: ["ignore", "inherit", "inherit"], detached: true },
  );
  const group = (signal: NodeJS.Signals) => {
    try {
      if (dev.pid) process.kill(-dev.pid, signal);
    } catch {
      // Already gone.
    }
  };
  const exited = new Promise<number>((resolve) => dev.once("exit", (code) => resolve(code ?? 1)));
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    group("SIGINT");
    const timer = setTimeout(() => group("SIGKILL"), 10_000);
    await exited;
    group("SIGKILL"); // workerd, should wrangler have left it behind
    clearTimeout(timer);
    process.exit(code);
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void stop(0));
  process.on("exit", () => group("SIGKILL"));
  onLauncherGone(() => void stop(0));
  void exited.then((code) => {
    if (stopping) return;
    console.error(`kai: wrangler dev exited with ${code}`);
    process.exit(code || 1);
  });

  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHealth(url, dev);
    const login = loadLogin();
    const token = await devApiToken(url, login);
    login.host = await ensureLocalHost(url, token, login.host);
    saveLogin(login);
    const agent = startLocalAgent(url, login.host);
    process.on("exit", () => agent.kill("SIGTERM"));
    console.log(
      [
        "",
        "  Kai is running.",
        `    Dashboard      ${url}  (sign in with the dev login)`,
        `    API reference  ${url}/api/docs`,
        `    Dev login      ${login.email} / ${login.password}`,
        `    API token      ${token}`,
        `    Add a machine  curl -fsSL ${url}/install.sh | sh   (reachable from this machine only; approve its code)`,
        "",
        "  Try:",
        `    curl -H "Authorization: Bearer ${token}" ${url}/api/flexy`,
        `    curl -H "Authorization: Bearer ${token}" -H "content-type: application/json" -d '{}' ${url}/api/host/directories`,
        "",
        "  Press Ctrl-C to stop.",
        "",
      ].join("\n"),
    );
  } catch (error) {
    console.error(`kai: ${messageOf(error)}`);
    await stop(1);
  }
}

main().catch((error) => {
  console.error(`kai: ${messageOf(error)}`);
  process.exit(1);
});
