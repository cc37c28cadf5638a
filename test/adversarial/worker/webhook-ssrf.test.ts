import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../../edge/db/client";
import { webhookAttempts, webhookDeliveries, webhooks } from "../../../edge/db/schema";
import { encryptSecret } from "../../../edge/webhooks/secrets";
import { call, expectEnvelopeError, registerUser } from "../../worker/helpers";

/**
 * The webhook SSRF guard and the secret check, through the real routes and the real
 * dispatcher on workerd (WEBHOOKS_ALLOW_PRIVATE is unset here, so false).
 */
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const create = (token: string, body: Record<string, unknown>) =>
  call("/api/webhooks", { token, body: { events: ["host.online"], secret: SECRET, ...body } });

/** The pepper the Worker under test seals webhook secrets with (set by the test bindings). */
function pepper(): string {
  if (!env.PASSWORD_PEPPER) throw new Error("the worker tests run without PASSWORD_PEPPER");
  return env.PASSWORD_PEPPER;
}

/** A webhook and one pending delivery written straight into D1, as one made before the fix would be. */
async function storedWebhook(url: string, secret: string, deliveries = 1) {
  const user = await registerUser();
  const db = database(env.DB);
  const id = crypto.randomUUID();
  await db.insert(webhooks).values({
    id,
    userId: user.id,
    url,
    events: JSON.stringify(["host.online"]),
    secretCiphertext: await encryptSecret(pepper(), secret),
    createdAt: new Date(),
  });
  const ids: string[] = [];
  for (let n = 0; n < deliveries; n += 1) {
    const deliveryId = `msg_${crypto.randomUUID()}`;
    ids.push(deliveryId);
    const at = new Date(Date.now() - 1000 + n);
    await db.insert(webhookDeliveries).values({
      id: deliveryId,
      webhookId: id,
      eventType: "host.online",
      payload: "{}",
      nextAttemptAt: at,
      createdAt: at,
    });
  }
  return { id, user, deliveryIds: ids };
}

/** Runs the endpoint's dispatcher alarm once, now, exactly as workerd would. */
async function dispatch(webhookId: string) {
  const stub = env.WEBHOOK_DISPATCHER.get(env.WEBHOOK_DISPATCHER.idFromName(webhookId));
  await runInDurableObject(stub, async (_instance, state) => {
    await state.storage.put("webhookId", webhookId);
    await state.storage.setAlarm(Date.now() + 3_600_000);
  });
  expect(await runDurableObjectAlarm(stub)).toBe(true);
}

const attemptsOf = (deliveryId: string) =>
  database(env.DB).select().from(webhookAttempts).where(eq(webhookAttempts.deliveryId, deliveryId));
const deliveryRow = async (deliveryId: string) =>
  (await database(env.DB).select().from(webhookDeliveries).where(eq(webhookDeliveries.id, deliveryId)))[0];

describe("webhook SSRF: non-public targets are refused at registration", () => {
  it.each([
    "http://[::ffff:127.0.0.1]:8080/",
    "http://[::ffff:7f00:1]:8080/",
    "http://[0:0:0:0:0:ffff:127.0.0.1]:8080/",
    "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "http://[::ffff:10.0.0.1]/",
    "http://[::127.0.0.1]/",
    "http://[::ffff:0:127.0.0.1]/",
    "http://[64:ff9b::127.0.0.1]/",
    "http://[64:ff9b:1::a00:1]/",
    "http://[2002:7f00:1::]/",
    "http://[fec0::1]/",
    "http://[2001:db8::1]/",
    "http://localhost./",
    "http://metadata.google.internal./computeMetadata/v1/",
    "http://metadata/",
    "http://0x7f.1/",
    "http://2130706433/",
    "http://127.1/",
    "http://198.18.0.1/",
    "http://192.0.0.170/",
    "http://192.0.2.1/",
    "http://240.0.0.1/",
  ])("refuses %s with 400 VALIDATION_ERROR on the url field", async (url) => {
    const user = await registerUser();
    const body = await expectEnvelopeError(await create(user.accessToken, { url }), 400, "VALIDATION_ERROR");
    expect(body.error.message).toContain("must be public");
    expect((body.error as unknown as { details: { fields: Record<string, string[]> } }).details.fields["url"]).toEqual([
      "must be a public address",
    ]);
  });

  it.each([
    "https://hooks.example.com/kai",
    "https://8.8.8.8/hook",
    "https://[2606:4700::1111]/hook",
    "https://example.com./hook",
  ])("still registers the public %s", async (url) => {
    const user = await registerUser();
    expect((await create(user.accessToken, { url })).status).toBe(201);
  });
});

