import { WHSEC_SECRET } from "../../shared/schemas/webhooks";
import { fromBase64, hmacSha256, toBase64 } from "../identity/crypto";

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): HMAC-SHA256 over
 * `${id}.${timestamp}.${body}`, sent as `webhook-signature: v1,<base64>`. Written here on
 * WebCrypto (a few lines) so the tests can verify it with an independent implementation.
 */

/**
 * The HMAC key: a `whsec_` secret is base64 as the standard says; anything else is its UTF-8
 * bytes. The base64 is checked strictly first (the decoder is lenient about some mistakes and
 * throws on others), so a bad stored secret fails here with a message, every time the same.
 */
export function signingKey(secret: string): Uint8Array {
  if (secret.startsWith("whsec_")) {
    if (!WHSEC_SECRET.test(secret)) {
      throw new Error(
        "the webhook's whsec_ secret is not valid base64, so nothing can be signed; register the webhook again with a valid secret",
      );
    }
    return fromBase64(secret.slice("whsec_".length));
  }
  return new TextEncoder().encode(secret);
}

export async function signatureHeaders(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string,
): Promise<Record<string, string>> {
  const mac = await hmacSha256(signingKey(secret), `${id}.${timestampSeconds}.${body}`);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": `v1,${toBase64(mac)}`,
  };
}

/** A fresh secret in the standard's form (24 random bytes). */
export function generateSecret(): string {
  return `whsec_${toBase64(crypto.getRandomValues(new Uint8Array(24)))}`;
}
