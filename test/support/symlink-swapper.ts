import { type ChildProcess, spawn } from "node:child_process";

/**
 * The attacker of the symlink-race tests: a real process that, for each [entry, target]
 * pair, renames the folder `entry` aside, puts a symlink to `target` in its place, then puts
 * the folder back, as fast as it can. It stops when the stop file appears (or after a
 * minute, whatever happens) and prints how many swaps it made.
 */
const SWAPPER = `
const fs = require("node:fs");
const [pairs, stop] = JSON.parse(process.argv[1]);
const deadline = Date.now() + 60000;
let swaps = 0;
process.stdout.write("started\\n");
while (!fs.existsSync(stop) && Date.now() < deadline) {
  for (const [entry, target] of pairs) {
    const aside = entry + ".aside";
    try { fs.renameSync(entry, aside); } catch {}
    try { fs.symlinkSync(target, entry); swaps++; } catch {}
    try { fs.unlinkSync(entry); } catch {}
    try { fs.renameSync(aside, entry); } catch (error) {
      // The API created a fresh folder there meanwhile (settings.write does): drop it, keep ours.
      if (error.code === "ENOTEMPTY" || error.code === "EEXIST") { try { fs.rmSync(entry, { recursive: true }); fs.renameSync(aside, entry); } catch {} }
    }
  }
}
process.stdout.write("swaps " + swaps + "\\n");
`;

/** Starts the attacker; `output` is what it printed so far (`swaps N` once it stopped). */
export function startSwapper(
  pairs: Array<[string, string]>,
  stop: string,
): { child: ChildProcess; output: () => string } {
  let output = "";
  const child = spawn(process.execPath, ["-e", SWAPPER, JSON.stringify([pairs, stop])], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  child.stdout!.on("data", (data: Buffer) => {
    output += data.toString();
  });
  return { child, output: () => output };
}
