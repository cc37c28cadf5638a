import path from "node:path";

/**
 * The environment for a process the agent starts on a workspace's behalf: the agent's own,
 * less every `KAI_*` variable. No `KAI_` name ever reaches a child, so nothing Kai-specific
 * can be read from a child's environment. (The agent token itself is never in the agent's
 * environment: config.ts refuses KAI_TOKEN, because a child can read its parent's
 * /proc/<pid>/environ no matter what the child's own environment holds.)
 * `extraPath` directories go first on PATH (e.g. a workspace's node_modules/.bin).
 *
 * Relative PATH entries (`.`, `bin`, and the empty entry, which means ".") are dropped:
 * children run with a workspace as their working directory, so such an entry would let a
 * file in the workspace stand in for a program looked up on PATH (`openspec`, or `node`
 * in a `#!/usr/bin/env node` line).
 */
export function childEnv(extraPath: string[] = [], base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(base)) {
    if (value !== undefined && !key.toUpperCase().startsWith("KAI_")) env[key] = value;
  }
  const entries = [...extraPath, ...(env.PATH ?? "").split(path.delimiter)].filter((entry) => path.isAbsolute(entry));
  // An empty PATH would be one empty entry, "."; without one the system default applies.
  if (entries.length > 0) env.PATH = entries.join(path.delimiter);
  else delete env.PATH;
  return env;
}
