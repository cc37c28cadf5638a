import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../../edge/db/client";
import { devMailbox, verifications } from "../../../edge/db/schema";
import { call, latestCode, newestCode, randomIp, registerUser, unique } from "../../worker/helpers";

/**
 * Registration from an unauthenticated caller must never replace the credentials of a
 * pending registration, and its answers must not tell a registered email from an unknown one.
 */
const db = () => database(env.DB);
const start = (body: Record<string, unknown>) => call("/api/v1/auth/verifications", { body, ip: randomIp() });
const verify = (email: string, token: string) =>
  call("/api/v1/auth/verifications/verify", { body: { email, token }, ip: randomIp() });
const login = (email: string, password: string) =>
  call("/api/v1/auth/sessions", { body: { email, password }, ip: randomIp() });
const me = async (accessToken: string) =>
  (await (await call("/api/v1/users/me", { token: accessToken })).json()) as { username: string };

describe("a pending registration cannot be taken over", () => {
  it("keeps the owner's username and password when someone registers the same email again", async () => {
    const email = `${unique("victim")}@example.com`;
    const owner = { username: unique("owner_"), password: "owner-password" };
    expect((await start({ ...owner, email })).status).toBe(202);

    // The attacker knows the email and answers exactly like the owner was answered.
    const attack = await start({ username: unique("evil_"), email, password: "attacker-password" });
    expect(attack.status).toBe(202);
    expect(await attack.json()).toEqual({ email });

    // The owner enters the newest code they received.
    const verified = await verify(email, await newestCode(email));
    expect(verified.status).toBe(200);
    const tokens = (await verified.json()) as { access_token: string };
    expect((await me(tokens.access_token)).username).toBe(owner.username);
    expect((await login(email, owner.password)).status).toBe(200);
    expect((await login(email, "attacker-password")).status).toBe(401);
  });

  it("mails the address a notice without a code for a different password, and a fresh code for the same one", async () => {
    const email = `${unique("repeat")}@example.com`;
    const owner = { username: unique("own_"), password: "owner-password" };
    await start({ ...owner, email });
    const pendingRow = async () => (await db().select().from(verifications).where(eq(verifications.email, email)))[0];
    const before = await pendingRow();

    await start({ username: unique("evil_"), email, password: "attacker-password" });
    const mails = await db().select().from(devMailbox).where(eq(devMailbox.to, email));
    const notice = mails.find((mail) => mail.subject.includes("already pending"));
    expect(notice?.code).toBeNull();
    expect(notice?.text).toContain(owner.username);
    expect(mails.filter((mail) => mail.code !== null)).toHaveLength(1);
    // Nothing changed: not the credentials, not the code, not its lifetime.
    expect(await pendingRow()).toEqual(before);

    // The owner asking again with their own password gets a fresh code.

    await start({ ...owner, email });
    const second = await latestCode(email);
    const [row] = await db().select().from(verifications).where(eq(verifications.email, email));
    expect(row?.username).toBe(owner.username);
    expect((await verify(email, second)).status).toBe(200);
    expect((await login(email, owner.password)).status).toBe(200);
  });

  it("lets a new registration replace one that lapsed (a mistyped password is redone after the code's lifetime)", async () => {
    const email = `${unique("lapsed")}@example.com`;
    await start({ username: unique("typo_"), email, password: "mistyped-password" });
    await db()
      .update(verifications)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(verifications.email, email));
    const username = unique("redo_");
    expect((await start({ username, email, password: "intended-password" })).status).toBe(202);
    expect((await verify(email, await latestCode(email))).status).toBe(200);
    expect((await login(email, "intended-password")).status).toBe(200);
  });

  it("does not let resends keep a pending registration alive for ever", async () => {
    const email = `${unique("keepalive")}@example.com`;
    await start({ username: unique("hold_"), email, password: "holder-password" });
    // Started over an hour ago (a pending registration lives an hour at most): a resend now
    // gives no code beyond that lifetime.
    await db()
      .update(verifications)
      .set({ createdAt: new Date(Date.now() - 61 * 60_000) })
      .where(eq(verifications.email, email));
    expect((await call("/api/v1/auth/verifications/resend", { body: { email }, ip: randomIp() })).status).toBe(204);
    const [row] = await db().select().from(verifications).where(eq(verifications.email, email));
    expect(row?.expiresAt.getTime()).toBeLessThanOrEqual(Date.now());
    // So the owner of the email can register it now.
    expect((await start({ username: unique("real_"), email, password: "real-password" })).status).toBe(202);
    expect((await verify(email, await latestCode(email))).status).toBe(200);
    expect((await login(email, "real-password")).status).toBe(200);
  });
});

describe("a taken username does not tell registered emails from unknown ones", () => {
  it("answers the same status and body shape for a registered and an unknown email", async () => {
    const holder = await registerUser();
    const registered = await registerUser();
    const unknown = `${unique("unknown")}@example.com`;
    const a = await start({ username: holder.username, email: registered.email, password: "whatever1" });
    const b = await start({ username: holder.username, email: unknown, password: "whatever1" });
    expect([a.status, a.headers.get("content-type")]).toEqual([b.status, b.headers.get("content-type")]);
    const [bodyA, bodyB] = [(await a.json()) as Record<string, unknown>, (await b.json()) as Record<string, unknown>];
    expect(Object.keys(bodyA).sort()).toEqual(Object.keys(bodyB).sort());
    expect(bodyA).toEqual({ email: registered.email });
    expect(bodyB).toEqual({ email: unknown });
  });
});
