import { and, eq, lt, lte, sql } from "drizzle-orm";
import { KaiError } from "../../shared/errors";
import type { Config } from "../config";
import type { Db } from "../db/client";
import { isUniqueViolation } from "../db/errors";
import { users, verifications } from "../db/schema";
import type { Mailer } from "../mail/mailer";
import { hmacHex, randomDigits, timingSafeEqual } from "./crypto";
import { dummyPasswordHash, hashPassword, verifyPassword } from "./passwords";

const CODE_TTL_MS = 15 * 60_000;
const CODE_MAX_ATTEMPTS = 5;
/**
 * The longest a pending registration lives, however often its code is re-sent. It keeps its
 * first username and password all that time, so without a bound whoever started it could keep
 * an email from being registered by sending a fresh code every few minutes.
 */
const PENDING_MAX_MS = 4 * CODE_TTL_MS;

const invalidCode = () => new KaiError("UNAUTHORIZED", "the code is invalid or has expired");

/** Codes are stored as an HMAC under the pepper: a leaked table cannot be brute-forced offline. */
function codeHash(config: Config, email: string, code: string): Promise<string> {
  return hmacHex(config.PASSWORD_PEPPER, `verification:${email}:${code}`);
}

async function usernameTaken(db: Db, username: string): Promise<boolean> {
  const [row] = await db
    .select({ id: users.id })
    .from(users)
    .where(sql`lower(${users.username}) = ${username.toLowerCase()}`);
  return Boolean(row);
}

type Pending = typeof verifications.$inferSelect;

/** A pending registration whose lifetime is not over, or undefined. */
async function livePending(db: Db, email: string): Promise<Pending | undefined> {
  const [pending] = await db.select().from(verifications).where(eq(verifications.email, email));
  return pending && pending.expiresAt > new Date() ? pending : undefined;
}

/** A new code, its hash, and when it expires: after CODE_TTL_MS, or with its registration. */
async function newCode(config: Config, email: string, createdAt: Date) {
  const code = randomDigits(6);
  const expiresAt = new Date(Math.min(Date.now() + CODE_TTL_MS, createdAt.getTime() + PENDING_MAX_MS));
  return { code, fields: { codeHash: await codeHash(config, email, code), attempts: 0, expiresAt } };
}

function mailCode(mailer: Mailer, pending: Pick<Pending, "email" | "username">, code: string, expiresAt: Date) {
  const minutes = Math.max(1, Math.round((expiresAt.getTime() - Date.now()) / 60_000));
  return mailer.send({
    to: pending.email,
    subject: "Your Kai verification code",
    text:
      `Your Kai verification code for the username "${pending.username}" is ${code}. It expires in ${minutes} minutes.\n` +
      "If you did not start this registration, do not enter the code: ignore this message.",
    code,
  });
}

/** Replaces a pending registration's code with a fresh one (earlier codes stop working) and mails it. */
async function sendCode(db: Db, config: Config, mailer: Mailer, pending: Pending) {
  const { code, fields } = await newCode(config, pending.email, pending.createdAt);
  await db.update(verifications).set(fields).where(eq(verifications.email, pending.email));
  await mailCode(mailer, pending, code, fields.expiresAt);
}

/**
 * A second registration for an email that is already pending. Only the password the first one
 * chose gets a fresh code; any other request changes nothing (an unauthenticated caller must
 * never replace the credentials the email's owner will confirm) and the address gets a notice
 * saying when the pending registration runs out, after which anyone may start again.
 */
async function repeatRegistration(db: Db, config: Config, mailer: Mailer, pending: Pending, password: string) {
  if (await verifyPassword(password, pending.passwordHash, config.PASSWORD_PEPPER)) {
    await sendCode(db, config, mailer, pending);
    return;
  }
  await mailer.send({
    to: pending.email,
    subject: "A Kai registration for your email is already pending",
    text:
      `A registration for this email (username "${pending.username}") is already waiting for its code, and a new ` +
      "request with a different password was ignored. If the pending one is yours, enter the code we sent, or " +
      `register again with the same password for a new code. If it is not yours, enter no code: it lapses at ${pending.expiresAt.toISOString()}, and you can register then.`,
  });
}

/**
 * Starts a registration. The answer is the same 202 whatever the outcome (same body, one
 * password hash computed on every path), so the endpoint reveals neither who is registered
 * nor which usernames go with which emails; what happened is told only to the address
 * itself, by mail:
 *   - a registered email gets a notice instead of a code;
 *   - a pending email keeps its first username and password until it lapses (`repeatRegistration`);
 *   - a taken username gets a notice asking for another one (a 409 here, but not for a registered
 *     email, would tell the two apart);
 *   - otherwise a pending registration is made, or replaces a lapsed one, and a code is sent.
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
  const pending = await livePending(db, input.email);
  if (pending) return repeatRegistration(db, config, mailer, pending, input.password);
  if (await usernameTaken(db, input.username)) {
    await verifyPassword(input.password, await dummyPasswordHash(config.PASSWORD_PEPPER), config.PASSWORD_PEPPER);
    await mailer.send({
      to: input.email,
      subject: "Your Kai registration needs another username",
      text: `The username "${input.username}" is already taken on Kai, so no account was started. Register again with another username.`,
    });
    return;
  }
  const now = new Date();
  const { code, fields } = await newCode(config, input.email, now);
  const row = {
    email: input.email,
    username: input.username,
    passwordHash: await hashPassword(input.password, config.PASSWORD_PEPPER),
    redirectTo: input.redirectTo ?? null,
    ...fields,
    createdAt: now,
  };
  // Written live in one statement, replacing only a lapsed row: when two requests race for a
  // fresh email, the first one keeps it and the second changes nothing.
  const [claimed] = await db
    .insert(verifications)
    .values(row)
    .onConflictDoUpdate({ target: verifications.email, set: row, setWhere: lte(verifications.expiresAt, now) })
    .returning({ email: verifications.email });
  if (claimed) return mailCode(mailer, row, code, fields.expiresAt);
  const winner = await livePending(db, input.email);
  if (winner) await repeatRegistration(db, config, mailer, winner, input.password);
}

/** Sends a fresh code for a pending registration; silently does nothing otherwise. */
export async function resendCode(db: Db, config: Config, mailer: Mailer, email: string): Promise<void> {
  const pending = await livePending(db, email);
  if (pending) await sendCode(db, config, mailer, pending);
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
    .where(
      and(
        eq(verifications.email, email),
        eq(verifications.codeHash, pending.codeHash),
        lt(verifications.attempts, CODE_MAX_ATTEMPTS),
      ),
    )
    .returning();
  if (!consumed) throw invalidCode();

  const user = { id: crypto.randomUUID(), email, username: consumed.username };
  try {
    await db
      .insert(users)
      .values({ ...user, passwordHash: consumed.passwordHash, emailConfirmedAt: now, createdAt: now });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new KaiError(
        "CONFLICT",
        "that username or email was registered meanwhile; start again with another username",
      );
    }
    throw error;
  }
  return user;
}
