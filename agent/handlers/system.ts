import { dockerError } from "../runtime/docker/client";
import { DockerTimeoutError, engineVersion } from "../runtime/docker/engine-version";
import type { Handler, Handlers } from "./types";

/** How long `docker.info` waits for the engine before answering "not ok". */
const DOCKER_INFO_TIMEOUT_MS = 5_000;

const ping: Handler<"ping"> = async () => ({ pong: true, agentTime: new Date().toISOString() });

/** Never throws: an unreachable engine is an answer (`ok: false`), not a failed request. */
const dockerInfo: Handler<"docker.info"> = async (_params, ctx) => {
  try {
    const version = await engineVersion(ctx.docker, DOCKER_INFO_TIMEOUT_MS);
    return { ok: true, version: typeof version.Version === "string" ? version.Version : null };
  } catch (error) {
    return {
      ok: false,
      version: null,
      error: error instanceof DockerTimeoutError ? error.message : dockerError(error).message,
    };
  }
};

export const systemHandlers = { ping, "docker.info": dockerInfo } satisfies Pick<Handlers, "ping" | "docker.info">;