describe("webhook SSRF: a stored non-public target is refused at delivery time", () => {
  it("records a failed attempt with the refusal and gives up, without sending", async () => {
    const { id, deliveryIds } = await storedWebhook("http://[::ffff:7f00:1]:9/hook", SECRET);
    const [deliveryId] = deliveryIds as [string];
    await dispatch(id);
    const attempts = await attemptsOf(deliveryId);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ status: null, responseExcerpt: null });
    expect(attempts[0]?.error).toContain("must be public");
    expect(attempts[0]?.error).toContain("IPv4-mapped");
    expect(await deliveryRow(deliveryId)).toMatchObject({ status: "failed", attempts: 1, nextAttemptAt: null });
  });

  it("refuses a trailing-dot internal name the same way", async () => {
    const { id, deliveryIds } = await storedWebhook("http://metadata.google.internal./computeMetadata/v1/", SECRET);
    await dispatch(id);
    const [attempt] = await attemptsOf(deliveryIds[0] as string);
    expect(attempt?.error).toContain("must be public");
    expect(await deliveryRow(deliveryIds[0] as string)).toMatchObject({ status: "failed" });
  });
});

describe("webhook secrets: a bad whsec_ secret never wedges deliveries", () => {
  it.each([
    "whsec_!!!!not-base64-at-all!!!!",
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwM",
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw=",
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa=w",
    "whsec_MfKQ9r8G KYqrTwjUPD8ILPZIo2LaLaSw",
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa_w",
  ])("refuses %s at registration with 400 VALIDATION_ERROR on the secret field", async (secret) => {
    const user = await registerUser();
    const body = await expectEnvelopeError(
      await create(user.accessToken, { url: "https://hooks.example.com/kai", secret }),
      400,
      "VALIDATION_ERROR",
    );
    const fields = (body.error as unknown as { details: { fields: Record<string, string[]> } }).details.fields;
    expect(fields["secret"]?.[0]).toContain("base64");
  });

  it("still registers padded and unpadded whsec_ secrets and any plain secret", async () => {
    const user = await registerUser();
    expect(
      (
        await create(user.accessToken, {
          url: "https://hooks.example.com/kai",
          secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await create(user.accessToken, {
          url: "https://hooks.example.com/kai",
          secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS=",
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await create(user.accessToken, {
          url: "https://hooks.example.com/kai",
          secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAA==",
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await create(user.accessToken, {
          url: "https://hooks.example.com/kai",
          secret: "a plain secret of some length",
        })
      ).status,
    ).toBe(201);
  });

  it("turns a stored undecodable secret into failed attempts, every delivery recorded, none left pending", async () => {
    const { id, deliveryIds } = await storedWebhook(
      "https://hooks.example.com/kai",
      "whsec_!!!!not-base64-at-all!!!!",
      2,
    );
    await dispatch(id);
    for (const deliveryId of deliveryIds) {
      const attempts = await attemptsOf(deliveryId);
      expect(attempts).toHaveLength(1);
      expect(attempts[0]?.error).toContain("could not sign");
      expect(attempts[0]?.error).toContain("register the webhook again");
      expect(await deliveryRow(deliveryId)).toMatchObject({ status: "failed", attempts: 1, nextAttemptAt: null });
    }
  });
});
