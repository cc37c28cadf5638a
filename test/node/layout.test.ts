/**
 * The three folders are the architecture (DESIGN.md): `shared/` depends on zod only, and
 * `edge/` and `agent/` never import each other. Nothing in TypeScript enforces that, so
 * this test does, by reading every import specifier in those folders.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
const SOURCE = /\.(?:[cm]?ts|tsx|[cm]?js)$/;

/**
 * Every module specifier in `source`: `import … from`, `export … from`, side-effect
 * `import "x"`, dynamic `import("x")` and `require("x")`. A regex, not a parser, but
 * anchored to statement starts so JSDoc examples (lines starting with `*`) do not count.
 */
function importSpecifiers(source: string): string[] {
  const patterns = [
    /^\s*(?:import|export)\s[^;]*?\bfrom\s*(["'])([^"'\n]+)\1/gm, // may span lines: import {\n a,\n} from "x"
    /^\s*import\s*(["'])([^"'\n]+)\1/gm,
    /\b(?:import|require)\s*\(\s*(["'])([^"'\n]+)\1\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((match) => match[2] as string));
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return []; // agent/ does not exist until the agent is written
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && SOURCE.test(entry.name) && !entry.parentPath.includes("node_modules"))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

const inside = (dir: string, target: string) => target === dir || target.startsWith(dir + path.sep);
const resolveFrom = (file: string, specifier: string) => path.resolve(path.dirname(file), specifier);
const isRelative = (specifier: string) => specifier.startsWith("./") || specifier.startsWith("../");

/** Problems with one shared/ file: anything but zod, or a relative path leaving shared/. */
function sharedViolations(file: string, source: string, sharedDir: string): string[] {
  // Test files may use the test runner; they are not shipped to either side.
  const allowed = (s: string) => s === "zod" || s.startsWith("zod/") || (/\.test\.ts$/.test(file) && s === "vitest");
  return importSpecifiers(source)
    .filter((s) => (isRelative(s) ? !inside(sharedDir, resolveFrom(file, s)) : !allowed(s)))
    .map((s) => `${path.relative(ROOT, file)} imports "${s}"`);
}

/** Problems with one file of `fromDir`: any relative import that lands in `forbiddenDir`. */
function crossViolations(file: string, source: string, forbiddenDir: string): string[] {
  return importSpecifiers(source)
    .filter((s) => isRelative(s) && inside(forbiddenDir, resolveFrom(file, s)))
    .map((s) => `${path.relative(ROOT, file)} imports "${s}"`);
}

const read = (file: string) => readFileSync(file, "utf8");
const dirs = { shared: path.join(ROOT, "shared"), edge: path.join(ROOT, "edge"), agent: path.join(ROOT, "agent") };

describe("import layout", () => {
  it("the checker itself catches bad imports (so a green run means something)", () => {
    const sample = [
      '/** import { nope } from "../edge/jsdoc-example"; */',
      "import {",
      "  a,",
      "  type B,",
      '} from "../edge/app";',
      'export { c } from "./ok";',
      'export * from "hono";',
      "import './side-effect';",
      'const lazy = await import("../agent/lazy");',
    ].join("\n");
    expect(importSpecifiers(sample).sort()).toEqual(["../agent/lazy", "../edge/app", "./ok", "./side-effect", "hono"]);

    const sharedFile = path.join(dirs.shared, "x.ts");
    expect(sharedViolations(sharedFile, sample, dirs.shared).sort()).toEqual([
      'shared/x.ts imports "../agent/lazy"',
      'shared/x.ts imports "../edge/app"',
      'shared/x.ts imports "hono"',
    ]);
    expect(
      sharedViolations(sharedFile, 'import { z } from "zod";\nimport { e } from "./errors";', dirs.shared),
    ).toEqual([]);
    // A relative path may climb and come back down, as long as it ends inside shared/.
    expect(sharedViolations(sharedFile, 'import { s } from "../shared/schemas/identity";', dirs.shared)).toEqual([]);
    const edgeFile = path.join(dirs.edge, "routes", "hosts.ts");
    expect(crossViolations(edgeFile, 'import { run } from "../../agent/rpc";', dirs.agent)).toHaveLength(1);
    expect(crossViolations(edgeFile, 'import { app } from "../app";', dirs.agent)).toEqual([]);
  });

  it("shared/ imports only zod and files inside shared/", () => {
    const files = sourceFiles(dirs.shared);
    expect(files.length).toBeGreaterThan(0);
    expect(files.flatMap((file) => sharedViolations(file, read(file), dirs.shared))).toEqual([]);
  });

  it("edge/ never imports agent/", () => {
    const files = sourceFiles(dirs.edge);
    // The real sources must yield specifiers too, or the parser has silently stopped matching.
    expect(files.flatMap((file) => importSpecifiers(read(file))).length).toBeGreaterThan(files.length);
    expect(files.flatMap((file) => crossViolations(file, read(file), dirs.agent))).toEqual([]);
  });

  it("agent/ never imports edge/", () => {
    expect(sourceFiles(dirs.agent).flatMap((file) => crossViolations(file, read(file), dirs.edge))).toEqual([]);
  });

  it("agent/runtime/ never imports upward from the policy or the handlers (they hand it what it needs)", () => {
    const runtime = sourceFiles(path.join(dirs.agent, "runtime"));
    expect(runtime.length).toBeGreaterThan(0);
    const above = [path.join(dirs.agent, "policy"), path.join(dirs.agent, "handlers")];
    expect(runtime.flatMap((file) => above.flatMap((dir) => crossViolations(file, read(file), dir)))).toEqual([]);
  });
});
