import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, parseCommand, USAGE } from "./config";
import { saveLogin } from "./login";

const TOKEN = "kai_agent_0123456789abcdefABCDEF-_xyz";
let tmp: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  tmp = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "kai-config-")));
  // No config file of the machine running the tests can leak in.
  env = { XDG_CONFIG_HOME: path.join(tmp, "xdg") };
});

afterAll(async () => {
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

async function write(name: string, text: string, mode: number): Promise<string> {
  const file = path.join(tmp, name);
  await fs.writeFile(file, text);
  await fs.chmod(file, mode);
  return file;
}

async function refusal(argv: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<string> {
  const error = await parseCommand(argv, { ...env, ...extraEnv }).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).message;
}

describe("the agent token never comes from the command line or the environment", () => {
  it("refuses --token, naming login and --token-file", async () => {
    const message = await refusal(["--server", "https://kai.example.com", "--token", TOKEN]);
    expect(message).toContain("--token is no longer accepted");
    expect(message).toContain("kai-agent login --server URL");
    expect(message).toContain("--token-file FILE");
    expect(message).not.toContain(TOKEN);
  });

  it("refuses KAI_TOKEN, naming login and --token-file", async () => {
    const message = await refusal(["--server", "https://kai.example.com"], { KAI_TOKEN: TOKEN });
    expect(message).toContain("KAI_TOKEN is no longer read");
    expect(message).toContain("kai-agent login --server URL");
    expect(message).toContain("--token-file FILE");
  });

  it("says how to give the token when there is none", async () => {
    expect(await refusal(["--server", "https://kai.example.com"])).toContain("kai-agent login --server URL");
  });
});

describe("--token-file", () => {
  it("reads the token from a 0600 file, trailing newline and all", async () => {
    const file = await write("token-ok", `${TOKEN}\n`, 0o600);
    const command = await parseCommand(["--server", "https://kai.example.com", "--token-file", file], env);
    expect(command).toMatchObject({ kind: "run", config: { server: "https://kai.example.com", token: TOKEN } });
  });

  it.each([0o644, 0o640, 0o604, 0o660])(
    "refuses a token file with mode %o, with the exact chmod to run",
    async (mode) => {
      const file = await write(`token-${mode.toString(8)}`, TOKEN, mode);
      const message = await refusal(["--server", "https://kai.example.com", "--token-file", file]);
      expect(message).toContain(`run: chmod 600 ${file}`);
      expect(message).toContain(`(0${mode.toString(8)})`);
    },
  );

  it("quotes a path with spaces in the chmod it suggests", async () => {
    const file = await write("my token", TOKEN, 0o644);
    expect(await refusal(["--server", "https://kai.example.com", "--token-file", file])).toContain(
      `run: chmod 600 '${file}'`,
    );
  });

  it("refuses a file that does not hold an agent token", async () => {
    const file = await write("token-api", "kai_api_not_an_agent_token", 0o600);
    expect(await refusal(["--server", "https://kai.example.com", "--token-file", file])).toContain(
      "does not hold an agent token (kai_agent_…)",
    );
  });

  it("names a missing token file", async () => {
    expect(await refusal(["--server", "https://kai.example.com", "--token-file", path.join(tmp, "nope")])).toContain(
      "cannot read the token file",
    );
  });
});

describe("the config file", () => {
  it("gives server and token when it is 0600", async () => {
    const file = await write(
      "agent-ok.json",
      JSON.stringify({ server: "https://kai.example.com", token: TOKEN, policy: "/etc/kai/policy.json" }),
      0o600,
    );
    const command = await parseCommand(["--config", file], env);
    expect(command).toMatchObject({
      kind: "run",
      config: { server: "https://kai.example.com", token: TOKEN, policyFile: "/etc/kai/policy.json" },
    });
  });

  it("is refused when it holds a token and others can read it", async () => {
    const file = await write(
      "agent-open.json",
      JSON.stringify({ server: "https://kai.example.com", token: TOKEN }),
      0o644,
    );
    expect(await refusal(["--config", file])).toContain(`run: chmod 600 ${file}`);
  });

  it("may be world-readable when the token comes from --token-file", async () => {
    const config = await write("agent-no-token.json", JSON.stringify({ server: "https://kai.example.com" }), 0o644);
    const token = await write("token-for-config", TOKEN, 0o400);
    expect(await parseCommand(["--config", config, "--token-file", token], env)).toMatchObject({
      config: { server: "https://kai.example.com", token: TOKEN },
    });
  });
});

describe("kai-agent login", () => {
  it("parses --server and --config, and needs no token argument: the device login by default", async () => {
    expect(await parseCommand(["login", "--server", "https://kai.example.com/"], env)).toEqual({
      kind: "login",
      server: "https://kai.example.com",
      configFile: path.join(tmp, "xdg", "kai", "agent.json"),
      withToken: false,
    });
    expect(await parseCommand(["login", "--server", "https://kai.example.com", "--name", "laptop"], env)).toEqual({
      kind: "login",
      server: "https://kai.example.com",
      configFile: path.join(tmp, "xdg", "kai", "agent.json"),
      withToken: false,
      name: "laptop",
    });
    expect(await parseCommand(["login", "--server", "https://kai.example.com", "--with-token"], env)).toMatchObject({
      kind: "login",
      withToken: true,
    });
  });

  it("refuses a token given as an argument, saying --with-token reads it from stdin", async () => {
    expect(await refusal(["login", "--server", "https://kai.example.com", "--token", TOKEN])).toContain(
      "login --with-token reads it from stdin",
    );
    expect(await refusal(["login", "--server", "https://kai.example.com", TOKEN])).toContain(
      "login --with-token reads it from stdin",
    );
    expect(await refusal(["login", "--server", "https://kai.example.com", "--with-token", "--name", "x"])).toContain(
      "--name is for the device login",
    );
  });

  it("needs a server", async () => {
    expect(await refusal(["login"])).toContain("login needs --server URL");
    expect(await refusal(["login", "--server", "kai.example.com"])).toContain("must be an http(s) URL");
  });

  it("writes {server, token} with mode 0600, keeping the file's other keys, and tightens an open file", async () => {
    const file = await write(
      "login-keep.json",
      JSON.stringify({
        policy: "/etc/kai/policy.json",
        dockerSocket: "/run/docker.sock",
        server: "https://old.example.com",
      }),
      0o644,
    );
    await saveLogin(file, "https://kai.example.com", TOKEN);
    expect(JSON.parse(await fs.readFile(file, "utf8"))).toEqual({
      policy: "/etc/kai/policy.json",
      dockerSocket: "/run/docker.sock",
      server: "https://kai.example.com",
      token: TOKEN,
    });
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    // And the agent then starts from that file alone.
    expect(await parseCommand(["--config", file], env)).toMatchObject({
      kind: "run",
      config: { server: "https://kai.example.com", token: TOKEN },
    });
  });

  it("leaves an invalid config file alone rather than overwrite it", async () => {
    const file = await write("login-broken.json", "{ not json", 0o600);
    await expect(saveLogin(file, "https://kai.example.com", TOKEN)).rejects.toThrow(/not valid JSON; fix or remove it/);
    expect(await fs.readFile(file, "utf8")).toBe("{ not json");
  });

  /** The real CLI, the token piped to stdin, its config under a fresh XDG_CONFIG_HOME. */
  function cli(args: string[], stdin: string, xdg: string): Promise<{ code: number; stderr: string }> {
    return new Promise((resolve) => {
      const child = execFile(
        process.execPath,
        ["--import", "tsx", path.join(import.meta.dirname, "cli.ts"), ...args],
        { env: { PATH: process.env.PATH, HOME: tmp, XDG_CONFIG_HOME: xdg }, cwd: path.join(import.meta.dirname, "..") },
        (error, _stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stderr }),
      );
      child.stdin?.end(stdin);
    });
  }

  it("reads the token from stdin and saves it where a bare kai-agent finds it", async () => {
    const xdg = path.join(tmp, "xdg-login");
    const { code, stderr } = await cli(["login", "--server", "http://127.0.0.1:9", "--with-token"], `${TOKEN}\n`, xdg);
    expect(stderr).toContain("now run: kai-agent");
    expect(code).toBe(0);
    const file = path.join(xdg, "kai", "agent.json");
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await fs.readFile(file, "utf8"))).toEqual({ server: "http://127.0.0.1:9", token: TOKEN });
    expect(await parseCommand([], { XDG_CONFIG_HOME: xdg })).toMatchObject({
      kind: "run",
      config: { server: "http://127.0.0.1:9", token: TOKEN },
    });
  });

  it("refuses what is not an agent token on stdin, and empty input", async () => {
    const xdg = path.join(tmp, "xdg-login-bad");
    const wrong = await cli(["login", "--server", "http://127.0.0.1:9", "--with-token"], "kai_pat_something\n", xdg);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("does not hold an agent token");
    const empty = await cli(["login", "--server", "http://127.0.0.1:9", "--with-token"], "", xdg);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("no token on stdin");
    await expect(fs.stat(path.join(xdg, "kai", "agent.json"))).rejects.toThrow(/ENOENT/);
  });
});

