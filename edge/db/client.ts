import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

/** Made per request from the binding, never at module level (bindings are per request). */
export function database(d1: D1Database) {
  return drizzle(d1, { schema });
}

export type Db = ReturnType<typeof database>;
