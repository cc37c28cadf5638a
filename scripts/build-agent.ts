import { stat } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { buildAgentBundle, buildAgentRelease } from "./agent-bundle";

/**
 * `npm run build:agent`: bundles kai-agent into dist/kai-agent.mjs, one file that runs with Node alone.
 *   --outfile FILE   build it somewhere else (tests build their own)
 *   --release DIR    build the served release instead: DIR/kai-agent.mjs and DIR/kai-agent.json
 *   --version V      the version the bundle reports (tests build an older agent to upgrade)
 */
const root = path.resolve(import.meta.dirname, "..");
const { values } = parseArgs({
  options: { outfile: { type: "string" }, release: { type: "string" }, version: { type: "string" } },
});
const options = values.version ? { version: values.version } : {};

if (values.release) {
  const manifest = await buildAgentRelease(path.resolve(values.release), options);
  console.log(`built kai-agent ${manifest.version} into ${values.release} (sha256 ${manifest.sha256})`);
} else {
  const outfile = path.resolve(values.outfile ?? path.join(root, "dist", "kai-agent.mjs"));
  await buildAgentBundle(outfile, options);
  const { size } = await stat(outfile);
  console.log(
    `built ${path.relative(root, outfile)} (${(size / 1024).toFixed(0)} KiB): run it with node ${path.relative(root, outfile)} --help`,
  );
}
