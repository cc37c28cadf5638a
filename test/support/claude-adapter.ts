import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { AgentProfile } from "../../agent/runtime/acp/agent-profiles";

/** Pinned: the adapter's ACP and the Claude Code it bundles change between releases. */
const CLAUDE_ADAPTER_PACKAGE = "@agentclientprotocol/claude-agent-acp@0.101.0";

/**
 * Where the adapter is installed: outside the repository (it pulls a ~157 MB native binary),
 * kept between runs. KAI_CLAUDE_ADAPTER_DIR moves it.
 */
const CACHE_DIR = process.env.KAI_CLAUDE_ADAPTER_DIR ?? path.join(os.tmpdir(), "kai-claude-agent-acp-0.101.0");
const ENTRY = path.join(CACHE_DIR, "node_modules", "@agentclientprotocol", "claude-agent-acp", "dist", "index.js");
/** Written only after npm succeeded: a half-finished install (interrupted) is redone, not used. */
const MARKER = path.join(CACHE_DIR, ".kai-installed");

/**
 * Installs the adapter into the cache unless it is there, npm's output shown as it goes (the
 * first install takes a minute or two). Not a dependency of Kai: only this opt-in test uses it.
 */
export async function ensureClaudeAdapter(log: (line: string) => void = console.log): Promise<string> {
  if (await exists(MARKER)) return ENTRY;
  await fs.mkdir(CACHE_DIR, { recursive: true });
  log(`kai: installing ${CLAUDE_ADAPTER_PACKAGE} into ${CACHE_DIR} (once; ~160 MB)`);
  const started = Date.now();
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const args = ["install", "--no-save", "--no-audit", "--no-fund", "--loglevel=http", "--prefix", CACHE_DIR];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(npm, [...args, CLAUDE_ADAPTER_PACKAGE], { stdio: ["ignore", "inherit", "inherit"] });
    child.once("error", reject);
    child.once("close", resolve);
  });
  if (code !== 0 || !(await exists(ENTRY))) {
    throw new Error(`npm install ${CLAUDE_ADAPTER_PACKAGE} failed (exit ${code}); see npm's output above`);
  }
  await fs.writeFile(MARKER, `${CLAUDE_ADAPTER_PACKAGE}\n`);
  log(`kai: installed the adapter in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return ENTRY;
}

/**
 * A profile running the real adapter (`entry`, from ensureClaudeAdapter) against `baseUrl`
 * (the fake Messages API), as the policy file would name it, with node itself as the command
 * so the pid kai-agent knows is the adapter's. `home` stands in for HOME and Claude's config
 * dir: no real login, settings or history is read, and the sessions the adapter writes there
 * are what a resume reads back.
 */
export function claudeAdapterProfile(entry: string, baseUrl: string, home: string): AgentProfile {
  return {
    name: "claude",
    command: process.execPath,
    executable: process.execPath,
    args: [entry],
    env: {
      HOME: home,
      CLAUDE_CONFIG_DIR: path.join(home, ".claude"),
      ANTHROPIC_BASE_URL: baseUrl,
      ANTHROPIC_API_KEY: "sk-ant-fake-key-for-a-loopback-server",
      // Nothing but the model calls: no telemetry, update checks or other traffic leaves the machine.
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      DISABLE_TELEMETRY: "1",
      DISABLE_AUTOUPDATER: "1",
      // As root, the adapter offers bypass mode when IS_SANDBOX is any non-empty value, but the
      // claude CLI accepts only "1" and refuses to start otherwise (IS_SANDBOX=yes in some
      // containers): empty means unset to both, so the session runs in the default ask mode.
      IS_SANDBOX: "",
    },
    default: true,
  };
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}
