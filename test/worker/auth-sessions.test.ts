import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../edge/db/client";
import { authSessions, refreshTokens } from "../../edge/db/schema";
import { call, expectProblem, randomIp, registerUser, unique } from "./helpers";

const login = (email: string, password: string, ip = randomIp()) =>
  call("/api/v1/auth/sessions", { body: { email, password }, ip });
const refresh = (refresh_token: string) => call("/api/v1/auth/sessions/refresh", { body: { refresh_token } });
const me = (token: string) => call("/api/v1/users/me", { token });

describe("sign in", () => {
  it("signs in with email (any case) and password", async () => {
    const user = await registerUser();
    const res = await login(user.email.toUpperCase(), user.password);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string; user: { id: string; email: string } };
    expect(body.user).toEqual({ id: user.id, email: user.email });
    expect((await me(body.access_token)).status).toBe(200);
  });

  it("gives the same 401 for a wrong password and an unknown email", async () => {
    const user = await registerUser();
    const wrong = await expectProblem(await login(user.email, "not the password"), 401, "UNAUTHORIZED");
    const unknown = await expectProblem(
      await login(`${unique("ghost")}@example.com`, "whatever1"),
      401,
      "UNAUTHORIZED",
    );
    expect(wrong["detail"]).toBe(unknown["detail"]);
    expect(wrong["title"]).toBe(unknown["title"]);
  });

  it("spends comparable time on unknown emails and wrong passwords (a dummy hash is checked)", async () => {
    const user = await registerUser();
    const timeOf = async (email: string) => {
      const started = performance.now();
      await login(email, "not the password");
      return performance.now() - started;
    };
    const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 5; i++) {
      known.push(await timeOf(user.email));
      unknown.push(await timeOf(`${unique("ghost")}@example.com`));
    }
    // Without the dummy hash an unknown email answers tens of times faster than a PBKDF2 run.
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.3);
  });
});

describe("refresh tokens", () => {
  it("rotates on every use: the new pair works, the old refresh token does not", async () => {
    const user = await registerUser();
    const first = await refresh(user.refreshToken);
    expect(first.status).toBe(200);
    const pair = (await first.json()) as { access_token: string; refresh_token: string };
    expect(pair.refresh_token).not.toBe(user.refreshToken);
    expect((await me(pair.access_token)).status).toBe(200);
    const second = await refresh(pair.refresh_token);
    expect(second.status).toBe(200);
  });

  it("stores refresh tokens hashed only", async () => {
    const user = await registerUser();
    const rows = await database(env.DB).select().from(refreshTokens);
    expect(rows.some((row) => row.tokenHash === user.refreshToken)).toBe(false);
    expect(rows.every((row) => /^[0-9a-f]{64}$/.test(row.tokenHash))).toBe(true);
  });

  it("revokes the whole family when a rotated token is used again", async () => {
    const user = await registerUser();
    const rotated = (await (await refresh(user.refreshToken)).json()) as {
      access_token: string;
      refresh_token: string;
    };
    // An attacker replays the stolen, already-rotated token...
    await expectProblem(await refresh(user.refreshToken), 401, "UNAUTHORIZED");
    // ...and every token of that family stops working, the legitimate newest ones included.
    await expectProblem(await refresh(rotated.refresh_token), 401, "UNAUTHORIZED");
    await expectProblem(await me(rotated.access_token), 401, "UNAUTHORIZED");
    await expectProblem(await me(user.accessToken), 401, "UNAUTHORIZED");
    const [session] = await database(env.DB).select().from(authSessions).where(eq(authSessions.userId, user.id));
    expect(session?.revokedReason).toBe("refresh token reused");
  });

  it("keeps other sessions of the same user alive when one family is revoked", async () => {
    const user = await registerUser();
    const other = (await (await login(user.email, user.password)).json()) as { access_token: string };
    await refresh(user.refreshToken);
    await refresh(user.refreshToken);
    expect((await me(other.access_token)).status).toBe(200);
  });

  it("refuses unknown refresh tokens with 401 and empty ones with 422", async () => {
    await expectProblem(await refresh("kai_rt_made-up"), 401, "UNAUTHORIZED");
    await expectProblem(await refresh(""), 422, "VALIDATION_ERROR");
  });
});

describe("sign out", () => {
  it("ends the session: 204, then its refresh and access tokens are refused", async () => {
    const user = await registerUser();
    const res = await call("/api/v1/auth/sessions", { method: "DELETE", body: { refresh_token: user.refreshToken } });
    expect(res.status).toBe(204);
    expect(res.headers.get("set-cookie")).toMatch(/__Host-kai_session=;/);
    await expectProblem(await refresh(user.refreshToken), 401, "UNAUTHORIZED");
    await expectProblem(await me(user.accessToken), 401, "UNAUTHORIZED");
  });

  it("answers 204 for an unknown token and 422 without one", async () => {
    expect(
      (await call("/api/v1/auth/sessions", { method: "DELETE", body: { refresh_token: "kai_rt_unknown" } })).status,
    ).toBe(204);
    await expectProblem(await call("/api/v1/auth/sessions", { method: "DELETE", body: {} }), 422, "VALIDATION_ERROR");
  });
});
