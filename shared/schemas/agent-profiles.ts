import { z } from "zod";

/** Agent profiles: the coding agents a host's owner lets kai-agent start (its config), as hosts report them. */

/** A profile's name: chosen by the host's owner in kai-agent's config; the edge can only name one. */
export const agentProfileName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,31}$/, "a profile name: lowercase letters, digits, '.', '_' or '-', at most 32");

/** A profile as the host reports it (hello, `GET /api/hosts/{id}`): what runs, never its environment. */
export const agentProfileInfo = z.object({
  name: agentProfileName,
  /** The command as configured (a name looked up on PATH, or an absolute path). */
  command: z.string().min(1).max(255),
  args: z.array(z.string().max(1024)).max(64),
  /** The profile a session gets when none is named (the first available one unless configured). */
  default: z.boolean(),
});

export type AgentProfileInfo = z.infer<typeof agentProfileInfo>;
