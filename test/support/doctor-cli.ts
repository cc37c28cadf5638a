import { spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type DoctorCheck, type DoctorCheckId, type DoctorReport, doctorReport } from "../../shared/schemas/doctor";
import { ROOT } from "./edge-server";

export interface DoctorRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface CliOptions {
  home?: string;
  as?: { uid: number; gid: number };
  env?: Record<string, string>;
}

/**
 * Runs the real `kai-agent doctor` from the sources (tsx), as the agent is started in
 * AgentProcess: no KAI_* variables from the test's environment, its own config home.
 * `as` runs it as another user (uid/gid), for what root would not see (permissions).
 */
export function runDoctorCli(args: string[], options: CliOptions = {}): Promise<DoctorRun> {
  return runAgentCli(["doctor", ...args], options);
}

/** Runs the real `kai-agent` from the sources with `args`, as runDoctorCli does, until it exits. */
export function runAgentCli(args: string[], options: CliOptions = {}): Promise<DoctorRun> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("KAI_")));
  const home = options.home ?? os.tmpdir();
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "agent/cli.ts"), ...args], {
    cwd: ROOT,
    env: { ...env, HOME: home, XDG_CONFIG_HOME: path.join(home, ".config"), ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    ...(options.as ?? {}),
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The `--json` report of a run, checked against the schema the API documents. */
export function reportOf(run: DoctorRun): DoctorReport {
  try {
    return doctorReport.parse(JSON.parse(run.stdout));
  } catch (error) {
    throw new Error(`not a doctor report (${(error as Error).message}):\n${run.stdout}\n${run.stderr}`);
  }
}

export function checkOf(report: DoctorReport, id: DoctorCheckId): DoctorCheck {
  const check = report.checks.find((each) => each.id === id);
  if (!check) throw new Error(`no ${id} check in ${JSON.stringify(report)}`);
  return check;
}

/**
 * A config home as `kai-agent login` leaves it: `agent.json` {server, token} (0600) and a
 * policy file, in a fresh directory used as HOME.
 */
export async function agentHome(server: string, token: string, policy: Record<string, unknown>): Promise<string> {
  const home = await mkdtemp(path.join(os.tmpdir(), "kai-doctor-home-"));
  const kai = path.join(home, ".config", "kai");
  await mkdir(kai, { recursive: true });
  await writeFile(path.join(kai, "agent.json"), JSON.stringify({ server, token }), { mode: 0o600 });
  await writeFile(path.join(kai, "agent-policy.json"), JSON.stringify(policy));
  await chmod(home, 0o755);
  return home;
}
