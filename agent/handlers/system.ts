import { dockerError } from "../runtime/docker/client";
import type { Handler, Handlers } from "./types";

/** How long `docker.info` waits for the engine before answering "not ok". */
const DOCKER_INFO_TIMEOUT_MS = 5_000;

const ping: Handler<"ping"> = async () => ({ pong: true, agentTime: new Date().toISOString() });

/** Never throws: an unreachable engine is an answer (`ok: false`), not a failed request. */
const dockerInfo: Handler<"docker.info"> = async (_params, ctx) => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${DOCKER_INFO_TIMEOUT_MS / 1000} s`)),
      DOCKER_INFO_TIMEOUT_MS,
    );
  });
  try {
    const version = await Promise.race([ctx.docker.version(), timeout]);
    return { ok: true, version: typeof version.Version === "string" ? version.Version : null };
  } catch (error) {
    return { ok: false, version: null, error: dockerError(error).message };
  } finally {
    clearTimeout(timer);
  }
};

export const systemHandlers = { ping, "docker.info": dockerInfo } satisfies Pick<Handlers, "ping" | "docker.info">;
