import { env } from "cloudflare:test";

/** A statement the edge sent to D1: the parameters of its first use and where in edge/ it came from. */
export interface CapturedStatement {
  values: unknown[];
  origin: string;
}

/**
 * Every distinct SQL statement the edge's code sends to D1 while a test file runs. It hooks
 * the D1 binding's class, not drizzle, so raw `prepare` calls and the Durable Objects'
 * queries (they run in the tests' isolate) are seen too. Statements the tests issue
 * themselves (reading rows back, setting up) have no edge/ frame on their stack and are left out.
 */
export const captured = new Map<string, CapturedStatement>();

let paused = false;

type StatementListener = (query: string, values: unknown[]) => void;
const listeners = new Set<StatementListener>();

/**
 * Calls `listener` with each statement the edge's code binds (each use, with its values, not
 * only the first) until the returned function is called: to count the queries a request made.
 */
export function watchStatements(listener: StatementListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Runs `work` without recording (the plan check's own statements). */
export async function uncaptured<T>(work: () => Promise<T>): Promise<T> {
  paused = true;
  try {
    return await work();
  } finally {
    paused = false;
  }
}

/** The first frame in edge/ of the current stack, e.g. `edge/hosts/hosts.ts:42`, or undefined. */
function edgeFrame(): string | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 60;
  const stack = new Error().stack ?? "";
  Error.stackTraceLimit = limit;
  return /\/(edge\/[^\s:)]+:\d+)/.exec(stack)?.[1];
}

type Prepare = (this: D1Database, query: string) => D1PreparedStatement;

/** Starts recording, once per isolate. */
export function startCapture(): void {
  const proto = Object.getPrototypeOf(env.DB) as { prepare: Prepare; kaiCapture?: true };
  if (proto.kaiCapture) return;
  proto.kaiCapture = true;
  const prepare = proto.prepare;
  proto.prepare = function (this: D1Database, query: string) {
    const statement = prepare.call(this, query);
    if (paused) return statement;
    const origin = edgeFrame();
    if (!origin) return statement;
    const entry = captured.get(query) ?? { values: [], origin };
    captured.set(query, entry);
    const bind = statement.bind;
    statement.bind = (...values: unknown[]) => {
      if (entry.values.length === 0) entry.values = values;
      for (const listener of listeners) listener(query, values);
      return bind.apply(statement, values);
    };
    return statement;
  };
}
