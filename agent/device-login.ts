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
  const issued = await post(command.server, "/api/v1/device/codes", {
    ...(command.name ? { name: command.name } : {}),
    hostname: os.hostname(),
    os: process.platform,
    arch: process.arch,
  });
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

  let waitSeconds = codes.interval;
  for (;;) {
    await sleep(waitSeconds * 1000);
    if (Date.now() >= deadline)
      throw new ConfigError(
        `the code ${codes.userCode} expired before anyone approved it; nothing was saved. ` +
          `Run kai-agent login --server ${command.server} again`,
      );
    waitSeconds = codes.interval;
    let answer: Answer;
    try {
      answer = await post(command.server, "/api/v1/device/token", { deviceCode: codes.deviceCode });
    } catch (error) {
      // A dropped network is no reason to give up a code that is still good: try again next interval.
      if (error instanceof ConfigError) say(`kai-agent: ${error.message}; trying again`);
      else throw error;
      continue;
    }
    if (answer.status === 429) {
      // RFC 8628's slow_down: the edge says how long; never come back sooner than the interval.
      waitSeconds = Math.max(codes.interval, Number(answer.retryAfter) || codes.interval);
      continue;
    }
    if (answer.status >= 500) continue;
    if (answer.status === 403)
      throw new ConfigError(`the login was denied in the dashboard; nothing was saved (${problemText(answer)})`);
    if (answer.status !== 200) throw new ConfigError(`the login ended: ${problemText(answer)}; nothing was saved`);
    const result = parsed(deviceToken, answer.body);
    if (result.status === "pending") continue;
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
