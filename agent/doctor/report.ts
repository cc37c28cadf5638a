import type { DoctorCheck, DoctorCheckId, DoctorReport } from "../../shared/schemas/doctor";
import { AGENT_VERSION } from "../../shared/version";

/** What each check is called, in the order the report lists them. */
const TITLES: Record<DoctorCheckId, string> = {
  config: "Configuration",
  server: "Server reachable",
  tls: "TLS",
  token: "Agent token",
  clock: "Clock",
  docker: "Docker",
  policy: "Policy file",
  profiles: "Agent profiles",
  node: "Node.js",
  "round-trip": "Round trip through the edge",
};

export const pass = (id: DoctorCheckId, detail: string): DoctorCheck => ({
  id,
  title: TITLES[id],
  status: "pass",
  detail,
  fix: null,
});

export const fail = (id: DoctorCheckId, detail: string, fix: string): DoctorCheck => ({
  id,
  title: TITLES[id],
  status: "fail",
  detail,
  fix,
});

export const warn = (id: DoctorCheckId, detail: string, fix: string): DoctorCheck => ({
  id,
  title: TITLES[id],
  status: "warn",
  detail,
  fix,
});

/** A check that could not run because an earlier one failed (`detail` says which), or that does not apply. */
export const skip = (id: DoctorCheckId, detail: string, fix: string | null = null): DoctorCheck => ({
  id,
  title: TITLES[id],
  status: "skip",
  detail,
  fix,
});

/** The report of `checks`: failed when any check failed; the summary counts each outcome. */
export function reportOf(checks: DoctorCheck[], now = new Date()): DoctorReport {
  const count = (status: DoctorCheck["status"]) => checks.filter((check) => check.status === status).length;
  const failed = count("fail");
  const parts = [`${count("pass")} passed`];
  if (failed) parts.push(`${failed} failed`);
  if (count("warn")) parts.push(`${count("warn")} warned`);
  if (count("skip")) parts.push(`${count("skip")} skipped`);
  const verdict = failed ? "kai-agent has problems to fix" : "kai-agent looks healthy";
  return {
    ok: failed === 0,
    summary: `${verdict}: ${parts.join(", ")}`,
    agentVersion: AGENT_VERSION,
    checkedAt: now.toISOString(),
    checks,
  };
}

/** The errno-style code of a failure, looking through `fetch`'s `cause`. */
export function codeOf(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 4; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A failure's message, with its cause's when `fetch` wraps it in a bare "fetch failed". */
export function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = (error as { cause?: unknown })?.cause;
  return cause instanceof Error && cause.message ? `${message}: ${cause.message}` : message;
}
