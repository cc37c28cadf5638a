import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../edge/db/client";
import { webhooks } from "../../edge/db/schema";
import { call, expectEnvelopeError, registerUser } from "./helpers";

const create = (token: string, body: Record<string, unknown>) => call("/api/webhooks", { token, body });
const valid = {
  url: "https://hooks.example.com/kai",
  events: ["service:start", "container.died"],
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
};

describe("webhook registration", () => {
  it("registers, lists and deletes an endpoint; the secret is never shown back or stored in the clear", async () => {
    const user = await registerUser();
    const created = await create(user.accessToken, valid);
    expect(created.status).toBe(201);
    const body = (await created.json()) as {
      data: { id: string; url: string; events: string[]; active: boolean; secret?: string };
    };
    expect(body.data).toMatchObject({ url: valid.url, events: valid.events, active: true });
    expect(body.data.secret).toBeUndefined();

    const [row] = await database(env.DB).select().from(webhooks).where(eq(webhooks.id, body.data.id));
    expect(row?.secretCiphertext).toMatch(/^v1\./);
    expect(row?.secretCiphertext).not.toContain("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");

    const listed = (await (await call("/api/webhooks", { token: user.accessToken })).json()) as {
      data: { id: string }[];
    };
    expect(listed.data.map((hook) => hook.id)).toEqual([body.data.id]);
    expect(JSON.stringify(listed)).not.toContain("whsec_");

    expect((await call(`/api/webhooks/${body.data.id}`, { method: "DELETE", token: user.accessToken })).status).toBe(
      200,
    );
    expect(
      ((await (await call("/api/webhooks", { token: user.accessToken })).json()) as { data: unknown[] }).data,
    ).toEqual([]);
  });

  it("generates a secret when none is given and shows it once", async () => {
    const user = await registerUser();
    const created = (await (await create(user.accessToken, { url: valid.url, events: ["host.online"] })).json()) as {
      data: { secret: string };
    };
    expect(created.data.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
  });

  it.each([
    ["a loopback target", { url: "http://127.0.0.1:8080/hook" }],
    ["localhost", { url: "http://localhost/hook" }],
    ["a private network", { url: "http://192.168.1.10/hook" }],
    ["cloud metadata", { url: "http://169.254.169.254/latest" }],
    ["IPv6 loopback", { url: "http://[::1]/hook" }],
    ["an IPv4-mapped loopback", { url: "http://[::ffff:127.0.0.1]/hook" }],
    ["a trailing-dot internal name", { url: "http://metadata.google.internal./" }],
    ["a whsec_ secret that is not base64", { secret: "whsec_!!!!not-base64-at-all!!!!" }],
    ["credentials in the URL", { url: "https://user:pw@hooks.example.com/" }],
    ["a non-http URL", { url: "ftp://hooks.example.com/" }],
    ["an unknown event", { events: ["container.exploded"] }],
    ["no events", { events: [] }],
    ["a short secret", { secret: "short" }],
    ["an unknown field", { retries: 99 }],
  ])("refuses %s with 400", async (_label, override) => {
    const user = await registerUser();
    await expectEnvelopeError(await create(user.accessToken, { ...valid, ...override }), 400, "VALIDATION_ERROR");
  });

  it("hides another user's webhooks: listing, deleting, testing and deliveries are 404", async () => {
    const owner = await registerUser();
    const stranger = await registerUser();
    const { data } = (await (await create(owner.accessToken, valid)).json()) as { data: { id: string } };
    expect(
      ((await (await call("/api/webhooks", { token: stranger.accessToken })).json()) as { data: unknown[] }).data,
    ).toEqual([]);
    await expectEnvelopeError(
      await call(`/api/webhooks/${data.id}`, { method: "DELETE", token: stranger.accessToken }),
      404,
      "NOT_FOUND",
    );
    await expectEnvelopeError(
      await call(`/api/webhooks/${data.id}/test`, { method: "POST", token: stranger.accessToken }),
      404,
      "NOT_FOUND",
    );
    await expectEnvelopeError(
      await call(`/api/webhooks/${data.id}/deliveries`, { token: stranger.accessToken }),
      404,
      "NOT_FOUND",
    );
    await expectEnvelopeError(
      await call(`/api/webhooks/${data.id}/deliveries/msg_00000000-0000-0000-0000-000000000000/redeliver`, {
        method: "POST",
        token: stranger.accessToken,
      }),
      404,
      "NOT_FOUND",
    );
  });

  it("requires sign-in", async () => {
    await expectEnvelopeError(await call("/api/webhooks"), 401, "UNAUTHORIZED");
  });
});
