import path from "node:path";
import type { Plugin } from "esbuild";

/**
 * A module a dependency requires for something kai-agent never does, bundled as a stub.
 * Every byte of the bundle is held in memory for as long as the agent runs (V8 keeps a
 * module's source), whether or not its code ever runs.
 */
interface LeftOut {
  /** The requiring file, inside node_modules. */
  importer: RegExp;
  /** The specifier exactly as that file writes it. */
  specifier: string;
  /** What the stub is: the module's exports. */
  contents: string;
  why: string;
}

/** lib/session.js exports the function itself (`withSession`). */
const SESSION_STUB =
  "module.exports = function () { throw new Error('kai-agent is built without BuildKit sessions " +
  "(buildImage version 2)'); };";
/**
 * lib/buildkit.js exports an object: `docker.followProgress` calls `buildkit.followProgress(...)`
 * (for every stream, BuildKit or not). kai-agent follows pulls with `docker.modem.followProgress`.
 */
const BUILDKIT_STUB =
  "module.exports = { followProgress: function () { throw new Error('kai-agent is built without BuildKit: " +
  "use docker.modem.followProgress'); } };";

/** docker-modem's ssh transport (lib/ssh.js) exports the function that makes its http agent. */
const SSH_STUB =
  "module.exports = function () { throw new Error('kai-agent drives the Docker engine of its own machine, " +
  "not one reached over ssh: run kai-agent on that machine'); };";

/**
 * dockerode's lib/util.js requires tar-fs at load for one function, `prepareBuildContext`
 * (an image build's context); `tar.pack` is all it calls.
 */
const TAR_STUB =
  "module.exports = { pack: function () { throw new Error('kai-agent is built without image builds'); } };";
/** docker-modem's lib/http_duplex.js exports the class of a hijacked stream (exec, attach). */
const HTTP_DUPLEX_STUB =
  "module.exports = function () { throw new Error('kai-agent is built without exec and attach streams'); };";

const LEFT_OUT: LeftOut[] = [
  // tar-fs, tar-stream, bl and readable-stream (about 60 KB): image builds. Kai never builds.
  {
    importer: /[\\/]node_modules[\\/]dockerode[\\/]lib[\\/]util\.js$/,
    specifier: "tar-fs",
    contents: TAR_STUB,
    why: "image builds",
  },
  // Streams of `exec` and `attach` (hijacked connections). Kai runs nothing inside containers.
  {
    importer: /[\\/]node_modules[\\/]docker-modem[\\/]lib[\\/]modem\.js$/,
    specifier: "./http_duplex",
    contents: HTTP_DUPLEX_STUB,
    why: "exec and attach streams",
  },
  // ssh2 with its crypto (about 330 KB): dockerode's transport for DOCKER_HOST=ssh://, an
  // engine on another machine, which kai-agent refuses (agent/runtime/docker/client.ts).
  {
    importer: /[\\/]node_modules[\\/]docker-modem[\\/]lib[\\/]modem\.js$/,
    specifier: "./ssh",
    contents: SSH_STUB,
    why: "ssh:// engines",
  },
  // @grpc/grpc-js and protobufjs (about 430 KB): BuildKit sessions, for
  // `buildImage({ version: "2" })`. Kai never builds images.
  {
    importer: /[\\/]node_modules[\\/]dockerode[\\/]lib[\\/]docker\.js$/,
    specifier: "./session",
    contents: SESSION_STUB,
    why: "BuildKit sessions",
  },
  {
    importer: /[\\/]node_modules[\\/]dockerode[\\/]lib[\\/]docker\.js$/,
    specifier: "./buildkit",
    contents: BUILDKIT_STUB,
    why: "BuildKit builds",
  },
  // zod's error messages in 40 languages (about 260 KB) for `z.config(z.locales.xx())`; the
  // agent's messages are English, which zod loads on its own (locales/en.js), and `z.locales` is empty.
  {
    importer: /[\\/]node_modules[\\/]zod[\\/]v4[\\/](classic[\\/]external|core[\\/]index)\.js$/,
    specifier: "../locales/index.js",
    contents: "export {};",
    why: "zod's locales",
  },
];

/**
 * An esbuild plugin that bundles each of LEFT_OUT as its stub. The build fails when one
 * matched nothing (a dependency upgraded its files), rather than silently bundling it again.
 */
export function leftOutModules(): Plugin {
  return {
    name: "kai-left-out-modules",
    setup(build) {
      const matched = new Set<LeftOut>();
      build.onEnd((result) => {
        const missed = LEFT_OUT.filter((one) => !matched.has(one));
        if (result.errors.length === 0 && missed.length > 0) {
          const what = missed.map((one) => `${one.specifier} (${one.why})`).join(", ");
          throw new Error(`left-out modules: nothing required ${what}; update scripts/left-out-modules.ts`);
        }
      });
      const specifiers = [...new Set(LEFT_OUT.map((one) => one.specifier))];
      const filter = new RegExp(`^(${specifiers.map((s) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")).join("|")})$`);
      build.onResolve({ filter }, (args) => {
        const one = LEFT_OUT.find(
          (candidate) => candidate.specifier === args.path && candidate.importer.test(args.importer),
        );
        if (!one) return undefined;
        matched.add(one);
        return { path: `${path.basename(args.importer)}:${one.specifier}`, namespace: "kai-left-out", pluginData: one };
      });
      build.onLoad({ filter: /.*/, namespace: "kai-left-out" }, (args) => ({
        contents: (args.pluginData as LeftOut).contents,
        loader: "js",
      }));
    },
  };
}
