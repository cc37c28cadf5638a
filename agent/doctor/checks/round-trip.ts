import { agentPing, type DoctorCheck } from "../../../shared/schemas/doctor";
import { fail, pass, reasonOf, skip } from "../report";
import { NETWORK_TIMEOUT_MS } from "./server";

const START_THE_AGENT = "start it: kai-agent service install (runs it now and at every login), or kai-agent";

/**
 * A ping from here to the edge, through the host relay to the running kai-agent of this host
 * and back (`POST /api/agent/ping`): the whole path a dashboard request takes. Run inside
 * the agent at the edge's request, that request was the round trip already.
 */
export async function checkRoundTrip(
  server: URL,
  token: string | undefined,
  options: { tokenValid: boolean; relayed: boolean },
): Promise<DoctorCheck> {
  if (options.relayed)
    return pass("round-trip", "the edge asked for this report through this agent's connection: the round trip works");
  if (!token || !options.tokenValid)
    return skip("round-trip", "not checked: the agent token is not valid (see the token line)");
  let response: Response;
  try {
    response = await fetch(new URL("/api/agent/ping", server), {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(NETWORK_TIMEOUT_MS),
    });
  } catch (error) {
    return fail("round-trip", `the ping could not be sent: ${reasonOf(error)}`, "run kai-agent doctor again");
  }
  const body = (await response.json().catch(() => undefined)) as
    | { data?: unknown; error?: { code?: string; message?: string } }
    | undefined;
  if (response.status === 503 && body?.error?.code === "AGENT_OFFLINE")
    return fail("round-trip", "no kai-agent is connected for this host", START_THE_AGENT);
  if (response.status === 504)
    return fail(
      "round-trip",
      "the connected kai-agent did not answer in time",
      "restart kai-agent, then look at its log (kai-agent service status says where it is)",
    );
  const parsed = agentPing.safeParse(body?.data);
  if (!response.ok || !parsed.success)
    return fail(
      "round-trip",
      `the ping failed: ${body?.error?.message ?? `HTTP ${response.status}`}`,
      "run kai-agent doctor again; if it persists, look at kai-agent's log",
    );
  return pass(
    "round-trip",
    `${Math.round(parsed.data.roundTripMs)} ms from the edge to the running kai-agent and back`,
  );
}
