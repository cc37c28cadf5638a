import { execFile } from "node:child_process";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { type ParseArgsConfig, parseArgs, promisify } from "node:util";
import { biomeFormat } from "./support/biome-format";
import { chartSvg } from "./support/chart";
import { consoleTable, notes, updateReadme } from "./support/report";
import { closeAllScopes } from "./support/scope";
import { evaluate, type Row } from "./support/verdict";

/**
 * `npm run bench`: runs every benchmark module of bench/ (a file exporting `benchmark`)
 * and prints one table; writes bench/results/latest.json and latest.svg, and a full run
 * rewrites the README's Benchmarks block. Benchmarks report; they never fail on timing:
 * the exit code is non-zero only when a benchmark could not run at all.
 *
 *   npm run bench                      every benchmark, full length
 *   npm run bench -- --quick           fewer samples, 1-minute idle instead of 10
 *   npm run bench -- --only relay      benchmarks whose name contains "relay" (comma-separated list)
 *   npm run bench -- --only footprint --idle-minutes 60   a longer idle run
 */

export interface RunOptions {
  /** Fewer samples and shorter idle runs, for iterating; the README is not rewritten from it. */
  quick: boolean;
  /** The idle run's length instead of the mode's (agent-footprint); the README is not rewritten from it. */
  idleMinutes?: number | undefined;
}

/** A numeric target; a figure meets it when every given bound holds. */
export interface Target {
  /** value / baseline at most this. */
  ratioAtMost?: number;
  /** value / baseline at least this. */
  ratioAtLeast?: number;
  /** value (in its unit) at most this. */
  atMost?: number;
  /** value (in its unit) at least this. */
  atLeast?: number;
}

/** A condition that is not a number against a bound: no errors, nothing lost. */
export interface Check {
  /** How the target column shows it, e.g. "0 errors". */
  label: string;
  ok: boolean;
  /** The clause a miss says, e.g. "3 requests failed". */
  failure: string;
}

/** One measured figure set against what it is meant to beat. */
export interface Figure {
  figure: string;
  /** What was measured, in `unit`. */
  value: number;
  /** The same thing measured without Kai in the same run, in `unit`; none for absolute figures. */
  baseline?: number;
  /** What the baseline is, e.g. "Worker→DO no-op". */
  baselineLabel?: string;
  unit: string;
  /** Shown instead of the formatted value / baseline (e.g. a range). */
  display?: string;
  baselineDisplay?: string;
  /** The figure meets its target when value / baseline is at most this; undefined: for information. */
  targetRatio?: number;
  target?: Target;
  checks?: Check[];
  /** Shown instead of the target derived from `target` and `checks`. */
  targetLabel?: string;
  /** Why a miss happened, from what the benchmark measured; appended to the verdict. */
  why?: string;
  /** How the numbers were obtained, shown under the table. */
  note?: string;
  /** Raw samples and side measurements, kept in the JSON. */
  details?: unknown;
}

export interface Benchmark {
  name: string;
  /** Position in the table (the issue's numbering); unordered ones come last. */
  order?: number;
  run(options: RunOptions): Promise<Figure[]>;
}

const HERE = import.meta.dirname;
const ROOT = path.resolve(HERE, "..");
const RESULTS = path.join(HERE, "results");
const execFileAsync = promisify(execFile);

async function modules(): Promise<Benchmark[]> {
  const files = (await readdir(HERE)).filter((file) => file.endsWith(".ts") && file !== "run.ts").sort();
  const found: Benchmark[] = [];
  for (const file of files) {
    const loaded: Record<string, unknown> = await import(pathToFileURL(path.join(HERE, file)).href);
    const candidate = loaded.benchmark;
    if (isBenchmark(candidate)) found.push(candidate);
  }
  return found.sort((a, b) => (a.order ?? Number.MAX_SAFE_INTEGER) - (b.order ?? Number.MAX_SAFE_INTEGER));
}

function isBenchmark(value: unknown): value is Benchmark {
  return (
    typeof value === "object" && value !== null && "name" in value && "run" in value && typeof value.run === "function"
  );
}

const USAGE = `npm run bench [-- OPTIONS]
  --quick               fewer samples, a 1-minute idle run instead of 10
  --only NAME[,NAME]    only the benchmarks whose name contains NAME
  --idle-minutes N      agent-footprint's idle run lasts N minutes (1 to 1440)
  --help                this text`;

/** A command line the runner cannot take: printed as it is, without a stack. */
class UsageError extends Error {}

const OPTIONS = {
  quick: { type: "boolean" },
  only: { type: "string", multiple: true },
  "idle-minutes": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

/** The one line a misused option prints: what it takes. */
const TAKES: Record<keyof typeof OPTIONS, string> = {
  quick: "--quick takes no value",
  only: "--only takes benchmark names, NAME[,NAME]",
  "idle-minutes": "--idle-minutes takes a number of minutes from 1 to 1440",
  help: "--help takes no value",
};

interface Args {
  quick: boolean;
  only: string[];
  idleMinutes: number | undefined;
  help: boolean;
}

const isOption = (name: string): name is keyof typeof OPTIONS => Object.hasOwn(OPTIONS, name);

function parseArguments(argv: string[]): Args {
  // Not strict: strict mode throws Node's own messages (an unknown option's says to pass it as a
  // positional after `--`, which the runner refuses too); the tokens say which argument was wrong.
  const { values, tokens } = parseArgs({ args: argv, options: OPTIONS, strict: false, tokens: true });
  for (const token of tokens) {
    if (token.kind !== "option" || !isOption(token.name)) {
      const given = token.kind === "option" ? token.rawName : token.kind === "positional" ? token.value : "--";
      throw new UsageError(`unknown argument ${given}; it takes --quick, --only NAME[,NAME], --idle-minutes N, --help`);
    }
    // Without `strict`, a value-taking option takes the next argument whatever it is: `--only --quick`.
    const missing = token.value === undefined || (!token.inlineValue && token.value.startsWith("-"));
    if (OPTIONS[token.name].type === "string" ? missing : token.value !== undefined) {
      throw new UsageError(`${TAKES[token.name]}, not ${token.value ?? "nothing"}`);
    }
  }
  // Checked above: --only's and --idle-minutes' values are strings, --quick and --help are flags.
  const lists = values.only?.filter((list) => typeof list === "string") ?? [];
  const only = lists.flatMap((list) => list.split(",").map((name) => name.trim())).filter(Boolean);
  if (lists.length > 0 && only.length === 0) throw new UsageError(`${TAKES.only}, not an empty list`);
  const idleMinutes = values["idle-minutes"];
  return {
    quick: values.quick === true,
    only,
    idleMinutes: typeof idleMinutes === "string" ? minutes(idleMinutes) : undefined,
    help: values.help === true,
  };
}

function minutes(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 1 || value > 1440)
    throw new UsageError(`${TAKES["idle-minutes"]}, not ${text}`);
  return value;
}

