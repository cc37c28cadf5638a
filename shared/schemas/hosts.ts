import { z } from "zod";
import { agentProfileInfo } from "./agent-profiles";

/** Enrolled machines (`/api/hosts`). */

/** A host's name, as enrolling and renaming take it (and a device login's approval). */
export const hostName = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9 _.-]*$/, {
    message: "letters, digits, space, _ . - (starting with a letter or digit)",
  });

export const createHostBody = z.object({ name: hostName }).strict().meta({ id: "CreateHost" });
export const renameHostBody = z.object({ name: hostName }).strict().meta({ id: "RenameHost" });
export const hostIdParam = z.object({ id: z.uuid() });

export const host = z
  .object({
    id: z.string(),
    name: z.string(),
    online: z.boolean(),
    lastSeenAt: z.string().nullable(),
    agentVersion: z.string().nullable(),
    outdated: z
      .boolean()
      .describe(
        "Its agent last reported a version older than latestAgentVersion: run `kai-agent upgrade` on that machine. " +
          "False when the version is unknown or not semver (a source checkout)",
      ),
    latestAgentVersion: z.string().describe("The kai-agent release this edge serves (`/agent/kai-agent.json`)"),
    dockerVersion: z.string().nullable(),
    dockerOk: z.boolean().nullable(),
    os: z.string().nullable(),
    arch: z.string().nullable(),
    agentProfiles: z
      .array(agentProfileInfo)
      .describe("The coding agents its owner allows for agent sessions (kai-agent's policy file); [] when none"),
    createdAt: z.string(),
  })
  .meta({ id: "Host" });

export const enrolledHost = z
  .object({
    host,
    token: z.string().describe("The agent token. Shown once: copy it now."),
    command: z
      .string()
      .describe(
        "The command to run on that machine: `kai-agent login --server <origin> --with-token && kai-agent`. It asks for the token (paste `token`), stores it in a 0600 file, then starts the agent; the token is never on a command line. (`kai-agent login --server <origin>` alone enrolls by device login instead: no token to copy.)",
      ),
    install: z
      .string()
      .describe(
        "The one line that installs kai-agent on that machine and logs it in with this token: " +
          "`curl -fsSL <origin>/install.sh | sh -s -- --with-token` " +
          "(it asks for the token at the terminal, then starts the agent).",
      ),
  })
  .meta({ id: "EnrolledHost" });

export type Host = z.infer<typeof host>;

/** How a machine joins this Kai: the address agents reach and the one line to run there. */
export const installInfo = z
  .object({
    server: z
      .string()
      .describe("The address machines reach this Kai at (PUBLIC_ORIGIN when set, else the request's origin)"),
    install: z
      .string()
      .describe(
        "The one line to run on a machine: `curl -fsSL <server>/install.sh | sh` (device login, no token to copy)",
      ),
  })
  .meta({ id: "InstallInfo" });
