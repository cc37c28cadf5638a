import type Docker from "dockerode";

/** Docker did not answer `version` in time; its request was aborted, not left open. */
export class DockerTimeoutError extends Error {
  readonly code = "ETIMEDOUT";
  constructor(readonly timeoutMs: number) {
    super(`Docker did not answer within ${timeoutMs / 1000} s`);
    this.name = "DockerTimeoutError";
  }
}

/**
 * dockerode's `version` does take `{ abortSignal }` (lib/docker.js passes it to the request),
 * but @types/dockerode only declares it without options.
 */
type VersionWithSignal = (options: { abortSignal: AbortSignal }) => Promise<Docker.DockerVersion>;

/**
 * The engine's `version`, or a DockerTimeoutError after `timeoutMs`. The request is aborted
 * then: racing a timer against it would leave the connection open to a stuck engine, one more
 * for every `docker.info` or doctor run.
 */
export async function engineVersion(docker: Docker, timeoutMs: number): Promise<Docker.DockerVersion> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await (docker.version as unknown as VersionWithSignal).call(docker, { abortSignal: controller.signal });
  } catch (error) {
    if (controller.signal.aborted) throw new DockerTimeoutError(timeoutMs);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
