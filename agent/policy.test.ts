import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KaiError } from "../shared/errors";
import { checkContainerSecurity, confinePath, defaultPolicy, isInsideRoot, loadPolicy, type Policy } from "./policy";
import { agentProfileInfos, findAgentProfile } from "./runtime/acp/agent-profiles";

let tmp: string;
let root: string;
let policy: Policy;

beforeAll(async () => {
  tmp = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "kai-policy-")));
  root = path.join(tmp, "home", "user");
  await fs.mkdir(path.join(root, "project"), { recursive: true });
  await fs.mkdir(path.join(tmp, "home", "user2"), { recursive: true });
  await fs.symlink("/etc", path.join(root, "etc-link"));
  await fs.symlink("/nonexistent-kai", path.join(root, "dangling"));
  await fs.symlink(root, path.join(tmp, "root-link"));
  policy = { allowedRoots: [root], maxDirectoryEntries: 1000 };
});

afterAll(async () => {
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

function thrown(fn: () => unknown): KaiError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(KaiError);
    return error as KaiError;
  }
  throw new Error("expected a KaiError");
}

describe("isInsideRoot", () => {
  it("compares whole path segments", () => {
    expect(isInsideRoot("/home/user", "/home/user")).toBe(true);
    expect(isInsideRoot("/home/user", "/home/user/a/b")).toBe(true);
    expect(isInsideRoot("/home/user", "/home/user/..hidden")).toBe(true);
    expect(isInsideRoot("/home/user", "/home/user2")).toBe(false);
    expect(isInsideRoot("/home/user", "/home/user-evil/x")).toBe(false);
    expect(isInsideRoot("/home/user", "/home")).toBe(false);
    expect(isInsideRoot("/home/user", "/")).toBe(false);
    expect(isInsideRoot("/", "/anything/at/all")).toBe(true);
  });
});

describe("confinePath", () => {
  it("returns the real path of an existing path inside the root", async () => {
    expect(await confinePath(policy, root)).toBe(root);
    expect(await confinePath(policy, `${root}/project/../project/`)).toBe(path.join(root, "project"));
  });

  it("resolves a path that does not exist yet through its nearest existing ancestor", async () => {
    expect(await confinePath(policy, path.join(root, "new", "deeper"))).toBe(path.join(root, "new", "deeper"));
    expect(await confinePath(policy, path.join(tmp, "root-link", "new"))).toBe(path.join(root, "new"));
  });

  it("accepts a root given through a symlink", async () => {
    const viaLink: Policy = { allowedRoots: [path.join(tmp, "root-link")], maxDirectoryEntries: 10 };
    expect(await confinePath(viaLink, path.join(root, "project"))).toBe(path.join(root, "project"));
  });

  it.each([
    ["a sibling sharing the prefix", () => path.join(tmp, "home", "user2")],
    ["the parent", () => path.join(tmp, "home")],
    ["a .. escape", () => `${root}/project/../../user2`],
    ["a .. escape through a missing directory", () => `${root}/missing/../../user2`],
    ["a symlink out", () => path.join(root, "etc-link")],
    ["a new file below a symlink out", () => path.join(root, "etc-link", "new-file")],
    ["a dangling symlink", () => path.join(root, "dangling")],
    ["a new file below a dangling symlink", () => path.join(root, "dangling", "x")],
    ["a relative path", () => "home/user"],
    ["a NUL byte", () => `${root}/a\0b`],
    ["an empty path", () => ""],
  ])("refuses %s with PERMISSION_DENIED", async (_what, requested) => {
    await expect(confinePath(policy, requested())).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
  });

  it("names the allowed roots when refusing", async () => {
    await expect(confinePath(policy, "/etc")).rejects.toThrow(`/etc is outside the allowed roots (${root})`);
  });
});

