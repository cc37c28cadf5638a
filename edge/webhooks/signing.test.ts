import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { WHSEC_SECRET } from "../../shared/schemas/webhooks";
import { generateSecret, signatureHeaders, signingKey } from "./signing";

const payload = JSON.stringify({ type: "webhook.test", timestamp: "2026-01-01T00:00:00.000Z", data: {} });

describe("webhook signing keys", () => {
  it.each([
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS=",
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa",
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa==",
    "a plain secret of some length",
  ])("signs with %s so the reference library verifies it", async (secret) => {
    const headers = await signatureHeaders(secret, "msg_1", Math.floor(Date.now() / 1000), payload);
    const verifier = secret.startsWith("whsec_")
      ? new Webhook(secret)
      : new Webhook(new TextEncoder().encode(secret) as unknown as string, { format: "raw" });
    expect(verifier.verify(payload, headers)).toMatchObject({ type: "webhook.test" });
  });

  it.each([
    "whsec_!!!!not-base64-at-all!!!!",
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwM",
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw=",
    "whsec_MfKQ9r8G KYqrTwjUPD8ILPZIo2LaLaSw",
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa_w",
    "whsec_",
  ])("refuses %s with a message saying what to do", (secret) => {
    expect(WHSEC_SECRET.test(secret)).toBe(false);
    expect(() => signingKey(secret)).toThrow(/register the webhook again/);
  });

  it("generates secrets the check accepts", () => {
    for (let n = 0; n < 20; n += 1) expect(WHSEC_SECRET.test(generateSecret())).toBe(true);
  });
});
