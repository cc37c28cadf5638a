/**
 * The kai-agent release this edge serves (`/agent/kai-agent.mjs`) and calls current: an agent
 * whose hello reports an older version is marked outdated. Bump it with package.json's version.
 */
export const AGENT_RELEASE = "0.1.0";

declare const __KAI_AGENT_VERSION__: string | undefined;

/**
 * The version this agent reports: the release, unless the bundle was built with another one
 * (`scripts/build-agent.ts --version`, which the upgrade tests use to make an older agent).
 */
export const AGENT_VERSION: string = typeof __KAI_AGENT_VERSION__ === "string" ? __KAI_AGENT_VERSION__ : AGENT_RELEASE;
