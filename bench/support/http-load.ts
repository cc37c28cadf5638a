/**
 * Timed HTTP calls for the relay benchmarks, with Node's fetch (undici underneath): it keeps
 * connections alive, so a sequential loop reuses one connection and N concurrent clients
 * hold N of them. The body is always read: a response counts when it has fully arrived.
 */

export interface Endpoint {
  name: string;
  url: string;
  headers: Record<string, string>;
}

export interface Timed {
  ms: number;
  ok: boolean;
  status: number;
  error?: string;
}

/** `timeoutMs`: give up on an answer after this long (a failed sample) rather than undici's 5 minutes. */
export async function timedGet(endpoint: Endpoint, timeoutMs?: number): Promise<Timed> {
  const started = performance.now();
  try {
    const signal = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
    const response = await fetch(endpoint.url, { headers: endpoint.headers, ...(signal ? { signal } : {}) });
    const body = await response.text();
    const ms = performance.now() - started;
    return response.status === 200
      ? { ms, ok: true, status: 200 }
      : { ms, ok: false, status: response.status, error: body.slice(0, 200) };
  } catch (error) {
    return {
      ms: performance.now() - started,
      ok: false,
      status: 0,
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

export interface LoadResult {
  completed: number;
  errors: number;
  firstError?: string;
  elapsedMs: number;
  latencies: number[];
}

/** `clients` loops each calling `endpoint` back to back until `durationMs` has passed. */
export async function closedLoop(endpoint: Endpoint, clients: number, durationMs: number): Promise<LoadResult> {
  const started = performance.now();
  const deadline = started + durationMs;
  const result: LoadResult = { completed: 0, errors: 0, elapsedMs: 0, latencies: [] };
  let lastDone = started;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) {
        const once = await timedGet(endpoint);
        lastDone = performance.now();
        result.latencies.push(once.ms);
        if (once.ok) result.completed += 1;
        else {
          result.errors += 1;
          result.firstError ??= `${once.status} ${once.error ?? ""}`.trim();
        }
      }
    }),
  );
  result.elapsedMs = lastDone - started;
  return result;
}
