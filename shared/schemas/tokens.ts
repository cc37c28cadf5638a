import { z } from "zod";

/** Personal API tokens (`/api/tokens`). The secret appears only in the create answer. */

export const createApiTokenBody = z
  .object({
    name: z.string().trim().min(1).max(100).describe('What the token is for, e.g. "CI".'),
    expiresInDays: z.number().int().min(1).max(3650).optional().describe("Omit for a token that never expires."),
  })
  .strict()
  .meta({ id: "CreateApiToken" });

export const apiToken = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().describe("The first characters of the secret, to recognise it."),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
  })
  .meta({ id: "ApiToken" });

export const createdApiToken = apiToken
  .extend({ token: z.string().describe("The secret. Shown once: store it now.") })
  .meta({ id: "CreatedApiToken" });

export const tokenIdParam = z.object({ id: z.string().uuid() });

export type ApiToken = z.infer<typeof apiToken>;
