import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settingsHandlers } from "../../agent/handlers/settings";
import { call, kaiError, type WorkspaceWorld, workspaceWorld } from "../support/workspace-handlers";

/** settings.read and settings.write on real files: sections, merging, validation, atomic writes, confinement. */

let world: WorkspaceWorld;
let n = 0;

beforeAll(async () => {
  world = await workspaceWorld("settings");
});
afterAll(async () => {
  await world?.cleanup();
});

/** A fresh workspace directory per test, inside the allowed root. */
async function workspace(): Promise<string> {
  const dir = path.join(world.root, `w${n++}`);
  await fs.mkdir(dir);
  return dir;
}

const read = (root: string, section: "settings" | "hooks" | "mcp") =>
  call(settingsHandlers, "settings.read", { root, section }, world.ctx());
const write = (root: string, section: "settings" | "hooks" | "mcp", value: Record<string, unknown>) =>
  call(settingsHandlers, "settings.write", { root, section, value }, world.ctx());
const fileText = (root: string, file: string) => fs.readFile(path.join(root, file), "utf8");
const fileJson = async (root: string, file: string) =>
  JSON.parse(await fileText(root, file)) as Record<string, unknown>;

const HOOKS = {
  PreToolUse: [
    {
      matcher: "Bash",
      hooks: [{ type: "command", command: "./check.sh", timeout: 10, extra: "kept" }],
      note: "kept too",
    },
  ],
};
const SERVERS = {
  files: { command: "npx", args: ["-y", "server-files"] },
  remote: { type: "http", url: "https://mcp.example.com/x", headers: { Authorization: "Bearer t" } },
};

describe("settings.read", () => {
  it("reads every section of a workspace without files as empty", async () => {
    const root = await workspace();
    for (const section of ["settings", "hooks", "mcp"] as const) {
      expect(await read(root, section)).toEqual({ section, value: {}, exists: false });
    }
  });

  it("reads the whole settings, its hooks key and .mcp.json's servers", async () => {
    const root = await workspace();
    await fs.mkdir(path.join(root, ".claude"));
    const settings = { model: "opus", hooks: HOOKS, custom: { a: 1 } };
    await fs.writeFile(path.join(root, ".claude/settings.json"), JSON.stringify(settings));
    await fs.writeFile(path.join(root, ".mcp.json"), JSON.stringify({ mcpServers: SERVERS, other: true }));
    expect(await read(root, "settings")).toEqual({ section: "settings", value: settings, exists: true });
    expect(await read(root, "hooks")).toEqual({ section: "hooks", value: HOOKS, exists: true });
    expect(await read(root, "mcp")).toEqual({ section: "mcp", value: SERVERS, exists: true });
  });

  it("refuses a file that is not valid JSON, naming it", async () => {
    const root = await workspace();
    await fs.mkdir(path.join(root, ".claude"));
    await fs.writeFile(path.join(root, ".claude/settings.json"), "{ broken");
    await fs.writeFile(path.join(root, ".mcp.json"), "[1, 2]");
    for (const section of ["settings", "hooks"] as const) {
      const error = await kaiError(read(root, section));
      expect(error.code).toBe("VALIDATION_ERROR");
      expect(error.message).toContain(".claude/settings.json");
    }
    const error = await kaiError(read(root, "mcp"));
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.message).toContain(".mcp.json");
  });
});