describe("checkContainerSecurity", () => {
  it("accepts no options and harmless ones", () => {
    expect(() => checkContainerSecurity({})).not.toThrow();
    expect(() =>
      checkContainerSecurity({
        privileged: false,
        networkMode: "bridge",
        ipcMode: "private",
        capAdd: [],
        devices: [],
        extraBinds: [],
        securityOpt: ["no-new-privileges", "no-new-privileges:true"],
      }),
    ).not.toThrow();
  });

  it.each([
    [{ privileged: true }, "privileged"],
    [{ networkMode: "host" }, "networkMode"],
    [{ networkMode: "container:abc" }, "networkMode"],
    [{ pidMode: "host" }, "pidMode"],
    [{ ipcMode: "HOST" }, "ipcMode"],
    [{ utsMode: "host" }, "utsMode"],
    [{ usernsMode: "host" }, "usernsMode"],
    [{ capAdd: ["SYS_ADMIN"] }, "capAdd"],
    [{ devices: ["/dev/sda"] }, "devices"],
    [{ securityOpt: ["seccomp=unconfined"] }, "seccomp=unconfined"],
    [{ securityOpt: ["seccomp:unconfined"] }, "seccomp:unconfined"],
    [{ securityOpt: ["apparmor=unconfined"] }, "apparmor=unconfined"],
    [{ securityOpt: ["label=disable"] }, "label=disable"],
    [{ securityOpt: ["label=type:spc_t"] }, "label=type:spc_t"],
    [{ securityOpt: ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}'] }, "seccomp="],
    [{ extraBinds: ["/:/host"] }, "/:/host"],
  ])("refuses %j", (options, word) => {
    const error = thrown(() => checkContainerSecurity(options));
    expect(error.code).toBe("PERMISSION_DENIED");
    expect(error.message).toContain(word);
    expect(error.details?.violations).toHaveLength(1);
  });

  it("lists every violation", () => {
    const error = thrown(() =>
      checkContainerSecurity({ privileged: true, pidMode: "host", capAdd: ["ALL"], devices: ["/dev/mem"] }),
    );
    expect(error.details?.violations).toHaveLength(4);
  });
});

describe("loadPolicy", () => {
  async function policyFile(content: string): Promise<string> {
    const file = path.join(tmp, `policy-${Math.random().toString(36).slice(2)}.json`);
    await fs.writeFile(file, content);
    return file;
  }

  it("answers the defaults when the file is missing", async () => {
    const file = path.join(tmp, "no-such-policy.json");
    const loaded = await loadPolicy(file, { path: "" });
    expect(loaded).toEqual({ ...defaultPolicy(), file, agentProfiles: [] });
    expect(loaded.allowedRoots).toEqual([await fs.realpath(os.homedir())]);
    expect(loaded.maxDirectoryEntries).toBe(1000);
  });

  it("reads roots (resolved to real paths, deduplicated) and the entry cap", async () => {
    const file = await policyFile(
      JSON.stringify({ allowedRoots: [path.join(tmp, "root-link"), root], maxDirectoryEntries: 50 }),
    );
    expect(await loadPolicy(file, { path: "" })).toEqual({
      allowedRoots: [root],
      maxDirectoryEntries: 50,
      scripts: true,
      agentProfiles: [],
      file,
    });
  });

  it("reads the scripts switch, on unless it says false", async () => {
    expect((await loadPolicy(await policyFile(JSON.stringify({ scripts: false })))).scripts).toBe(false);
    expect((await loadPolicy(await policyFile(JSON.stringify({ scripts: true })))).scripts).toBe(true);
    expect((await loadPolicy(await policyFile("{}"))).scripts).toBe(true);
    expect(defaultPolicy().scripts).toBe(true);
  });

  it("reads the agent session timeouts in seconds, each optional", async () => {
    const both = { agentSessions: { approvalTimeoutSeconds: 30, turnTimeoutSeconds: 600 } };
    expect((await loadPolicy(await policyFile(JSON.stringify(both)), { path: "" })).agentSessionTimeouts).toEqual({
      approvalTimeoutMs: 30_000,
      turnTimeoutMs: 600_000,
    });
    const turnOnly = { agentSessions: { turnTimeoutSeconds: 60 } };
    expect((await loadPolicy(await policyFile(JSON.stringify(turnOnly)), { path: "" })).agentSessionTimeouts).toEqual({
      turnTimeoutMs: 60_000,
    });
    expect((await loadPolicy(await policyFile("{}"), { path: "" })).agentSessionTimeouts).toBeUndefined();
  });

  it("expands ~ to the home directory", async () => {
    const file = await policyFile(JSON.stringify({ allowedRoots: ["~"] }));
    expect((await loadPolicy(file)).allowedRoots).toEqual([await fs.realpath(os.homedir())]);
  });

  it.each([
    ["{not json", "not valid JSON"],
    [JSON.stringify({ allowedRoots: ["relative/dir"] }), 'field "allowedRoots[0]"'],
    [JSON.stringify({ allowedRoots: [] }), 'field "allowedRoots"'],
    [JSON.stringify({ maxDirectoryEntries: "lots" }), 'field "maxDirectoryEntries"'],
    [JSON.stringify({ maxDirectoryEntries: 0 }), 'field "maxDirectoryEntries"'],
    [JSON.stringify({ allowedRoot: ["/tmp"] }), 'field "allowedRoot"'],
    [JSON.stringify({ scripts: "no" }), 'field "scripts"'],
    [
      JSON.stringify({ agentSessions: { approvalTimeoutSeconds: 0 } }),
      'field "agentSessions.approvalTimeoutSeconds": must be at least 1 second',
    ],
    [
      JSON.stringify({ agentSessions: { turnTimeoutSeconds: 90_000 } }),
      'field "agentSessions.turnTimeoutSeconds": must be at most 86400 seconds',
    ],
    [
      JSON.stringify({ agentSessions: { turnTimeoutSeconds: 1.5 } }),
      'field "agentSessions.turnTimeoutSeconds": must be a whole number of seconds',
    ],
    [JSON.stringify({ agentSessions: { turnTimeoutSeconds: "1h" } }), "must be a number of seconds"],
    [JSON.stringify({ agentSessions: { turnTimeout: 60 } }), 'field "turnTimeout"'],
    [
      JSON.stringify({ agentSessions: { approvalTimeoutSeconds: 120, turnTimeoutSeconds: 60 } }),
      "approvalTimeoutSeconds is longer than turnTimeoutSeconds",
    ],
    [
      JSON.stringify({ allowedRoots: ["/tmp", "/no/such/kai/dir"] }),
      'field "allowedRoots[1]": /no/such/kai/dir does not exist',
    ],
  ])("refuses %s naming the file and the field", async (content, expected) => {
    const file = await policyFile(content);
    const loading = loadPolicy(file);
    await expect(loading).rejects.toThrow(file);
    await expect(loading).rejects.toThrow(expected);
  });

  it("refuses a root that is a file", async () => {
    const rootFile = path.join(tmp, "a-file");
    await fs.writeFile(rootFile, "");
    await expect(loadPolicy(await policyFile(JSON.stringify({ allowedRoots: [rootFile] })))).rejects.toThrow(
      'field "allowedRoots[0]"',
    );
  });
});

describe("agent profiles", () => {
  let bin: string;
  const write = async (content: unknown) => {
    const file = path.join(tmp, `profiles-${Math.random().toString(36).slice(2)}.json`);
    await fs.writeFile(file, JSON.stringify(content));
    return file;
  };

  beforeAll(async () => {
    bin = path.join(tmp, "bin");
    await fs.mkdir(bin);
    for (const name of ["claude-agent-acp", "gemini", "my-agent"]) {
      await fs.writeFile(path.join(bin, name), "#!/bin/sh\n", { mode: 0o755 });
    }
    await fs.writeFile(path.join(bin, "not-executable"), "", { mode: 0o644 });
  });

  it("offers the built-ins whose command is on PATH, the first as default", async () => {
    const policy = await loadPolicy(await write({}), { path: bin });
    expect(policy.agentProfiles).toEqual([
      {
        name: "claude",
        command: "claude-agent-acp",
        executable: path.join(bin, "claude-agent-acp"),
        args: [],
        env: {},
        default: true,
      },
      {
        name: "gemini",
        command: "gemini",
        executable: path.join(bin, "gemini"),
        args: ["--acp"],
        env: {},
        default: false,
      },
    ]);
    expect((await loadPolicy(await write({}), { path: "" })).agentProfiles).toEqual([]);
    // Scripts off: a coding agent runs commands too, so no built-in is offered.
    expect((await loadPolicy(await write({ scripts: false }), { path: bin })).agentProfiles).toEqual([]);
  });

  it("takes the file's profiles instead, leaves out (with a warning) one whose command is missing", async () => {
    const warnings: string[] = [];
    const file = await write({
      agentProfiles: {
        mine: { command: "my-agent", args: ["--acp"], env: { MY_KEY: "secret" } },
        ghost: { command: "ghost-acp" },
        flat: { command: "not-executable" },
      },
      defaultAgentProfile: "mine",
    });
    const policy = await loadPolicy(file, { path: bin, warn: (message) => warnings.push(message) });
    expect(policy.agentProfiles?.map((p) => [p.name, p.default, p.env])).toEqual([
      ["mine", true, { MY_KEY: "secret" }],
    ]);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain(`policy file ${file}: agent profile "ghost": ghost-acp not found`);
    // What the edge learns names the command, never the environment.
    expect(agentProfileInfos(policy.agentProfiles ?? [])).toEqual([
      { name: "mine", command: "my-agent", args: ["--acp"], default: true },
    ]);
  });

  it("refuses an invalid profile name, and finds profiles by name or default (NOT_FOUND otherwise)", async () => {
    await expect(loadPolicy(await write({ agentProfiles: { "Bad Name": { command: "x" } } }))).rejects.toThrow(
      /agentProfiles/,
    );
    const policy = await loadPolicy(await write({}), { path: bin });
    const profiles = policy.agentProfiles ?? [];
    expect(findAgentProfile(profiles, undefined).name).toBe("claude");
    expect(findAgentProfile(profiles, "gemini").name).toBe("gemini");
    const error = thrown(() => findAgentProfile(profiles, "codex", "/etc/kai/agent-policy.json"));
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toBe(
      "no agent profile 'codex' on this host; the host's owner configures profiles in /etc/kai/agent-policy.json",
    );
  });
});