/** The engine is part of what is measured: bring it up the way `npm test` does. */
async function ensureDocker(): Promise<void> {
  try {
    await execFileAsync("bash", [path.join(ROOT, "scripts", "ensure-docker.sh")], { cwd: ROOT });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    process.stderr.write(
      `bench: no Docker engine could be started; the benchmarks that need it will not run\n${stderr}`,
    );
  }
}

async function machine(): Promise<Record<string, string | number>> {
  const docker = await execFileAsync("docker", ["version", "--format", "{{.Server.Version}}"]).then(
    (result) => result.stdout.trim(),
    () => "unknown",
  );
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    docker,
    os: `${os.type()} ${os.release()}`,
  };
}

async function main(): Promise<number> {
  const { quick, only, idleMinutes, help } = parseArguments(process.argv.slice(2));
  if (help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  // Same isolation as `npm test`: no metrics, no Request.cf download, wrangler's files in the project.
  Object.assign(process.env, {
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    XDG_CONFIG_HOME: path.join(ROOT, ".xdg"),
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      process.stderr.write(`bench: ${signal}: cleaning up…\n`);
      void closeAllScopes().finally(() => process.exit(130));
    });
  }
  await ensureDocker();

  const all = await modules();
  const selected = only.length === 0 ? all : all.filter((bench) => only.some((name) => bench.name.includes(name)));
  if (selected.length === 0)
    throw new Error(`no benchmark matches ${only.join(", ")}; there are: ${all.map((bench) => bench.name).join(", ")}`);

  const started = new Date();
  const rows: Row[] = [];
  const broken: { name: string; error: string }[] = [];
  const durations: Record<string, number> = {};
  for (const bench of selected) {
    process.stderr.write(`running ${bench.name}${quick ? " (quick)" : ""}…\n`);
    const at = performance.now();
    try {
      for (const figure of await bench.run({ quick, idleMinutes })) rows.push(evaluate(bench.name, figure));
    } catch (error) {
      broken.push({ name: bench.name, error: error instanceof Error ? error.message : String(error) });
      process.stderr.write(
        `${bench.name} could not run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    } finally {
      durations[bench.name] = Math.round((performance.now() - at) / 1000);
    }
  }

  process.stdout.write(`\n${consoleTable(rows)}\n`);
  const how = notes(rows);
  if (how.length > 0) process.stdout.write(`\n${how.map((note) => `- ${note}`).join("\n")}\n`);
  for (const failure of broken) process.stdout.write(`\n${failure.name}: COULD NOT RUN: ${failure.error}\n`);

  const mode = quick ? "quick" : "full";
  const env = await machine();
  const heading = `Latest full run: ${started.toISOString().slice(0, 16).replace("T", " ")} UTC, ${env.cpus} × ${env.cpuModel}, Node ${env.node}, Docker ${env.docker}.`;
  await mkdir(RESULTS, { recursive: true });
  const document = {
    measuredAt: started.toISOString(),
    mode,
    only,
    machine: env,
    durationsSeconds: durations,
    broken,
    figures: rows,
  };
  await writeFile(path.join(RESULTS, "latest.json"), `${JSON.stringify(document, null, 2)}\n`);
  await writeFile(
    path.join(RESULTS, "latest.svg"),
    chartSvg(rows, `Kai benchmarks (${mode}), ${started.toISOString().slice(0, 16).replace("T", " ")} UTC`),
  );
  process.stdout.write(`\nresults: bench/results/latest.json, bench/results/latest.svg\n`);

  // The README shows a full run of everything, never a partial, shortened or lengthened one.
  if (!quick && only.length === 0 && idleMinutes === undefined && broken.length === 0) {
    const readme = path.join(ROOT, "README.md");
    const updated = await updateReadme(readme, rows, heading);
    // The table is written unpadded; Biome pads it, or the build test's `biome check` fails.
    if (updated) {
      await biomeFormat(readme).catch((error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        process.stderr.write(
          `bench: README.md has the new table but is not formatted; run \`npx biome format --write README.md\`\n${reason}\n`,
        );
      });
    }
    process.stdout.write(
      updated ? "README.md: Benchmarks table updated\n" : "README.md: no bench markers found; table not updated\n",
    );
  } else {
    process.stdout.write("README.md left as it is (only a full run of every benchmark rewrites it)\n");
  }
  return broken.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (error) => {
    const text =
      error instanceof UsageError
        ? error.message
        : error instanceof Error
          ? (error.stack ?? error.message)
          : String(error);
    process.stderr.write(`bench: ${text}\n`);
    await closeAllScopes();
    process.exit(1);
  },
);
