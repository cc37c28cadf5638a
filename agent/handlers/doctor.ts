import { KaiError } from "../../shared/errors";
import { runDoctor } from "../doctor/run-doctor";
import type { Handler } from "./types";

/**
 * `doctor.run`: `kai-agent doctor` inside the running agent, with the settings it runs with.
 * The request came through the agent's connection, so that is the round trip.
 */
export const doctor: Handler<"doctor.run"> = async (_params, ctx) => {
  if (!ctx.settings) throw new KaiError("INTERNAL_ERROR", "this agent was started without settings to check");
  const { server, token, policyFile, dockerSocket } = ctx.settings;
  return runDoctor({ server, token, policyFile, dockerSocket, relayed: true, docker: ctx.docker });
};
