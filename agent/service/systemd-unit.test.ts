import { describe, expect, it } from "vitest";
import { systemdQuote, systemdUnit } from "./systemd-unit";

describe("systemdQuote", () => {
  it("quotes by systemd's rules: C escapes, %% for specifiers, $$ in command lines only", () => {
    expect(systemdQuote("/home/a b/kai", { commandLine: true })).toBe('"/home/a b/kai"');
    expect(systemdQuote('a"b\\c', { commandLine: true })).toBe('"a\\"b\\\\c"');
    expect(systemdQuote("100%h$HOME", { commandLine: true })).toBe('"100%%h$$HOME"');
    expect(systemdQuote("X=100%h$HOME", { commandLine: false })).toBe('"X=100%%h$HOME"');
  });

  it("refuses what no unit line can hold", () => {
    expect(() => systemdQuote("/a\nb", { commandLine: true })).toThrow(/control character/);
  });
});

describe("systemdUnit", () => {
  const unit = systemdUnit({
    node: "/usr/bin/node",
    bundle: "/home/u/.local/share/kai/kai-agent.mjs",
    config: "/home/u/.config/kai/agent.json",
    environment: { XDG_CONFIG_HOME: "/home/u/cfg" },
  });
  const lines = unit.split("\n");

  it("runs the absolute node on the bundle with the config, and passes no secret", () => {
    expect(lines).toContain(
      'ExecStart="/usr/bin/node" "/home/u/.local/share/kai/kai-agent.mjs" "--config" "/home/u/.config/kai/agent.json"',
    );
    expect(lines).toContain('Environment="XDG_CONFIG_HOME=/home/u/cfg"');
    expect(unit).not.toMatch(/kai_agent_|token=/i);
  });

  it("restarts on failure but not after the agent's final endings, and starts with the user's manager", () => {
    expect(lines).toContain("Restart=on-failure");
    expect(lines).toContain("RestartSec=5");
    expect(lines).toContain("RestartPreventExitStatus=2 3");
    expect(lines).toContain("WantedBy=default.target");
  });
});
