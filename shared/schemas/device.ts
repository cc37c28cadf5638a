import { z } from "zod";
import { host, hostName } from "./hosts";

/**
 * Device login (`/api/v1/device`), RFC 8628's device authorization grant: `kai-agent login`
 * asks for a code, a signed-in person approves it, the agent collects its host token.
 */

/** Consonants without look-alikes (no vowels, so no words; no I/O/U): RFC 8628 §6.1's advice. */
export const USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ";
export const USER_CODE_LENGTH = 8;

/**
 * A user code as a person may type it (any case, with or without the dash or spaces) in its
 * normalised form, `BCDFGHJK`; undefined when it cannot be one.
 */
export function normaliseUserCode(text: string): string | undefined {
  const letters = text.toUpperCase().replace(/[\s-]/g, "");
  if (letters.length !== USER_CODE_LENGTH) return undefined;
  return [...letters].every((letter) => USER_CODE_ALPHABET.includes(letter)) ? letters : undefined;
}

/** `BCDFGHJK` → `BCDF-GHJK`, the form shown to people. */
export function displayUserCode(normalised: string): string {
  return `${normalised.slice(0, 4)}-${normalised.slice(4)}`;
}

const machineText = (max: number) => z.string().trim().min(1).max(max);

export const deviceCodeBody = z
  .object({
    name: hostName.optional().describe("The host name to suggest to the approver (`kai-agent login --name`)"),
    hostname: machineText(255).describe("The machine's hostname"),
    os: machineText(32).describe("Node's `process.platform`, e.g. linux or darwin"),
    arch: machineText(32).describe("Node's `process.arch`, e.g. x64 or arm64"),
  })
  .strict()
  .meta({ id: "DeviceCodeRequest" });

export const deviceCode = z
  .object({
    deviceCode: z.string().describe("The agent's secret for polling `/api/v1/device/token`; never shown to people"),
    userCode: z.string().describe("What the person confirms in the dashboard, e.g. `BCDF-GHJK`"),
    verificationUri: z.string().describe("Where to approve: the dashboard's `/device` page"),
    verificationUriComplete: z.string().describe("The same page with the code filled in"),
    expiresIn: z.number().int().describe("Seconds until both codes expire"),
    interval: z.number().int().describe("Seconds to wait between two polls"),
  })
  .meta({ id: "DeviceCode" });

export const deviceTokenBody = z
  .object({ deviceCode: z.string().min(1).max(200) })
  .strict()
  .meta({ id: "DeviceTokenRequest" });

export const deviceToken = z
  .discriminatedUnion("status", [
    z.object({ status: z.literal("pending") }),
    z.object({
      status: z.literal("approved"),
      host,
      token: z.string().describe("The host's agent token (kai_agent_…): answered once, stored only as a hash"),
    }),
  ])
  .meta({ id: "DeviceToken" });

export const userCodeParam = z.object({
  userCode: z.string().min(1).max(32).describe("The code kai-agent printed, e.g. `BCDF-GHJK` (case and dash optional)"),
});

export const pendingDevice = z
  .object({
    userCode: z.string(),
    name: z.string().nullable().describe("The host name the agent suggested, if any"),
    hostname: z.string(),
    os: z.string(),
    arch: z.string(),
    ip: z.string().describe('The address the request came from ("unattributed" when no trusted proxy names it)'),
    createdAt: z.string(),
    expiresAt: z.string(),
  })
  .meta({ id: "PendingDevice" });

export const deviceApprovalBody = z.object({ name: hostName }).strict().meta({ id: "DeviceApproval" });

export const deviceApproved = z.object({ host }).meta({ id: "DeviceApproved" });
