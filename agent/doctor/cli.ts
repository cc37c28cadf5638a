import { parseArgs } from "node:util";
import { formatReport } from "./format";
import { runDoctor } from "./run-doctor";
import { readSettings } from "./settings";

const USAGE = `Usage: kai-agent doctor [--json] [--config FILE] [--server URL] [--token-file FILE] [--policy FILE]
                        [--docker-socket PATH]

Checks what kai-agent needs, one line each with the fix: its configuration, the server
(reachable, TLS), the agent token (valid, which host), the clock, Docker (reachable and
permitted), the policy file and its allowed roots, the agent profiles' commands, Node's
version, and a round trip through the edge to the running kai-agent.
The options are the agent's own (kai-agent --help), so the doctor checks what it would run with.
Exit status: 0 when no check failed, 1 when one did, 2 for a usage error.
  --json    print the report as JSON (the same report as POST /api/hosts/{id}/doctor)`;

/** `kai-agent doctor`: runs the checks with the agent's configuration; never stops at a broken one. */
export async function doctorCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        server: { type: "string" },
        config: { type: "string" },
        policy: { type: "string" },
        "docker-socket": { type: "string" },
        "token-file": { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    process.stderr.write(`kai-agent doctor: ${(error as Error).message}\nRun kai-agent doctor --help for usage.\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const report = await runDoctor(await readSettings(values));
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.ok ? 0 : 1;
}
