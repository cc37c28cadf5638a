import { deadlineOf } from "../../shared/commands";
import { KaiError } from "../../shared/errors";
import { requireScriptsAllowed } from "../policy";
import { childEnv } from "../runtime/process/child-env";
import { runProcessGroup } from "../runtime/process/run-process-group";
import { listScripts } from "../runtime/process/script-catalog";
import type { Handler, Handlers } from "./types";

/**
 * `scripts.*`: the workspace's package.json scripts and `.kai/scripts/` executables. Only a
 * listed name can run; the request never supplies a command line (runtime/script-catalog.ts
 * says how each kind runs). Scripts run in the workspace root with the agent's environment
 * less every KAI_* variable, as their own process group, so a timeout or a cancel stops
 * everything they started. With `"scripts": false` in the local policy both answer
 * PERMISSION_DENIED: an empty list would read as "this workspace has no scripts", which is
 * false, and would leave the caller no way to learn why a run is refused.
 */

const list: Handler<"scripts.list"> = async (params, ctx) => {
  requireScriptsAllowed(ctx.policy);
  const { scripts } = await listScripts(ctx.policy, params.root);
  return { scripts: scripts.map(({ name, source, command }) => ({ name, source, command })) };
};

/** Streams `{stream, data}` chunks (≤ 64 KiB each, in order per stream), then the exit. */
const run: Handler<"scripts.run"> = async (params, ctx) => {
  requireScriptsAllowed(ctx.policy);
  const { root, scripts } = await listScripts(ctx.policy, params.root);
  const script = scripts.find((candidate) => candidate.name === params.name);
  if (!script) {
    throw new KaiError(
      "NOT_FOUND",
      `this workspace has no script named ${JSON.stringify(params.name)}; scripts.list shows the ones that can run`,
    );
  }
  return runProcessGroup({
    file: script.file,
    args: script.args,
    cwd: root,
    env: childEnv(script.extraPath),
    timeoutMs: deadlineOf("scripts.run", params),
    signal: ctx.signal,
    onOutput: (stream, data) => ctx.emit({ stream, data }),
  });
};

export const scriptHandlers = { "scripts.list": list, "scripts.run": run } satisfies Pick<
  Handlers,
  "scripts.list" | "scripts.run"
>;
