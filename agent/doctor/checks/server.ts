import type { DoctorCheck } from "../../../shared/schemas/doctor";
import { codeOf, fail, pass, reasonOf } from "../report";

/** Every network check gives up after this: a doctor that hangs tells nobody anything. */
export const NETWORK_TIMEOUT_MS = 5_000;

const CHANGE_SERVER = "kai-agent login --server URL saves another address";

/** Node's TLS verify codes: a failed fetch with one of these failed at the certificate. */
const TLS_CODE = /CERT|SELF_SIGNED|TLS|SSL|UNABLE_TO_(VERIFY|GET)/;

export interface ServerResult {
  check: DoctorCheck;
  /** The server answered /health: the checks that talk to it can run. */
  reachable: boolean;
  /** The server's clock from the answer's Date header (second precision), and ours at the answer. */
  date?: { serverMs: number; localMs: number };
}

/** GET SERVER/health: the address is right, the network lets kai-agent through, and it is Kai that answers. */
export async function checkServer(server: URL): Promise<ServerResult> {
  const health = new URL("/health", server);
  let response: Response;
  try {
    response = await fetch(health, { signal: AbortSignal.timeout(NETWORK_TIMEOUT_MS), redirect: "manual" });
  } catch (error) {
    return { check: unreachable(server, error), reachable: false };
  }
  const localMs = Date.now();
  const serverMs = Date.parse(response.headers.get("date") ?? "");
  const date = Number.isNaN(serverMs) ? {} : { date: { serverMs, localMs } };
  const body = (await response.json().catch(() => undefined)) as { status?: unknown } | undefined;
  if (response.status === 200 && body?.status === "ok")
    return { check: pass("server", `${health.origin} answered /health`), reachable: true, ...date };
  const location = response.headers.get("location");
  const redirect = location ? ` (a redirect to ${location})` : "";
  return {
    check: fail(
      "server",
      `${health.origin} answered /health with HTTP ${response.status}${redirect}, not as Kai does`,
      `check that this is your Kai server's address (its origin, e.g. https://kai.example.com); ${CHANGE_SERVER}`,
    ),
    reachable: false,
    ...date,
  };
}

function unreachable(server: URL, error: unknown): DoctorCheck {
  const code = codeOf(error);
  const where = `${server.hostname}:${server.port || (server.protocol === "https:" ? 443 : 80)}`;
  if (code === "ECONNREFUSED")
    return fail(
      "server",
      `nothing answers at ${where} (connection refused)`,
      `check the address and port, and that the server is up; ${CHANGE_SERVER}`,
    );
  if (code === "ENOTFOUND" || code === "EAI_AGAIN")
    return fail(
      "server",
      `${server.hostname} does not resolve (DNS: ${code})`,
      `check the address for typos, and this machine's network and DNS; ${CHANGE_SERVER}`,
    );
  if (code && TLS_CODE.test(code))
    return fail("server", `the TLS handshake failed (${code})`, "see the TLS line for the certificate's problem");
  if ((error as Error)?.name === "TimeoutError")
    return fail(
      "server",
      `${where} did not answer within ${NETWORK_TIMEOUT_MS / 1000} s`,
      "check this machine's network, firewall and proxy (kai-agent needs outgoing HTTPS to the server)",
    );
  return fail(
    "server",
    `cannot reach ${where}: ${reasonOf(error)}`,
    `check the address, and this machine's network; ${CHANGE_SERVER}`,
  );
}
