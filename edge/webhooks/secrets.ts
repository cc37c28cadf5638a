import { fromBase64Url, toBase64Url } from "../identity/crypto";

/**
 * Webhook secrets at rest: AES-GCM under a key derived (HKDF) from the server's pepper, so
 * a leaked database alone does not let anyone forge Kai's signatures.
 */
async function key(pepper: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey("raw", new TextEncoder().encode(pepper), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new Uint8Array(0),
      info: new TextEncoder().encode("kai webhook secrets v1"),
    },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

export async function encryptSecret(pepper: string, secret: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await key(pepper), new TextEncoder().encode(secret)),
  );
  return `v1.${toBase64Url(iv)}.${toBase64Url(sealed)}`;
}

export async function decryptSecret(pepper: string, stored: string): Promise<string> {
  const [version, iv, sealed] = stored.split(".");
  if (version !== "v1" || !iv || !sealed) throw new Error("unknown webhook secret format");
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64Url(iv) },
    await key(pepper),
    fromBase64Url(sealed),
  );
  return new TextDecoder().decode(plain);
}
