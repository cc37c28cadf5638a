import type { DoctorCheck } from "../../../shared/schemas/doctor";
import { type AgentWhoami, agentWhoami } from "../../../shared/schemas/doctor";
import { fail, pass, reasonOf, skip } from "../report";
import { NETWORK_TIMEOUT_MS } from "./server";

const ENROLL_AGAIN =
  "enroll this machine again (the dashboard's Machines page, or POST /api/hosts), then run: " +
  "kai-agent login --server URL";

export interface TokenResult {
  check: DoctorCheck;
  whoami?: AgentWhoami;
  /** Our clock just before and just after the answer: the server's time lies between. */
  sentMs?: number;
  receivedMs?: number;
}

/** A message from a Kai error envelope (`{error: {message}}`), for showing the server's own words. */
async function messageIn(response: Response): Promise<string> {
  const body = (await response.json().catch(() => undefined)) as { error?: { message?: unknown } } | undefined;
  return typeof body?.error?.message === "string" ? body.error.message : `HTTP ${response.status}`;
}

/** `GET /api/agent/whoami` with the token: valid (and which host it is), revoked or unknown. */
export async function checkToken(server: URL, token: string | undefined, reachable: boolean): Promise<TokenResult> {
  if (!token)
    return {
      check: fail(
        "token",
        "no agent token is configured",
        "run kai-agent login --server URL and approve the code it prints in the dashboard",
      ),
    };
  if (!reachable) return { check: skip("token", "not checked: the server is not reachable (see the server line)") };
  const sentMs = Date.now();
  let response: Response;
  try {
    response = await fetch(new URL("/api/agent/whoami", server), {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(NETWORK_TIMEOUT_MS),
    });
  } catch (error) {
    return { check: fail("token", `the token could not be checked: ${reasonOf(error)}`, "run kai-agent doctor again") };
  }
  const receivedMs = Date.now();
  if (response.status === 401)
    return {
      check: fail("token", `the server refused this host's token: ${await messageIn(response)}`, ENROLL_AGAIN),
    };
  if (!response.ok)
    return {
      check: fail(
        "token",
        `the server could not check the token: ${await messageIn(response)}`,
        "try again in a minute; if it persists, tell the server's operator (quote the line above)",
      ),
    };
  const parsed = agentWhoami.safeParse(((await response.json().catch(() => ({}))) as { data?: unknown }).data);
  if (!parsed.success)
    return {
      check: fail(
        "token",
        "the server's answer to /api/agent/whoami is not one this agent understands",
        "the server may be older or newer than this agent: kai-agent upgrade",
      ),
    };
  const { name, hostId } = parsed.data;
  return {
    check: pass("token", `valid: this machine is the host "${name}" (${hostId})`),
    whoami: parsed.data,
    sentMs,
    receivedMs,
  };
}
