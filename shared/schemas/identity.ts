import { z } from "zod";

/**
 * Request and response shapes of the identity part of the Runtime API
 * (`../shared/api/runtime-api-routes.md`). The edge validates with them and generates
 * its OpenAPI document from them; clients may import them too.
 */

const USERNAME_PATTERN = /^[A-Za-z0-9_]{3,30}$/;

export const email = z
  .email({ message: "must be an email address" })
  .max(254)
  .transform((value) => value.trim().toLowerCase())
  .describe("An email address; compared case-insensitively.");

const username = z
  .string()
  .regex(USERNAME_PATTERN, { message: "3-30 characters: letters, digits and underscore" })
  .describe("3-30 characters: letters, digits and underscore. Unique ignoring case.");

/** Passwords are bounded above too, so nobody can make the server hash megabytes. */
const password = z.string().min(6, { message: "at least 6 characters" }).max(256);

const verificationCode = z
  .string()
  .regex(/^\d{6}$/, { message: "a 6-digit code" })
  .describe("The 6-digit code from the verification email.");

const httpUrl = z.url({ protocol: /^https?$/, message: "must be an http(s) URL" }).max(2048);

export const createVerificationBody = z
  .object({
    username,
    email,
    password,
    redirect_to: httpUrl
      .optional()
      .describe("Where the verification email sends the user; must be one of Kai's own origins."),
  })
  .meta({ id: "CreateVerification" });

export const verificationAccepted = z.object({ email: z.string() }).meta({ id: "VerificationAccepted" });

export const resendVerificationBody = z.object({ email }).meta({ id: "ResendVerification" });

export const verifyBody = z.object({ email, token: verificationCode }).meta({ id: "VerifyCode" });

export const loginBody = z.object({ email, password }).meta({ id: "Login" });

export const refreshBody = z.object({ refresh_token: z.string().min(1).max(512) }).meta({ id: "RefreshToken" });

export const tokenPair = z
  .object({
    access_token: z.string(),
    refresh_token: z.string(),
    expires_in: z.number().int(),
    token_type: z.literal("bearer"),
    user: z.object({ id: z.string(), email: z.string() }),
  })
  .meta({ id: "TokenPair" });

export const userLookupQuery = z.object({ email });

export const userLookup = z
  .object({
    id: z.string(),
    email: z.string(),
    created_at: z.string(),
    email_confirmed_at: z.string().nullable(),
  })
  .meta({ id: "UserLookup" });

export const publicUser = z
  .object({
    id: z.string(),
    username: z.string(),
    avatar_url: z.string().nullable(),
    bio: z.string().nullable(),
  })
  .meta({ id: "User" });

export const updateUserBody = z
  .object({
    username: username.optional(),
    avatar_url: httpUrl.nullable().optional().describe("null clears it"),
    bio: z.string().max(200).nullable().optional().describe("At most 200 characters; null clears it."),
  })
  .strict()
  .meta({ id: "UpdateUser" });

export const usernameParam = z.object({ username });

export type TokenPair = z.infer<typeof tokenPair>;
export type PublicUser = z.infer<typeof publicUser>;
