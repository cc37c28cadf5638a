import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { installCommand, installOrigin, installScript } from "./install-script";

/** Debian's /bin/sh, and bash: the script must work in both. */
const SHELLS = ["dash", "bash"];

function scriptFile(origin: string): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), "kai-install-sh-")), "install.sh");
  writeFileSync(file, installScript(origin));
  return file;
}

describe("installOrigin", () => {
  it("keeps only scheme, host and port", () => {
    expect(installOrigin("https://kai.example.com/")).toBe("https://kai.example.com");
    expect(installOrigin("http://127.0.0.1:8787/install.sh?x=1")).toBe("http://127.0.0.1:8787");
    expect(installOrigin("http://[::1]:8787/")).toBe("http://[::1]:8787");
    // A Compose service name: `_` is no sh syntax inside single quotes.
    expect(installOrigin("http://kai_edge:8787/")).toBe("http://kai_edge:8787");
  });

  it("refuses what could not be embedded in the script as a plain quoted word", () => {
    // WHATWG URLs allow quotes and $ in host names: each would be sh syntax inside the script.
    for (const url of ["http://ka'i.test/", "http://ka$i.test/", "http://ka`i`.test/", "ftp://kai.test/", "file:///x"])
      expect(() => installOrigin(url), url).toThrow(/not an origin/);
  });
});

describe("installScript", () => {
  it("embeds the origin single-quoted, and the line to paste names the same origin", () => {
    const script = installScript("https://kai.example.com/");
    expect(script).toContain("\nKAI_SERVER='https://kai.example.com'\n");
    expect(script).not.toContain("__KAI_SERVER__");
    expect(installCommand("https://kai.example.com/")).toBe("curl -fsSL https://kai.example.com/install.sh | sh");
    expect(installCommand("https://kai.example.com", "--with-token")).toBe(
      "curl -fsSL https://kai.example.com/install.sh | sh -s -- --with-token",
    );
  });

  it("parses as sh under dash and bash", () => {
    const file = scriptFile("http://127.0.0.1:8787");
    for (const shell of SHELLS) execFileSync(shell, ["-n", file]);
  });

  it("answers --help with its options, and refuses an unknown one before touching anything", () => {
    const file = scriptFile("http://127.0.0.1:8787");
    for (const shell of SHELLS) {
      const help = execFileSync(shell, [file, "--help"], { env: { HOME: "/nonexistent" } }).toString();
      expect(help).toContain("curl -fsSL http://127.0.0.1:8787/install.sh | sh -s -- [options]");
      expect(help).toMatch(/--name NAME[\s\S]*--with-token[\s\S]*--no-start/);
      expect(() => execFileSync(shell, [file, "--frobnicate"], { stdio: "pipe" })).toThrow(/unknown option/);
    }
  });

  it("cut short anywhere (a dropped curl | sh download), runs nothing at all", () => {
    // sh runs what it has read so far: every action is in main, called on the last line, so a
    // prefix ending before that line only defines functions (or is a syntax error).
    const home = mkdtempSync(path.join(os.tmpdir(), "kai-home-"));
    const script = installScript("http://127.0.0.1:9");
    const lines = script.split("\n");
    const last = lines.findLastIndex((line) => line.trim() !== "");
    expect(lines[last]).toBe('main "$@"');
    // Every fifth line and the one just before the call: a spread of places to be cut.
    for (const shell of SHELLS)
      for (const cut of [...Array.from({ length: Math.ceil(last / 5) }, (_, i) => i * 5 + 1), last - 1]) {
        const run = spawnSync(`/bin/${shell}`, ["-s"], {
          input: `${lines.slice(0, cut).join("\n")}\n`,
          env: { HOME: home, PATH: process.env.PATH ?? "/usr/bin:/bin" },
        });
        expect(run.stdout.toString(), `${shell}, cut after line ${cut}`).toBe("");
        expect(run.stderr.toString(), `${shell}, cut after line ${cut}`).not.toContain("kai-install:");
      }
    expect(readdirSync(home)).toEqual([]);
  });

  it("without curl or wget says to install one, before it downloads or writes anything", () => {
    // Fed on stdin as under curl | sh, with a PATH that holds neither (nor anything else).
    const home = mkdtempSync(path.join(os.tmpdir(), "kai-home-"));
    const empty = mkdtempSync(path.join(os.tmpdir(), "kai-path-"));
    for (const shell of SHELLS) {
      const run = () =>
        execFileSync(`/bin/${shell}`, ["-s"], {
          input: installScript("http://127.0.0.1:8787"),
          env: { HOME: home, PATH: empty },
          stdio: "pipe",
        });
      expect(run).toThrow(/this needs curl or wget to download kai-agent: install one/);
    }
    expect(readdirSync(home)).toEqual([]);
  });
});
