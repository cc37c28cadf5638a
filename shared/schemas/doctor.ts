import { z } from "zod";

/**
 * `kai-agent doctor`: what it checks on a machine, each with its outcome and the fix. The same
 * report comes from the CLI (`--json`) and from `POST /api/hosts/{id}/doctor`, where the edge
 * asks the connected agent to run it.
 */

const doctorCheckId = z.enum([
  "config",
  "server",
  "tls",
  "token",
  "clock",
  "docker",
  "policy",
  "profiles",
  "node",
  "round-trip",
]);

/** `warn` and `skip` do not fail the report: only `fail` does (exit 1). */
const doctorStatus = z.enum(["pass", "warn", "fail", "skip"]);

const doctorCheck = z
  .object({
    id: doctorCheckId,
    title: z.string(),
    status: doctorStatus,
    detail: z.string().describe("What was found"),
    fix: z.string().nullable().describe("What to do about it; null when nothing is to be done"),
  })
  .meta({ id: "DoctorCheck" });

export const doctorReport = z
  .object({
    ok: z.boolean().describe("True when no check failed (warnings and skipped checks allowed)"),
    summary: z.string(),
    agentVersion: z.string(),
    checkedAt: z.string(),
    checks: z.array(doctorCheck),
  })
  .meta({ id: "DoctorReport" });

export type DoctorCheckId = z.infer<typeof doctorCheckId>;
export type DoctorStatus = z.infer<typeof doctorStatus>;
export type DoctorCheck = z.infer<typeof doctorCheck>;
export type DoctorReport = z.infer<typeof doctorReport>;

/** `GET /api/agent/whoami`: the host an agent token belongs to, and the edge's clock. */
export const agentWhoami = z
  .object({ hostId: z.string(), name: z.string(), serverTime: z.string() })
  .meta({ id: "AgentWhoami" });

/** `POST /api/agent/ping`: a ping through the host relay to the host's connected agent. */
export const agentPing = z
  .object({
    roundTripMs: z.number().describe("Edge → host relay → agent → back"),
    agentTime: z.string(),
    serverTime: z.string(),
  })
  .meta({ id: "AgentPing" });

export type AgentWhoami = z.infer<typeof agentWhoami>;
