import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../edge/db/client";
import { apiTokens } from "../../edge/db/schema";
import { call, expectEnvelopeError, expectProblem, registerUser } from "./helpers";

interface Created {
  id: string;
  name: string;
  prefix: string;
  token: string;
  expiresAt: string | null;
}

async function createToken(accessToken: string, body: Record<string, unknown> = { name: "ci" }): Promise<Created> {
  const res = await call("/api/tokens", { body, token: accessToken });
  expect(res.status).toBe(201);
  const envelope = (await res.json()) as { success: boolean; data: Created };
  expect(envelope.success).toBe(true);
  return envelope.data;
}

describe("personal API tokens", () => {
  it("creates a token whose secret is shown once and works as a Bearer on every route", async () => {
    const user = await registerUser();
    const created = await createToken(user.accessToken, { name: "laptop", expiresInDays: 30 });
    expect(created.token).toMatch(/^kai_pat_[A-Za-z0-9_-]{43}$/);
    expect(created.token.startsWith(created.prefix)).toBe(true);
    expect(Date.parse(created.expiresAt ?? "")).toBeGreaterThan(Date.now() + 29 * 86_400_000);

    const res = await call("/api/v1/users/me", { token: created.token });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: user.id, username: user.username });
    expect((await call("/api/tokens", { token: created.token })).status).toBe(200);

    const list = (await (await call("/api/tokens", { token: user.accessToken })).json()) as {
      data: { tokens: Record<string, unknown>[] };
    };
    expect(list.data.tokens).toHaveLength(1);
    expect(list.data.tokens[0]).toMatchObject({ id: created.id, name: "laptop", prefix: created.prefix });
    expect(list.data.tokens[0]).not.toHaveProperty("token");
    expect(JSON.stringify(list)).not.toContain(created.token);
  });

  it("stores only the SHA-256 of the secret", async () => {
    const user = await registerUser();
    const created = await createToken(user.accessToken);
    const [row] = await database(env.DB).select().from(apiTokens).where(eq(apiTokens.id, created.id));
    expect(row?.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(created.token);
  });

  it("stops working on the very next request after revocation", async () => {
    const user = await registerUser();
    const created = await createToken(user.accessToken);
    expect((await call("/api/v1/users/me", { token: created.token })).status).toBe(200);
    const revoked = await call(`/api/tokens/${created.id}`, { method: "DELETE", token: user.accessToken });
    expect(revoked.status).toBe(200);
    expect(await revoked.json()).toMatchObject({ success: true, data: { id: created.id } });
    await expectProblem(await call("/api/v1/users/me", { token: created.token }), 401, "UNAUTHORIZED");
    await expectEnvelopeError(await call("/api/tokens", { token: created.token }), 401, "UNAUTHORIZED");
  });

  it("refuses an expired token", async () => {
    const user = await registerUser();
    const created = await createToken(user.accessToken, { name: "short", expiresInDays: 1 });
    await database(env.DB)
      .update(apiTokens)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(apiTokens.id, created.id));
    await expectProblem(await call("/api/v1/users/me", { token: created.token }), 401, "UNAUTHORIZED");
  });

  it("treats another user's token as not found, and leaves it working", async () => {
    const owner = await registerUser();
    const stranger = await registerUser();
    const created = await createToken(owner.accessToken);
    await expectEnvelopeError(
      await call(`/api/tokens/${created.id}`, { method: "DELETE", token: stranger.accessToken }),
      404,
      "NOT_FOUND",
    );
    const list = (await (await call("/api/tokens", { token: stranger.accessToken })).json()) as {
      data: { tokens: unknown[] };
    };
    expect(list.data.tokens).toHaveLength(0);
    expect((await call("/api/v1/users/me", { token: created.token })).status).toBe(200);
  });

  it("validates input in the envelope format", async () => {
    const user = await registerUser();
    await expectEnvelopeError(
      await call("/api/tokens", { body: { name: "x", expiresInDays: 0 }, token: user.accessToken }),
      400,
      "VALIDATION_ERROR",
    );
    await expectEnvelopeError(
      await call("/api/tokens", { body: { name: "x", admin: true }, token: user.accessToken }),
      400,
      "VALIDATION_ERROR",
    );
    await expectEnvelopeError(
      await call("/api/tokens/not-a-uuid", { method: "DELETE", token: user.accessToken }),
      400,
      "VALIDATION_ERROR",
    );
    await expectEnvelopeError(await call("/api/tokens", { body: { name: "x" } }), 401, "UNAUTHORIZED");
    await expectEnvelopeError(await call("/api/tokens", { token: "kai_pat_forged" }), 401, "UNAUTHORIZED");
  });
});
