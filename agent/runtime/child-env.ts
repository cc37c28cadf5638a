import path from "node:path";

/**
 * The environment for a process the agent starts on a workspace's behalf: the agent's own,
 * less every `KAI_*` variable. KAI_TOKEN authenticates this host to Kai; a workspace script
 * that could read it could impersonate the host, so no `KAI_` name ever reaches a child.
 * `extraPath` directories go first on PATH (e.g. a workspace's node_modules/.bin).
 */
export function childEnv(extraPath: string[] = [], base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(base)) {
    if (value !== undefined && !key.toUpperCase().startsWith("KAI_")) env[key] = value;
  }
  if (extraPath.length > 0) env.PATH = [...extraPath, ...(env.PATH ? [env.PATH] : [])].join(path.delimiter);
  return env;
}
