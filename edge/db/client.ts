import { drizzle } from "drizzle-orm/d1";

/**
 * The query builder over a D1 binding. Made per request from the binding, never at module
 * level (bindings are per request), and so without drizzle's relational schema: building
 * its table map on every request was a fifth of the Worker's CPU for a simple API call,
 * and Kai's queries all use the SQL-like builder, which takes each table as it is used.
 */
export function database(d1: D1Database) {
  return drizzle(d1);
}

export type Db = ReturnType<typeof database>;
