/**
 * The import boundaries that are Kai's architecture (ARCHITECTURE.md), checked by `npm run lint`:
 * `shared/` is imported by both sides and depends on zod only; the edge (a Worker) and the agent
 * (a Node process) never import each other; inside the agent, `runtime/` wraps the machine
 * (Docker, files, git, processes) and never reaches up into policy, handlers or the connection.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "shared-is-zod-only",
      comment: "shared/ is bundled into both the Worker and the agent: only zod and shared/ itself.",
      severity: "error",
      from: { path: "^shared/", pathNot: "\\.test\\.ts$" },
      to: { pathNot: ["^shared/", "^node_modules/zod/"] },
    },
    {
      name: "edge-never-imports-agent",
      severity: "error",
      from: { path: "^edge/" },
      to: { path: "^agent/" },
    },
    {
      name: "agent-never-imports-edge",
      severity: "error",
      from: { path: "^agent/" },
      to: { path: "^edge/" },
    },
    {
      name: "web-is-a-browser-app",
      comment: "web/ runs in the browser: it talks to the edge over HTTP, and takes only types from shared/.",
      severity: "error",
      from: { path: "^web/" },
      to: { path: "^(edge|agent|scripts|test|bench)/" },
    },
    {
      name: "runtime-does-not-import-upward",
      comment:
        "agent/runtime/ wraps the machine; policy, handlers and the connection use it, never the reverse " +
        "(small generic helpers at agent/ excepted: the logger, the backoff, the turn batcher).",
      severity: "error",
      from: { path: "^agent/runtime/" },
      to: {
        path: "^agent/",
        pathNot: ["^agent/runtime/", "^agent/log\\.ts$", "^agent/backoff\\.ts$", "^agent/turn-batcher\\.ts$"],
      },
    },
    {
      name: "agent-builds-no-reply-schemas",
      comment:
        "The agent checks params and never a reply: it takes only types from the replies and the API's " +
        "schemas, so it never builds them (about 6 MiB of an idle agent's memory, README's benchmarks). " +
        "shared/commands.ts and the modules it is built from keep to the same, as the agent loads them.",
      severity: "error",
      from: {
        path: "^(agent/|shared/(commands|protocol)\\.ts$|shared/schemas/(command-params|agent-profiles|claude-settings)\\.ts$)",
        pathNot: "\\.test\\.ts$",
      },
      to: {
        path: "^shared/(command-replies|stream-frames|schemas/(agent-sessions|flexy|services|workspace|user-events))\\.ts$",
        dependencyTypesNot: ["type-only"],
      },
    },
    {
      name: "no-circular",
      comment: "Type-only cycles (a binding's type naming its Durable Object class) erase at compile time.",
      severity: "error",
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    exclude: { path: "(^|/)(node_modules|dist|\\.wrangler)/" },
  },
};
