import { doctorCommand } from "./doctor/cli";
import { serviceCommand } from "./service/service-command";
import { upgradeCommand } from "./upgrade/upgrade-command";

/**
 * `kai-agent <subcommand> …`: the commands besides running the agent and `login`, each in its
 * own module. A subcommand gets the arguments after its name and resolves to the exit code;
 * it prints its own errors (with what to do next) and its own `--help`.
 */
export const SUBCOMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  doctor: doctorCommand,
  service: serviceCommand,
  upgrade: upgradeCommand,
};
