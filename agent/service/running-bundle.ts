import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The absolute path of the single-file bundle this kai-agent runs from, or `undefined` when
 * it runs from a source checkout (tsx, bin/kai-agent.mjs). In the bundle every module shares
 * one `import.meta.url`, the bundle's own; from sources it names this TypeScript file.
 */
export function runningBundle(moduleUrl: string = import.meta.url): string | undefined {
  const file = fileURLToPath(moduleUrl);
  return file.endsWith(".ts") ? undefined : path.resolve(file);
}
