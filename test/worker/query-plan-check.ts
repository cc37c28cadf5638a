import { env } from "cloudflare:test";
import { captured, uncaptured } from "./sql-capture";

/** Tables that do not grow with use: a scan of them stays bounded. */
const FIXED_TABLES = new Set(["d1_migrations", "_cf_KV", "_cf_METADATA"]);

/** A full scan in a plan line: `SCAN t`, or `SCAN t USING [COVERING] INDEX i`, which walks all of i. */
const SCAN = /^SCAN (\w+)(?:\s|$)/;

const isSchemaChange = (query: string) => /^\s*(create|drop|alter|pragma)\b/i.test(query);

async function growingTables(): Promise<Set<string>> {
  const { results } = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all<{
    name: string;
  }>();
  return new Set(
    results.map((row) => row.name).filter((name) => !FIXED_TABLES.has(name) && !name.startsWith("sqlite_")),
  );
}

/**
 * Each captured statement whose plan (EXPLAIN QUERY PLAN on the migrated test D1) reads a
 * growing table in full, with the plan line, where the edge issued it and the SQL.
 */
export function unboundedStatements(): Promise<string[]> {
  return uncaptured(async () => {
    const tables = await growingTables();
    const problems: string[] = [];
    for (const [query, { values, origin }] of captured) {
      if (isSchemaChange(query)) continue;
      const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${query}`)
        .bind(...values)
        .all<{ detail: string }>();
      for (const { detail } of plan.results) {
        const table = SCAN.exec(detail)?.[1];
        if (table && tables.has(table)) problems.push(`${detail} (${origin}): ${query}`);
      }
    }
    return problems;
  });
}
