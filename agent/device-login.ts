import os from "node:os";
import type { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { deviceCode, deviceToken } from "../shared/schemas/device";
import { ConfigError, checkToken, defaultConfigFile } from "./config";
import { saveLogin } from "./login";

/**
 * `kai-agent login` without a token: RFC 8628's device authorization grant, as `gh auth
 * login` does it. The agent asks the edge for a code, prints it with the URL where a signed-in
 * person approves it, and polls until then; only the approval's answer carries a token, which
 * is saved (0600, other keys kept) and never printed. Ctrl-C before that leaves nothing saved:
 * nothing is written until the token is in hand.
 */
export async function deviceLogin(
  command: { server: string; configFile: string; name?: string },
  io: { stderr: Writable },
): Promise<void> {
  const say = (text: string) => io.stderr.write(`${text}\n`);
  const issued = await askForCodes(command, say);
  if (issued.status !== 201) throw new ConfigError(`could not start the login: ${problemText(issued)}`);
  const codes = parsed(deviceCode, issued.body);
  const deadline = Date.now() + codes.expiresIn * 1000;
  say(
    [
      "",
      "  To connect this machine to Kai, open this page (signed in, on any device):",
      "",
      `      ${codes.verificationUriComplete}`,
      "",
      `  and check that it shows the code   ${codes.userCode}`,
      "",
      `  The code expires in ${minutes(codes.expiresIn)}. Waiting for approval…`,
      "  (Ctrl-C cancels; nothing is saved until then)",
      "",
    ].join("\n"),
  );

  const expired = () =>
    new ConfigError(
      `the code ${codes.userCode} expired before anyone approved it; nothing was saved. ` +
        `Run kai-agent login --server ${command.server} again`,
    );
  let waitSeconds = codes.interval;
  for (;;) {
    await sleep(waitSeconds * 1000);
    // The deadline is checked after a poll, never instead of one: the poll just past it still
    // collects a login approved in the code's last seconds (the edge extends an approved one).
    const past = Date.now() >= deadline;
    waitSeconds = codes.interval;
    let answer: Answer;
    try {
      answer = await post(command.server, "/api/v1/device/token", { deviceCode: codes.deviceCode });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      if (past) throw expired();
      // A dropped network is no reason to give up a code that is still good: try again next interval.
      say(`kai-agent: ${error.message}; trying again`);
      continue;
    }
    if (answer.status === 403)
      throw new ConfigError(`the login was denied in the dashboard; nothing was saved (${problemText(answer)})`);
    if (past && answer.status !== 200) throw expired();
    if (answer.status === 429) {
      // RFC 8628's slow_down: the edge says how long; never come back sooner than the interval.
      waitSeconds = Math.max(codes.interval, Number(answer.retryAfter) || codes.interval);
      continue;
    }
    if (answer.status >= 500) continue;
    if (answer.status !== 200) throw new ConfigError(`the login ended: ${problemText(answer)}; nothing was saved`);
    const result = parsed(deviceToken, answer.body);
    if (result.status === "pending") {
      if (past) throw expired();
      continue;
    }
    const token = checkToken(result.token, "the server's answer");
    await saveLogin(command.configFile, command.server, token);
    const next = command.configFile === defaultConfigFile() ? "kai-agent" : `kai-agent --config ${command.configFile}`;
    say(
      `kai-agent: approved: this machine is the host "${result.host.name}". Saved its token for ` +
        `${command.server} in ${command.configFile} (readable by you only); now run: ${next}`,
    );
    return;
  }
}

/** Tries when the edge answers 429 to a new code before giving up. */
const CODE_ATTEMPTS = 4;
/** The longest wait for a code the agent accepts from Retry-After (the edge's window is a minute). */
const MAX_CODE_WAIT_SECONDS = 90;

/**
 * Asks for the codes. A 429 is waited out (Retry-After) a few times, saying so: without a
 * trusted client-IP header every anonymous caller of a self-hosted edge shares one bucket, so
 * another machine's logins must slow this one, not fail it.
 */
async function askForCodes(command: { server: string; name?: string }, say: (text: string) => void): Promise<Answer> {
  const body = {
    ...(command.name ? { name: command.name } : {}),
    hostname: os.hostname(),
    os: process.platform,
    arch: process.arch,
  };
  for (let attempt = 1; ; attempt++) {
    const answer = await post(command.server, "/api/v1/device/codes", body);
    if (answer.status !== 429 || attempt >= CODE_ATTEMPTS) return answer;
    const wait = Math.min(MAX_CODE_WAIT_SECONDS, Math.max(1, Number(answer.retryAfter) || 10));
    say(`kai-agent: ${command.server} is handing out too many login codes right now; asking again in ${wait} s`);
    await sleep(wait * 1000);
  }
}

interface Answer {
  status: number;
  body: unknown;
  retryAfter: string | null;
}

async function post(server: string, route: string, body: unknown): Promise<Answer> {
  let response: Response;
  try {
    response = await fetch(new URL(route, server), {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
    throw new ConfigError(`cannot reach ${server} (${cause}); check the URL and the network`);
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, body: json, retryAfter: response.headers.get("retry-after") };
}

/** The edge's RFC 7807 `detail`, or the status when the answer is not one (a proxy's page, say). */
function problemText(answer: Answer): string {
  const detail = z.object({ detail: z.string() }).safeParse(answer.body);
  return detail.success ? detail.data.detail : `HTTP ${answer.status}; is --server Kai's address?`;
}

function parsed<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success)
    throw new ConfigError("the server's answer is not Kai's device login; is --server Kai's address?");
  return result.data;
}

function minutes(seconds: number): string {
  return seconds >= 120 ? `${Math.round(seconds / 60)} minutes` : `${seconds} seconds`;
}
