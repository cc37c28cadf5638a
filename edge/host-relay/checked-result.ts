import { REPLIES } from "../../shared/command-replies";
import { isOp } from "../../shared/commands";
import type { Outcome } from "./pending";

/** The agent's result, validated against its command's schema here, so the audit says what the caller gets. */
export function checkedResult(op: string, requestId: string, outcome: Outcome): Outcome {
  if (!outcome.ok) return outcome;
  const parsed = isOp(op) ? REPLIES[op].result.safeParse(outcome.result) : undefined;
  if (parsed?.success) return { ...outcome, result: parsed.data };
  // The request id ties this line to the agent's log of the same request.
  console.error(
    `relay: ${op} (request ${requestId}) answered with an unexpected result: ${parsed?.error.message ?? "unknown operation"}`,
  );
  return {
    ok: false,
    error: {
      code: "INTERNAL_ERROR",
      message: `the host agent answered ${op} with an unexpected result; update kai-agent`,
    },
  };
}
