import type Docker from "dockerode";
import type { DoctorCheck, DoctorReport } from "../../shared/schemas/doctor";
import { checkClock } from "./checks/clock";
import { checkDocker } from "./checks/docker";
import { checkNode } from "./checks/node";
import { checkPolicy } from "./checks/policy";
import { checkRoundTrip } from "./checks/round-trip";
import { checkServer } from "./checks/server";
import { checkTls } from "./checks/tls";
import { checkToken } from "./checks/token";
import { fail, pass, reportOf, skip } from "./report";

/** What the doctor checks with: kai-agent's own settings, as far as they could be read. */
export interface DoctorSettings {
  server: string | undefined;
  token: string | undefined;
  policyFile: string | undefined;
  dockerSocket: string | undefined;
  /**
   * Why kai-agent would refuse to start with this configuration (its own words), or
   * undefined. The other checks still run with whatever could be read.
   */
  configProblem?: string | undefined;
  /** Run inside the agent because the edge asked through its connection. */
  relayed: boolean;
  /** The running agent's own Docker client, when relayed; the CLI makes one from dockerSocket. */
  docker?: Docker | undefined;
}

const LOGIN = "run kai-agent login --server URL (or pass --server URL)";

/**
 * Runs every check in order and never throws: a check that cannot run is a `skip` that says
 * why. The order follows the path of a request: configuration, network, identity, then the
 * machine's own pieces, and last the whole path through the edge.
 */
export async function runDoctor(settings: DoctorSettings): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  checks.push(
    settings.configProblem
      ? fail(
          "config",
          settings.configProblem,
          "kai-agent refuses to start with this configuration: do what the line says",
        )
      : pass(
          "config",
          settings.relayed ? "the running agent's configuration" : "kai-agent would start with this configuration",
        ),
  );

  let server: URL | undefined;
  try {
    server = settings.server ? new URL(settings.server) : undefined;
  } catch {
    server = undefined;
  }
  let tokenValid = false;
  if (!server) {
    const detail = settings.server ? `${settings.server} is not a URL` : "no server is configured";
    checks.push(fail("server", detail, LOGIN), skip("tls", "no server to check"));
    checks.push(
      settings.token
        ? skip("token", "not checked: no server to ask")
        : fail("token", "no agent token is configured", LOGIN),
      skip("clock", "not checked: no server to compare with"),
    );
  } else {
    const [reached, tls] = await Promise.all([checkServer(server), checkTls(server)]);
    checks.push(reached.check, tls);
    const token = await checkToken(server, settings.token, reached.reachable);
    checks.push(token.check);
    tokenValid = token.check.status === "pass";
    checks.push(checkClock(clockSample(token, reached.date)));
  }

  checks.push(await checkDocker(settings.dockerSocket, settings.docker));
  checks.push(...(await checkPolicy(settings.policyFile)));
  checks.push(checkNode());
  checks.push(
    server
      ? await checkRoundTrip(server, settings.token, { tokenValid, relayed: settings.relayed })
      : skip("round-trip", "not checked: no server"),
  );
  return reportOf(checks);
}

/** The server's time: whoami's (milliseconds), else the /health answer's Date header (seconds). */
function clockSample(
  token: Awaited<ReturnType<typeof checkToken>>,
  date: { serverMs: number; localMs: number } | undefined,
) {
  const serverMs = token.whoami ? Date.parse(token.whoami.serverTime) : Number.NaN;
  if (!Number.isNaN(serverMs) && token.sentMs !== undefined && token.receivedMs !== undefined)
    return { serverMs, before: token.sentMs, after: token.receivedMs, precisionMs: 0 };
  if (date) return { serverMs: date.serverMs + 500, before: date.localMs, after: date.localMs, precisionMs: 500 };
  return undefined;
}