describe("settings.write", () => {
  it("writes settings as pretty JSON with a trailing newline, creating .claude, keeping unknown keys", async () => {
    const root = await workspace();
    const value = {
      model: "sonnet",
      permissions: { allow: ["Bash(npm test)"], defaultMode: "plan" },
      futureKey: { nested: [1, 2] },
    };
    expect(await write(root, "settings", value)).toEqual({ section: "settings", value });
    expect(await fileText(root, ".claude/settings.json")).toBe(`${JSON.stringify(value, null, 2)}\n`);
    expect(await read(root, "settings")).toEqual({ section: "settings", value, exists: true });
    // PUT semantics: the object is replaced as sent.
    await write(root, "settings", { model: "opus" });
    expect(await fileJson(root, ".claude/settings.json")).toEqual({ model: "opus" });
  });

  it("writes hooks into settings.json, leaving every other key untouched", async () => {
    const root = await workspace();
    await fs.mkdir(path.join(root, ".claude"));
    await fs.writeFile(
      path.join(root, ".claude/settings.json"),
      JSON.stringify({ model: "opus", hooks: { Stop: [] }, unknown: { x: 1 } }),
    );
    expect(await write(root, "hooks", HOOKS)).toEqual({ section: "hooks", value: HOOKS });
    expect(await fileJson(root, ".claude/settings.json")).toEqual({ model: "opus", hooks: HOOKS, unknown: { x: 1 } });
    expect(await read(root, "hooks")).toEqual({ section: "hooks", value: HOOKS, exists: true });
  });

  it("writes MCP servers into .mcp.json, keeping its other keys", async () => {
    const root = await workspace();
    expect(await write(root, "mcp", SERVERS)).toEqual({ section: "mcp", value: SERVERS });
    expect(await fileJson(root, ".mcp.json")).toEqual({ mcpServers: SERVERS });
    await fs.writeFile(path.join(root, ".mcp.json"), JSON.stringify({ other: "kept", mcpServers: {} }));
    await write(root, "mcp", { one: { command: "one" } });
    expect(await fileJson(root, ".mcp.json")).toEqual({ other: "kept", mcpServers: { one: { command: "one" } } });
  });

  it("refuses invalid input with the issues, writing nothing", async () => {
    const root = await workspace();
    await fs.mkdir(path.join(root, ".claude"));
    const before = `${JSON.stringify({ model: "opus" })}\n`;
    await fs.writeFile(path.join(root, ".claude/settings.json"), before);
    const cases: Array<["settings" | "hooks" | "mcp", Record<string, unknown>]> = [
      ["settings", { model: 42 }],
      ["settings", { permissions: { allow: "everything" } }],
      ["hooks", { PreToolUse: [{ hooks: [{ type: "command", command: "" }] }] }],
      ["hooks", { PreToolUse: "not a list" }],
      ["mcp", { "bad name!": { command: "x" } }],
      ["mcp", { remote: { type: "http", url: "not a url" } }],
    ];
    for (const [section, value] of cases) {
      const error = await kaiError(write(root, section, value));
      expect(error.code, JSON.stringify(value)).toBe("VALIDATION_ERROR");
      expect(error.details?.issues, JSON.stringify(value)).toEqual(expect.arrayContaining([expect.any(String)]));
    }
    expect(await fileText(root, ".claude/settings.json")).toBe(before);
    expect(existsSync(path.join(root, ".mcp.json"))).toBe(false);
    expect(await fs.readdir(path.join(root, ".claude"))).toEqual(["settings.json"]);
  });

  it("never overwrites a file it cannot parse", async () => {
    const root = await workspace();
    await fs.writeFile(path.join(root, ".mcp.json"), "{ hand-edited, broken");
    const error = await kaiError(write(root, "mcp", SERVERS));
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.message).toContain(".mcp.json");
    expect(await fileText(root, ".mcp.json")).toBe("{ hand-edited, broken");
  });

  it("writes atomically: no temp files left, the file's mode kept, concurrent section writes all land", async () => {
    const root = await workspace();
    await fs.mkdir(path.join(root, ".claude"));
    await fs.writeFile(path.join(root, ".claude/settings.json"), '{"model":"old"}\n', { mode: 0o600 });
    await fs.chmod(path.join(root, ".claude/settings.json"), 0o600);
    await Promise.all([
      write(root, "hooks", HOOKS),
      write(root, "settings", { model: "a" }),
      write(root, "hooks", { Stop: [] }),
      write(root, "mcp", SERVERS),
    ]);
    expect(await fs.readdir(path.join(root, ".claude"))).toEqual(["settings.json"]);
    expect((await fs.readdir(root)).sort()).toEqual([".claude", ".mcp.json"]);
    expect((await fs.stat(path.join(root, ".claude/settings.json"))).mode & 0o777).toBe(0o600);
    // One write at a time per file, so the result is that of some serial order: the
    // replacing settings write is never undone by a hooks write that read the old file.
    expect([{ model: "a" }, { model: "a", hooks: HOOKS }, { model: "a", hooks: { Stop: [] } }]).toContainEqual(
      await fileJson(root, ".claude/settings.json"),
    );
  });

  it("refuses a .claude that is a symlink leading out of the workspace, reading or writing", async () => {
    const root = await workspace();
    const target = path.join(world.outside, "claude");
    await fs.mkdir(target);
    await fs.writeFile(path.join(target, "settings.json"), '{"secret":true}');
    await fs.symlink(target, path.join(root, ".claude"));
    await fs.symlink(path.join(world.outside, "mcp.json"), path.join(root, ".mcp.json"));
    expect((await kaiError(read(root, "settings"))).code).toBe("PERMISSION_DENIED");
    expect((await kaiError(write(root, "hooks", HOOKS))).code).toBe("PERMISSION_DENIED");
    expect((await kaiError(write(root, "mcp", SERVERS))).code).toBe("PERMISSION_DENIED");
    expect(await fs.readFile(path.join(target, "settings.json"), "utf8")).toBe('{"secret":true}');
    expect(await fs.readdir(target)).toEqual(["settings.json"]);
    expect(existsSync(path.join(world.outside, "mcp.json"))).toBe(false);
  });

  it("refuses a workspace outside the allowed roots", async () => {
    expect((await kaiError(write(world.outside, "settings", {}))).code).toBe("PERMISSION_DENIED");
  });
});
