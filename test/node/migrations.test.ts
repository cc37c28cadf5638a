/**
 * migrations/ is applied in file-name order by `wrangler d1 migrations apply`, by the
 * Workers test pool and by deploy, and drizzle-kit numbers new files from its journal.
 * Two branches that each add "0003_…" would both merge cleanly and one migration would
 * run in an order nobody tested; a schema edit without `npm run db:generate` would ship
 * code that queries columns the database does not have. Both are caught here.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
const MIGRATIONS = path.join(ROOT, "migrations");
const DRIZZLE_KIT = path.join(ROOT, "node_modules", "drizzle-kit", "bin.cjs");
const run = promisify(execFile);

/** Problems with a list of migration file names: bad names, duplicate numbers, gaps from 0000. */
function migrationNumberProblems(names: string[]): string[] {
  const problems: string[] = [];
  const byNumber = new Map<number, string[]>();
  for (const name of names) {
    const match = /^(\d{4})_[\w-]+\.sql$/.exec(name);
    if (!match) {
      problems.push(`${name}: not named NNNN_name.sql`);
      continue;
    }
    const number = Number(match[1]);
    byNumber.set(number, [...(byNumber.get(number) ?? []), name]);
  }
  for (const [number, files] of byNumber) {
    if (files.length > 1) problems.push(`number ${String(number).padStart(4, "0")} is used by ${files.join(", ")}`);
  }
  for (let expected = 0; expected < Math.max(-1, ...byNumber.keys()); expected++) {
    if (!byNumber.has(expected)) problems.push(`number ${String(expected).padStart(4, "0")} is missing`);
  }
  return problems;
}

const sqlFiles = (dir: string) =>
  readdirSync(dir)
    .filter((name) => name.endsWith(".sql"))
    .sort();

const temps: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "kai-migrations-"));
  temps.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/**
 * `drizzle-kit generate` into `out`. drizzle-kit (0.31) prefixes `out` with "./", so it must be
 * relative to the project; and it exits 0 even when it fails, so callers check its output.
 */
async function generate(out: string) {
  const args = [
    DRIZZLE_KIT,
    "generate",
    "--dialect",
    "sqlite",
    "--schema",
    "./edge/db/schema.ts",
    "--out",
    path.relative(ROOT, out),
  ];
  const { stdout, stderr } = await run(process.execPath, args, { cwd: ROOT, timeout: 60_000 });
  return `${stdout}\n${stderr}`;
}

describe("migration numbering", () => {
  it("detects duplicate, missing and malformed numbers (self-check)", () => {
    expect(migrationNumberProblems(["0000_a.sql", "0001_b.sql", "0002_c.sql"])).toEqual([]);
    expect(migrationNumberProblems([])).toEqual([]);
    expect(migrationNumberProblems(["0000_a.sql", "0001_b.sql", "0001_c.sql"])).toEqual([
      "number 0001 is used by 0001_b.sql, 0001_c.sql",
    ]);
    expect(migrationNumberProblems(["0000_a.sql", "0002_c.sql"])).toEqual(["number 0001 is missing"]);
    expect(migrationNumberProblems(["0001_b.sql"])).toEqual(["number 0000 is missing"]);
    expect(migrationNumberProblems(["1_a.sql"])).toEqual(["1_a.sql: not named NNNN_name.sql"]);
  });

  it("migrations/*.sql are numbered uniquely and contiguously from 0000", () => {
    const files = sqlFiles(MIGRATIONS);
    expect(files.length).toBeGreaterThan(0);
    expect(migrationNumberProblems(files)).toEqual([]);
  });

  it("drizzle's journal lists exactly the .sql files, in order", () => {
    const journal = JSON.parse(readFileSync(path.join(MIGRATIONS, "meta", "_journal.json"), "utf8")) as {
      entries: { idx: number; tag: string }[];
    };
    expect(journal.entries.map((entry) => `${entry.tag}.sql`)).toEqual(sqlFiles(MIGRATIONS));
    expect(journal.entries.map((entry) => entry.idx)).toEqual(journal.entries.map((_, index) => index));
  });
});

describe("schema and migrations agree", () => {
  it("generating from an empty folder writes a migration (self-check: drizzle-kit sees the schema)", async () => {
    const out = tempDir();
    const output = await generate(out);
    expect(sqlFiles(out), output).toHaveLength(1);
  });

  it("edge/db/schema.ts has no changes that `npm run db:generate` has not turned into a migration", async () => {
    const out = tempDir();
    cpSync(MIGRATIONS, out, { recursive: true });
    const output = await generate(out);
    // Anything new here means the schema changed without a migration: run `npm run db:generate`.
    expect(sqlFiles(out), output).toEqual(sqlFiles(MIGRATIONS));
    expect(output).toContain("No schema changes");
  });
});
