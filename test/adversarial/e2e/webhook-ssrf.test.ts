import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Edge, startEdge } from "../../support/edge-server";
import { request, type Session, signUp } from "../../support/kai-client";
import { until } from "../../support/until";
import { startReceiver } from "../../support/webhook-receiver";

/**
 * The read SSRF the probe found, against the real Worker on local workerd and a real receiver
 * on loopback: `http://[::ffff:127.0.0.1]:PORT/` reaches 127.0.0.1. A webhook stored while
 * private targets were allowed (as one made before the fix would be) must be refused at
 * delivery once they are not, recorded as a failed attempt, and never reach the receiver.
 */
const SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
let edge: Edge;
let session: Session;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  receiver = await startReceiver(SECRET);
  edge = await startEdge({ vars: { WEBHOOKS_ALLOW_PRIVATE: "true" } });
  session = await signUp(edge.url);
});
afterAll(async () => {
  await edge?.stop();
  await receiver?.close();
});

const api = (path: string, init: { method?: string; body?: unknown } = {}) =>
  request(edge.url, path, { token: session.token, ...init });

describe("webhook SSRF through an IPv4-mapped IPv6 literal", () => {
  it("is refused at delivery once private targets are off, as a failed attempt, and the receiver hears nothing", async () => {
    const port = new URL(receiver.url).port;
    const url = `http://[::ffff:127.0.0.1]:${port}/hook`;
    const created = await api("/api/webhooks", { body: { url, events: ["host.online"], secret: SECRET } });
    expect(created.status).toBe(201);
    const id = created.body.data.id as string;

    // While private targets are allowed the mapped literal really reaches the loopback receiver.
    await api(`/api/webhooks/${id}/test`, { method: "POST" });
    await receiver.waitFor(1);
    expect(receiver.received[0]?.verified).toBe(true);

    // The same stored webhook, on an edge that refuses private targets (the default).
    await edge.stop();
    edge = await startEdge({ persistDir: edge.persistDir, port: edge.port });
    const heard = receiver.received.length;
    const ping = await api(`/api/webhooks/${id}/test`, { method: "POST" });
    expect(ping.status).toBe(202);
    const deliveryId = ping.body.data.deliveryId as string;
    const delivery = async () =>
      (
        (await api(`/api/webhooks/${id}/deliveries`)).body.data as {
          id: string;
          status: string;
          attempts: { status: number | null; error: string | null; responseExcerpt: string | null }[];
        }[]
      ).find((item) => item.id === deliveryId);
    await until(async () => ((await delivery())?.attempts.length ?? 0) > 0, 30_000, "the first delivery attempt");
    const refused = await delivery();
    expect(refused?.status).toBe("failed");
    expect(refused?.attempts).toHaveLength(1);
    expect(refused?.attempts[0]).toMatchObject({ status: null, responseExcerpt: null });
    expect(refused?.attempts[0]?.error).toContain("must be public");
    // The attempt is recorded after the send would have happened: nothing arrived.
    expect(receiver.received.length).toBe(heard);

    // And registering it again is refused outright.
    const again = await api("/api/webhooks", { body: { url, events: ["host.online"], secret: SECRET } });
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe("VALIDATION_ERROR");
  });
});
