import fs from "node:fs/promises";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import type { ReadStream } from "node:tty";
import { ConfigError, checkToken, defaultConfigFile, parseConfigText } from "./config";

/**
 * `kai-agent login`: takes this host's agent token from stdin — asked for without echo at a
 * terminal, read whole from a pipe — and saves it with the server in the config file, mode
 * 0600, keeping the file's other keys. The token never passes through the command line or
 * the environment, which other processes (and every script the agent runs) can read.
 */
export async function login(
  command: { server: string; configFile: string },
  io: { stdin: Readable; stderr: Writable },
): Promise<void> {
  const token = checkToken(await readToken(io.stdin, io.stderr), "the input");
  await saveLogin(command.configFile, command.server, token);
  const next = command.configFile === defaultConfigFile() ? "kai-agent" : `kai-agent --config ${command.configFile}`;
  io.stderr.write(
    `kai-agent: saved the token for ${command.server} in ${command.configFile} (readable by you only); now run: ${next}\n`,
  );
}

/** Far above any token: a pipe that keeps going is not a token. */
const MAX_INPUT_BYTES = 4096;

async function readToken(stdin: Readable, stderr: Writable): Promise<string> {
  const tty = stdin as Partial<ReadStream>;
  if (tty.isTTY && typeof tty.setRawMode === "function")
    return (await promptHidden(stdin as ReadStream, stderr, "Agent token (kai_agent_…, input hidden): ")).trim();
  let text = "";
  for await (const chunk of stdin) {
    text += typeof chunk === "string" ? chunk : (chunk as Buffer).toString("utf8");
    if (text.length > MAX_INPUT_BYTES)
      throw new ConfigError("the input is far too long for an agent token; pipe in the token alone");
  }
  text = text.trim();
  if (!text)
    throw new ConfigError(
      "no token on stdin: run kai-agent login --with-token at a terminal and paste it when asked, or pipe it in (kai-agent login --server URL --with-token < FILE)",
    );
  return text;
}

/** Reads one line at a terminal in raw mode, echoing nothing (a pasted token arrives in one piece). */
function promptHidden(input: ReadStream, output: Writable, prompt: string): Promise<string> {
  // Echo off before the prompt shows: input typed (or pasted) right after it must not echo.
  input.setRawMode(true);
  output.write(prompt);
  input.setEncoding("utf8");
  input.resume();
  let value = "";
  return new Promise((resolve, reject) => {
    const done = () => {
      input.off("data", onData);
      input.setRawMode(false);
      input.pause();
      output.write("\n");
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === "\r" || char === "\n" || char === "\u0004") {
          done();
          resolve(value);
          return;
        }
        if (char === "\u0003") {
          done();
          reject(new ConfigError("login cancelled; nothing was saved"));
          return;
        }
        if (char === "\u007f" || char === "\b") value = value.slice(0, -1);
        else if (char >= " ") value += char;
      }
    };
    input.on("data", onData);
  });
}

/**
 * Writes `{...existing, server, token}` to `file` through a new 0600 file renamed over it,
 * so the token is never in a file others can read, not even for a moment, and a crash
 * leaves the old file whole. An existing file that is not valid config is left alone (an
 * error), not overwritten.
 */
export async function saveLogin(file: string, server: string, token: string): Promise<void> {
  let existing = {};
  try {
    existing = parseConfigText(file, await fs.readFile(file, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      if (error instanceof ConfigError) throw new ConfigError(`${error.message}; fix or remove it, then log in again`);
      throw new ConfigError(`cannot read the config file ${file}: ${(error as Error).message}`);
    }
  }
  const directory = path.dirname(file);
  await fs.mkdir(directory, { recursive: true, mode: 0o700 });
  const temporary = path.join(directory, `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    await fs.writeFile(temporary, `${JSON.stringify({ ...existing, server, token }, null, 2)}\n`, {
      mode: 0o600,
      flag: "wx",
    });
    await fs.rename(temporary, file);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw new ConfigError(`cannot write the config file ${file}: ${(error as Error).message}`);
  }
}
