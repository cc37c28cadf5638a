import { stat } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { build } from "esbuild";

/**
 * Bundles kai-agent into one file that runs with Node alone (`node dist/kai-agent.mjs`),
 * so a machine needs no npm install to join Kai.
 */
const root = path.resolve(import.meta.dirname, "..");
// `--outfile` lets tests build a bundle of their own without touching dist/.
const { values } = parseArgs({ options: { outfile: { type: "string" } } });
const outfile = path.resolve(values.outfile ?? path.join(root, "dist", "kai-agent.mjs"));

await build({
  entryPoints: [path.join(root, "agent", "cli.ts")],
  outfile,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  minify: true,
  sourcemap: false,
  legalComments: "none",
  // dockerode's ssh transport pulls optional native modules; Kai talks to local sockets only.
  external: ["cpu-features", "*.node"],
  // Bundled CommonJS dependencies use require() and __dirname; give the ESM bundle both.
  banner: {
    js: [
      "import { createRequire as __kaiRequire } from 'node:module';",
      "import { fileURLToPath as __kaiPath } from 'node:url';",
      "const require = __kaiRequire(import.meta.url);",
      "const __filename = __kaiPath(import.meta.url);",
      "const __dirname = __kaiPath(new URL('.', import.meta.url));",
    ].join(" "),
  },
  logLevel: "warning",
});

const { size } = await stat(outfile);
console.log(
  `built ${path.relative(root, outfile)} (${(size / 1024).toFixed(0)} KiB): run it with node ${path.relative(root, outfile)} --help`,
);
