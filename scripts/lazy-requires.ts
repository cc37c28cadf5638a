import { readFile } from "node:fs/promises";
import type { Plugin } from "esbuild";

/**
 * A top-level `binding = require(module)` in a dependency whose export is a function the
 * agent rarely or never calls. esbuild wraps every bundled CommonJS module so that it runs
 * on its first `require`; moving that `require` into the function means the module (and
 * everything it requires) runs on the first call instead of at start-up.
 */
interface LazyRequire {
  /** The requiring file, inside node_modules. */
  file: RegExp;
  binding: string;
  module: string;
}

/**
 * What an idle agent loads without using it: measured on the bundle, this and dockerode's
 * BuildKit session (now left out of the bundle, scripts/left-out-modules.ts) were about
 * 20 MiB of its resident memory (ssh2 alone compiles WebAssembly and allocates its crypto
 * state at load time). ssh2 stays available: the first call loads it.
 */
const LAZY_REQUIRES: LazyRequire[] = [
  // ssh2: only for DOCKER_HOST=ssh://…, which dockerode follows like the docker CLI.
  { file: /[\\/]node_modules[\\/]docker-modem[\\/]lib[\\/]modem\.js$/, binding: "ssh", module: "./ssh" },
];

/**
 * An esbuild plugin that makes each of LAZY_REQUIRES load on first call. The build fails
 * when a dependency's text no longer matches (after an upgrade), rather than silently
 * loading everything at start-up again.
 */
export function lazyRequires(): Plugin {
  return {
    name: "kai-lazy-requires",
    setup(build) {
      const rewritten = new Set<LazyRequire>();
      // A file renamed by an upgrade matches no filter: that must fail the build too.
      build.onEnd((result) => {
        const missed = LAZY_REQUIRES.filter((lazy) => !rewritten.has(lazy));
        if (result.errors.length === 0 && missed.length > 0) {
          const files = missed.map((lazy) => lazy.file.source).join(", ");
          throw new Error(`lazy requires: no bundled file matched ${files}; update scripts/lazy-requires.ts`);
        }
      });
      for (const lazy of LAZY_REQUIRES) {
        build.onLoad({ filter: lazy.file }, async (args) => {
          const source = await readFile(args.path, "utf8");
          const quoted = lazy.module.replaceAll(".", "\\.").replaceAll("/", "\\/");
          const eager = new RegExp(`\\b${lazy.binding} = require\\((['"])${quoted}\\1\\)`, "g");
          const found = source.match(eager)?.length ?? 0;
          if (found !== 1)
            throw new Error(
              `${args.path}: expected one \`${lazy.binding} = require('${lazy.module}')\`, found ${found}`,
            );
          const contents = source.replace(
            eager,
            `${lazy.binding} = function () { return require('${lazy.module}').apply(this, arguments); }`,
          );
          rewritten.add(lazy);
          return { contents, loader: "js" };
        });
      }
    },
  };
}
