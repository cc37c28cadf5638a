import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../edge/db/client";
import { devMailbox, users, verifications } from "../../edge/db/schema";
import { call, expectProblem, latestCode, randomIp, registerUser, unique } from "./helpers";

const db = () => database(env.DB);

async function start(body: Record<string, unknown>, ip = randomIp()) {
  return call("/api/v1/auth/verifications", { body, ip });
}

describe("registration: happy path", () => {
  it("accepts a registration with 202 {email}, mails a 6-digit code, and verify signs in", async () => {
    const email = `${unique("reg")}@Example.com`;
    const res = await start({ username: unique("r_"), email, password: "secret123" });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ email: email.toLowerCase() });

    const code = await latestCode(email);
    expect(code).toMatch(/^\d{6}$/);
    const verified = await call("/api/v1/auth/verifications/verify", { body: { email, token: code } });
    expect(verified.status).toBe(200);
    const body = (await verified.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: "bearer", expires_in: 3600, user: { email: email.toLowerCase() } });
    expect(typeof body["access_token"]).toBe("string");
    expect(typeof body["refresh_token"]).toBe("string");

    const [row] = await db().select().from(users).where(eq(users.email, email.toLowerCase()));
    expect(row?.emailConfirmedAt).toBeInstanceOf(Date);
    // Only the PBKDF2 hash is stored, with its parameters.
    expect(row?.passwordHash).toMatch(/^pbkdf2-sha256\$100000\$/);
    expect(row?.passwordHash).not.toContain("secret123");
  });

  it("stores only an HMAC of the code, never the code itself", async () => {
    const email = `${unique("hmac")}@example.com`;
    await start({ username: unique("h_"), email, password: "secret123" });
    const code = await latestCode(email);
    const [pending] = await db().select().from(verifications).where(eq(verifications.email, email));
    expect(pending?.codeHash).toMatch(/^[0-9a-f]{64}$/);
    expect(pending?.codeHash).not.toContain(code);
  });

  it("resend answers 204, and only the newest code works", async () => {
    const email = `${unique("resend")}@example.com`;
    await start({ username: unique("s_"), email, password: "secret123" });
    const first = await latestCode(email);
    const resent = await call("/api/v1/auth/verifications/resend", { body: { email } });
    expect(resent.status).toBe(204);
    const second = await latestCode(email);
    if (first !== second) {
      await expectProblem(
        await call("/api/v1/auth/verifications/verify", { body: { email, token: first } }),
        401,
        "UNAUTHORIZED",
      );
    }
    expect((await call("/api/v1/auth/verifications/verify", { body: { email, token: second } })).status).toBe(200);
  });

  it("resend for an unknown email answers 204 too and sends nothing", async () => {
    const email = `${unique("nobody")}@example.com`;
    expect((await call("/api/v1/auth/verifications/resend", { body: { email } })).status).toBe(204);
    expect(await db().select().from(devMailbox).where(eq(devMailbox.to, email))).toHaveLength(0);
  });
});

describe("registration: enumeration safety", () => {
  it("answers an already-registered email exactly like a new one, and mails a notice, not a code", async () => {
    const existing = await registerUser();
    const fresh = `${unique("fresh")}@example.com`;
    const a = await start({ username: unique("e_"), email: existing.email, password: "another1" });
    const b = await start({ username: unique("e_"), email: fresh, password: "another1" });
    expect(a.status).toBe(b.status);
    expect(await a.json()).toEqual({ email: existing.email });
    expect(await b.json()).toEqual({ email: fresh });

    const mails = await db().select().from(devMailbox).where(eq(devMailbox.to, existing.email));
    const notice = mails.find((mail) => mail.subject.includes("tried to register"));
    expect(notice?.code).toBeNull();
    // And no new pending registration was made that could take the account over.
    expect(await db().select().from(verifications).where(eq(verifications.email, existing.email))).toHaveLength(0);
  });
});