/**
 * Drives a command on a real pseudo-terminal (Python's pty module): waits for the prompt,
 * types `TYPED` and Enter, and prints everything the terminal showed.
 */
const PTY_DRIVER = `
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execvpe(sys.argv[1], sys.argv[1:], os.environ)
out = b""
def read(until=None, timeout=60):
    global out
    end = time.time() + timeout
    while time.time() < end and (until is None or until not in out):
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return
        if not chunk:
            return
        out += chunk
read(b"input hidden")
os.write(fd, os.environ["TYPED"].encode() + b"\\r")
read()
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode("utf8", "replace"))
sys.exit(os.waitstatus_to_exitcode(status))
`;

describe("kai-agent login at a terminal", () => {
  it("asks for the token without echoing it, and saves it", async () => {
    const driver = path.join(tmp, "drive_tty.py");
    await fs.writeFile(driver, PTY_DRIVER);
    const xdg = path.join(tmp, "xdg-tty");
    const cliFile = path.join(import.meta.dirname, "cli.ts");
    const shown = await new Promise<{ code: number; text: string }>((resolve) => {
      execFile(
        "python3",
        [
          driver,
          process.execPath,
          "--import",
          "tsx",
          cliFile,
          "login",
          "--server",
          "http://127.0.0.1:9",
          "--with-token",
        ],
        {
          env: { PATH: process.env.PATH, HOME: tmp, XDG_CONFIG_HOME: xdg, TYPED: TOKEN },
          cwd: path.join(import.meta.dirname, ".."),
        },
        (error, stdout) => resolve({ code: error ? Number(error.code ?? 1) : 0, text: stdout }),
      );
    });
    expect(shown.text).toContain("Agent token (kai_agent_…, input hidden):");
    expect(shown.text).toContain("now run: kai-agent");
    expect(shown.text).not.toContain(TOKEN);
    expect(shown.code).toBe(0);
    expect(JSON.parse(await fs.readFile(path.join(xdg, "kai", "agent.json"), "utf8"))).toEqual({
      server: "http://127.0.0.1:9",
      token: TOKEN,
    });
  });
});

describe("--help", () => {
  it("shows login (device and --with-token) and --token-file, and no --token", () => {
    expect(USAGE).toContain("kai-agent login --server URL");
    expect(USAGE).toContain("--with-token");
    expect(USAGE).toContain("--token-file FILE");
    expect(USAGE).not.toMatch(/--token\s/);
    expect(USAGE).not.toContain("KAI_TOKEN");
  });
});
