import { env } from "cloudflare:test";
import { expect, it } from "vitest";

/*
 * Deleting a row makes SQLite look up the rows that reference it (to cascade or refuse), by the
 * referencing column. Without an index leading with that column, deleting one host reads every
 * row of every user's child table. The query-plan check sees this only for deletes a test
 * happens to make; this one covers every foreign key of the schema.
 */
async function rows<T>(query: string): Promise<T[]> {
  return (await env.DB.prepare(query).all<T>()).results;
}

it("gives every foreign key's column an index that leads with it", async () => {
  const tables = await rows<{ name: string }>(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
  );
  const missing: string[] = [];
  let keys = 0;
  for (const { name } of tables) {
    const leading = new Set<string>();
    for (const index of await rows<{ name: string }>(`PRAGMA index_list("${name}")`)) {
      const [first] = await rows<{ name: string | null }>(`PRAGMA index_info("${index.name}")`);
      if (first?.name) leading.add(first.name);
    }
    const [pk] = (await rows<{ name: string; pk: number }>(`PRAGMA table_info("${name}")`)).filter((c) => c.pk === 1);
    if (pk) leading.add(pk.name);
    for (const key of await rows<{ from: string; table: string }>(`PRAGMA foreign_key_list("${name}")`)) {
      keys += 1;
      if (!leading.has(key.from)) missing.push(`${name}.${key.from} (references ${key.table})`);
    }
  }
  expect(keys).toBeGreaterThan(10);
  expect(missing).toEqual([]);
});
