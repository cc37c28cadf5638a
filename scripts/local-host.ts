/**
 * The local host of `npm start`: enrolls this machine for the dev user (once; the agent
 * token is kept in .kai/dev-login.json) and runs its kai-agent, so a newcomer sees their
 * own machine's Kai containers right away.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..");
export const LOCAL_HOST_NAME = "local";
/** The local agent's token, alone in a git-ignored 0600 file: kai-agent reads it with --token-file. */
const TOKEN_FILE = path.join(ROOT, ".kai", "agent-token");

export interface LocalHost {
  id: string;
  token: string;
}

async function call(url: string, method: string, route: string, bearer: string, body?: unknown) {
  const res = await fetch(`${url}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${bearer}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json().catch(() => null)) as any };
}

/** Reuses the saved local host when it still exists; otherwise enrolls a fresh one (replacing a stale one of the same name). */
export async function ensureLocalHost(url: string, apiToken: string, saved: LocalHost | undefined): Promise<LocalHost> {
  const listed = await call(url, "GET", "/api/hosts", apiToken);
  if (listed.status !== 200) throw new Error(`listing hosts failed: ${listed.status}`);
  const hosts = listed.json.data.hosts as { id: string; name: string }[];
  if (saved && hosts.some((host) => host.id === saved.id)) return saved;
  const stale = hosts.find((host) => host.name === LOCAL_HOST_NAME);
  if (stale) await call(url, "DELETE", `/api/hosts/${stale.id}`, apiToken);
  const enrolled = await call(url, "POST", "/api/hosts", apiToken, { name: LOCAL_HOST_NAME });
  if (enrolled.status !== 201)
    throw new Error(`enrolling this machine failed: ${enrolled.status} ${JSON.stringify(enrolled.json)}`);
  console.log(`kai: enrolled this machine as host "${LOCAL_HOST_NAME}"`);
  return { id: enrolled.json.data.host.id, token: enrolled.json.data.token };
}

/** Starts kai-agent for the local host with the default policy (your home directory only). */
export function startLocalAgent(url: string, host: LocalHost): ChildProcess {
  // Not on the command line (ps) nor in the environment (/proc/<pid>/environ, readable by
  // every script the agent runs): a file only this user can read.
  mkdirSync(path.dirname(TOKEN_FILE), { recursive: true });
  // A fresh file each time: an old one may have looser bits, which the agent would refuse.
  rmSync(TOKEN_FILE, { force: true });
  writeFileSync(TOKEN_FILE, `${host.token}\n`, { mode: 0o600, flag: "wx" });
  const { KAI_TOKEN: _ignored, ...env } = process.env;
  const agent = spawn(
    process.execPath,
    ["--import", "tsx", path.join(ROOT, "agent", "cli.ts"), "--server", url, "--token-file", TOKEN_FILE],
    {
      cwd: ROOT,
      env,
      stdio: ["ignore", "inherit", "inherit"],
    },
  );
  agent.once("exit", (code, signal) => {
    if (signal !== "SIGTERM" && signal !== "SIGINT")
      console.error(`kai: the local agent exited (${code ?? signal}); restart npm start`);
  });
  console.log(`kai: starting kai-agent for this machine (allowed root: ${os.homedir()})`);
  return agent;
}
