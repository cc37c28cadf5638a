import { KaiError } from "../../shared/errors";
import type { Handler } from "./types";

/**
 * `doctor.run`: `kai-agent doctor` inside the running agent, with the settings it runs with.
 * The request came through the agent's connection, so that is the round trip. The doctor's
 * checks load with the first run, as `kai-agent doctor` loads them (agent/subcommands.ts).
 */
export const doctor: Handler<"doctor.run"> = async (_params, ctx) => {
  if (!ctx.settings) throw new KaiError("INTERNAL_ERROR", "this agent was started without settings to check");
  const { server, token, policyFile, dockerSocket } = ctx.settings;
  const { runDoctor } = await import("../doctor/run-doctor");
  return runDoctor({ server, token, policyFile, dockerSocket, relayed: true, docker: ctx.docker });
};
