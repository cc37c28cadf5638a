/**
 * `kai-agent <subcommand> …`: the commands besides running the agent and `login`, each in its
 * own module. A subcommand gets the arguments after its name and resolves to the exit code;
 * it prints its own errors (with what to do next) and its own `--help`.
 *
 * Each module is imported when its command runs: the running agent (a long-lived service)
 * then never loads the upgrade's or the service installer's code and schemas.
 */
export const SUBCOMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  doctor: async (argv) => (await import("./doctor/cli")).doctorCommand(argv),
  service: async (argv) => (await import("./service/service-command")).serviceCommand(argv),
  upgrade: async (argv) => (await import("./upgrade/upgrade-command")).upgradeCommand(argv),
};
