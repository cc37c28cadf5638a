import { unstable_DevEnv } from "wrangler";

/** Generous: on a busy shared machine a Worker's first start can take tens of seconds. */
const WORKER_START_TIMEOUT_MS = 120_000;

type StartOptions = Parameters<unstable_DevEnv["startWorker"]>[0];

export interface DevWorker {
  /** wrangler's dev server: its ProxyWorker, on the port asked for. */
  url: string;
  /** The Worker's own workerd, on an ephemeral port (a new one at every start). */
  workerUrl: string;
  dispose(): Promise<void>;
}

/**
 * Starts a Worker as `unstable_startWorker` does (that function is exactly a DevEnv's
 * startWorker), listening to one event of it to learn the Worker's own address. wrangler's
 * dev server is two workerd processes: a ProxyWorker on the port asked for (a Durable Object
 * that re-sends every request to the Worker, pipes every WebSocket through itself, and holds
 * requests while the Worker reloads) and the Worker itself, on an ephemeral port that only
 * the runtime's reloadComplete event names. Production has no such proxy, so a benchmark
 * that must not count it dials `workerUrl`; tests keep `url`, which survives a restart.
 */
export async function startDevWorker(options: StartOptions): Promise<DevWorker> {
  const devEnv = new unstable_DevEnv();
  const dispatch = devEnv.dispatch.bind(devEnv);
  let reloaded: (url: string) => void = () => undefined;
  const workerUrl = new Promise<string>((resolve) => {
    reloaded = resolve;
  });
  devEnv.dispatch = (event) => {
    if (event.type === "reloadComplete") {
      const { protocol, hostname, port } = event.proxyData.userWorkerUrl;
      reloaded(`${protocol}//${hostname}:${port}`);
    }
    dispatch(event);
  };
  const worker = await devEnv.startWorker(options);
  try {
    await worker.ready;
    // The proxy is ready before the Worker: a Worker that never starts (a build error wrangler
    // logged) must fail the caller rather than hold it forever.
    const timeout = AbortSignal.timeout(WORKER_START_TIMEOUT_MS);
    const started = await Promise.race([
      workerUrl,
      new Promise<never>((_, reject) =>
        timeout.addEventListener("abort", () =>
          reject(new Error(`the Worker did not start within ${WORKER_START_TIMEOUT_MS / 1000} s (see wrangler's log)`)),
        ),
      ),
    ]);
    return { url: (await worker.url).origin, workerUrl: started, dispose: () => worker.dispose() };
  } catch (error) {
    await worker.dispose();
    throw error;
  }
}