describe("registration: errors", () => {
  it("answers a username taken by someone else, ignoring case, with the same 202, and mails the address to choose another", async () => {
    const taken = await registerUser();
    const email = `${unique("x")}@example.com`;
    const res = await start({ username: taken.username.toUpperCase(), email, password: "secret123" });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ email });
    const mails = await db().select().from(devMailbox).where(eq(devMailbox.to, email));
    expect(mails.map((mail) => [mail.subject, mail.code])).toEqual([
      ["Your Kai registration needs another username", null],
    ]);
    expect(await db().select().from(verifications).where(eq(verifications.email, email))).toHaveLength(0);
  });

  it.each([
    ["a too-short username", { username: "ab" }],
    ["a too-long username", { username: "a".repeat(31) }],
    ["a username with symbols", { username: "bad-name!" }],
    ["a bad email", { email: "nope" }],
    ["a short password", { password: "12345" }],
    ["a redirect to another site", { redirect_to: "https://evil.example/phish" }],
    ["a non-http redirect", { redirect_to: "javascript:alert(1)" }],
  ])("refuses %s with 422", async (_label, override) => {
    const body = { username: unique("v_"), email: `${unique("v")}@example.com`, password: "secret123", ...override };
    await expectProblem(await start(body), 422, "VALIDATION_ERROR");
  });

  it("accepts a redirect to one of Kai's own origins", async () => {
    const body = {
      username: unique("v_"),
      email: `${unique("v")}@example.com`,
      password: "secret123",
      redirect_to: "https://app.kai.test/welcome",
    };
    expect((await start(body)).status).toBe(202);
  });

  it("refuses a malformed code with 422 and a wrong one with 401", async () => {
    const email = `${unique("wrong")}@example.com`;
    await start({ username: unique("w_"), email, password: "secret123" });
    await expectProblem(
      await call("/api/v1/auth/verifications/verify", { body: { email, token: "12ab56" } }),
      422,
      "VALIDATION_ERROR",
    );
    const code = await latestCode(email);
    const wrong = code === "000000" ? "000001" : "000000";
    const body = await expectProblem(
      await call("/api/v1/auth/verifications/verify", { body: { email, token: wrong } }),
      401,
      "UNAUTHORIZED",
    );
    expect(body["detail"]).toBe("the code is invalid or has expired");
  });

  it("kills a code after 5 wrong attempts, even for the right code afterwards", async () => {
    const email = `${unique("brute")}@example.com`;
    await start({ username: unique("b_"), email, password: "secret123" });
    const code = await latestCode(email);
    const wrong = (n: number) => String((Number(code) + n) % 1_000_000).padStart(6, "0");
    for (let i = 1; i <= 5; i++) {
      await expectProblem(
        await call("/api/v1/auth/verifications/verify", { body: { email, token: wrong(i) } }),
        401,
        "UNAUTHORIZED",
      );
    }
    await expectProblem(
      await call("/api/v1/auth/verifications/verify", { body: { email, token: code } }),
      401,
      "UNAUTHORIZED",
    );
  });

  it("refuses an expired code", async () => {
    const email = `${unique("expired")}@example.com`;
    await start({ username: unique("x_"), email, password: "secret123" });
    const code = await latestCode(email);
    await db()
      .update(verifications)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(verifications.email, email));
    await expectProblem(
      await call("/api/v1/auth/verifications/verify", { body: { email, token: code } }),
      401,
      "UNAUTHORIZED",
    );
  });

  it("accepts a code once only", async () => {
    const email = `${unique("once")}@example.com`;
    await start({ username: unique("o_"), email, password: "secret123" });
    const code = await latestCode(email);
    expect((await call("/api/v1/auth/verifications/verify", { body: { email, token: code } })).status).toBe(200);
    await expectProblem(
      await call("/api/v1/auth/verifications/verify", { body: { email, token: code } }),
      401,
      "UNAUTHORIZED",
    );
  });

  it("answers 409 when the username was taken between registration and verification", async () => {
    const username = unique("race_");
    const email = `${unique("race")}@example.com`;
    await start({ username, email, password: "secret123" });
    const code = await latestCode(email);
    await registerUser({ username: username.toUpperCase() });
    await expectProblem(
      await call("/api/v1/auth/verifications/verify", { body: { email, token: code } }),
      409,
      "CONFLICT",
    );
  });
});
