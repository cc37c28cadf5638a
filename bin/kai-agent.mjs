#!/usr/bin/env node
// `kai-agent` from a checkout: runs the TypeScript sources through tsx. On other machines
// use the single-file bundle from `npm run build:agent` (dist/kai-agent.mjs) with plain Node.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const tsx = createRequire(import.meta.url).resolve("tsx");
const result = spawnSync(
  process.execPath,
  ["--import", tsx, path.join(root, "agent", "cli.ts"), ...process.argv.slice(2)],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);
