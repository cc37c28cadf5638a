import { and, eq, lt, sql } from "drizzle-orm";
import { KaiError } from "../../shared/errors";
import type { Config } from "../config";
import type { Db } from "../db/client";
import { isUniqueViolation } from "../db/errors";
import { users, verifications } from "../db/schema";
import type { Mailer } from "../mail/mailer";
import { hmacHex, randomDigits, timingSafeEqual } from "./crypto";
import { dummyPasswordHash, hashPassword, verifyPassword } from "./passwords";

export const CODE_TTL_MS = 15 * 60_000;
export const CODE_MAX_ATTEMPTS = 5;

const invalidCode = () => new KaiError("UNAUTHORIZED", "the code is invalid or has expired");

/** Codes are stored as an HMAC under the pepper: a leaked table cannot be brute-forced offline. */
function codeHash(config: Config, email: string, code: string): Promise<string> {
  return hmacHex(config.PASSWORD_PEPPER, `verification:${email}:${code}`);
}

export async function usernameTaken(db: Db, username: string): Promise<boolean> {
  const [row] = await db
    .select({ id: users.id })
    .from(users)
    .where(sql`lower(${users.username}) = ${username.toLowerCase()}`);
  return Boolean(row);
}

async function sendCode(db: Db, config: Config, mailer: Mailer, email: string) {
  const code = randomDigits(6);
  await db
    .update(verifications)
    .set({ codeHash: await codeHash(config, email, code), attempts: 0, expiresAt: new Date(Date.now() + CODE_TTL_MS) })
    .where(eq(verifications.email, email));
  await mailer.send({
    to: email,
    subject: "Your Kai verification code",
    text: `Your Kai verification code is ${code}. It expires in 15 minutes.`,
    code,
  });
}

/**
 * Starts a registration. An email that already has an account gets a notice instead of a
 * code, and the answer is the same either way (same status, same body, a password hash
 * computed on both paths), so the endpoint does not reveal who is registered.
 */
export async function startRegistration(
  db: Db,
  config: Config,
  mailer: Mailer,
  input: { username: string; email: string; password: string; redirectTo?: string | undefined },
): Promise<void> {
  const [existing] = await db.select({ id: users.id }).from(users).where(eq(users.email, input.email));
  if (existing) {
    await verifyPassword(input.password, await dummyPasswordHash(config.PASSWORD_PEPPER), config.PASSWORD_PEPPER);
    await mailer.send({
      to: input.email,
      subject: "Someone tried to register with your email",
      text: "An account with this email already exists on Kai. If this was you, sign in instead; otherwise ignore this message.",
    });
    return;
  }
  // Usernames are public (GET /users/{username}), so saying one is taken reveals nothing.
  if (await usernameTaken(db, input.username)) {
    throw new KaiError("CONFLICT", "that username is taken; choose another", { details: { field: "username" } });
  }
  const passwordHash = await hashPassword(input.password, config.PASSWORD_PEPPER);
  const row = {
    email: input.email,
    username: input.username,
    passwordHash,
    redirectTo: input.redirectTo ?? null,
    codeHash: "",
    attempts: 0,
    expiresAt: new Date(0),
    createdAt: new Date(),
  };
  await db.insert(verifications).values(row).onConflictDoUpdate({ target: verifications.email, set: row });
  await sendCode(db, config, mailer, input.email);
}

/** Sends a fresh code for a pending registration; silently does nothing otherwise. */
export async function resendCode(db: Db, config: Config, mailer: Mailer, email: string): Promise<void> {
  const [pending] = await db.select({ email: verifications.email }).from(verifications).where(eq(verifications.email, email));
  if (pending) await sendCode(db, config, mailer, email);
}

/**
 * Checks a code and, when it matches, turns the pending registration into a confirmed
 * user. Each wrong guess is counted; after CODE_MAX_ATTEMPTS the code is dead. The
 * pending row is consumed by a conditional DELETE, so a code works exactly once.
 */
export async function confirmRegistration(db: Db, config: Config, email: string, code: string) {
  const now = new Date();
  const [pending] = await db.select().from(verifications).where(eq(verifications.email, email));
  const expected = await codeHash(config, email, code);
  if (!pending || pending.expiresAt <= now || pending.attempts >= CODE_MAX_ATTEMPTS) throw invalidCode();
  if (!timingSafeEqual(expected, pending.codeHash)) {
    await db
      .update(verifications)
      .set({ attempts: sql`${verifications.attempts} + 1` })
      .where(eq(verifications.email, email));
    throw invalidCode();
  }
  const [consumed] = await db
    .delete(verifications)
    .where(and(eq(verifications.email, email), eq(verifications.codeHash, pending.codeHash), lt(verifications.attempts, CODE_MAX_ATTEMPTS)))
    .returning();
  if (!consumed) throw invalidCode();

  const user = { id: crypto.randomUUID(), email, username: consumed.username };
  try {
    await db.insert(users).values({ ...user, passwordHash: consumed.passwordHash, emailConfirmedAt: now, createdAt: now });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new KaiError("CONFLICT", "that username or email was registered meanwhile; start again with another username");
    }
    throw error;
  }
  return user;
}
