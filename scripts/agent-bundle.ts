import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { build } from "esbuild";
import { AGENT_RELEASE } from "../shared/version";
import { leftOutModules } from "./left-out-modules";

const ROOT = path.resolve(import.meta.dirname, "..");

/** The file the edge serves beside the bundle (`/agent/kai-agent.json`): what install.sh and `kai-agent upgrade` check. */
export interface AgentManifest {
  version: string;
  /** Hex SHA-256 of the bundle's bytes. */
  sha256: string;
  size: number;
  /** The bundle's file name, beside the manifest. */
  file: string;
  /** The oldest Node that runs it (package.json `engines`). */
  node: string;
}

export const AGENT_BUNDLE_FILE = "kai-agent.mjs";
export const AGENT_MANIFEST_FILE = "kai-agent.json";

/**
 * Bundles kai-agent into one file that runs with Node alone (`node kai-agent.mjs`), so a
 * machine needs no npm install to join Kai. `version` overrides the one it reports (tests).
 * Resolves with the files bundled (paths from the project root).
 */
export async function buildAgentBundle(outfile: string, options: { version?: string } = {}): Promise<string[]> {
  const { metafile } = await build({
    metafile: true,
    entryPoints: [path.join(ROOT, "agent", "cli.ts")],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    minify: true,
    sourcemap: false,
    legalComments: "none",
    define: options.version ? { __KAI_AGENT_VERSION__: JSON.stringify(options.version) } : {},
    plugins: [leftOutModules()],
    // Bundled CommonJS dependencies use require() and __dirname; give the ESM bundle both.
    banner: {
      js: [
        "import { createRequire as __kaiRequire } from 'node:module';",
        "import { fileURLToPath as __kaiPath } from 'node:url';",
        "const require = __kaiRequire(import.meta.url);",
        "const __filename = __kaiPath(import.meta.url);",
        "const __dirname = __kaiPath(new URL('.', import.meta.url));",
      ].join("\n"),
    },
    logLevel: "warning",
  });
  return Object.keys(metafile?.inputs ?? {});
}

/**
 * Builds the release the edge serves into `dir`: the bundle and its manifest (version,
 * checksum, size, Node range). The dashboard build puts it in web/dist/agent.
 */
export async function buildAgentRelease(dir: string, options: { version?: string } = {}): Promise<AgentManifest> {
  await mkdir(dir, { recursive: true });
  const bundle = path.join(dir, AGENT_BUNDLE_FILE);
  await buildAgentBundle(bundle, options);
  const bytes = await readFile(bundle);
  const pkg = JSON.parse(await readFile(path.join(ROOT, "package.json"), "utf8")) as { engines: { node: string } };
  const manifest: AgentManifest = {
    version: options.version ?? AGENT_RELEASE,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    size: bytes.length,
    file: AGENT_BUNDLE_FILE,
    node: pkg.engines.node,
  };
  await writeFile(path.join(dir, AGENT_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
