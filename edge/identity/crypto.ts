/** Small WebCrypto helpers shared by the identity modules. Runs on workerd and Node. */

const encoder = new TextEncoder();

export function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Standard base64 (with + / =), chunked so large buffers do not overflow the call stack. */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Whether a character code is one of base64's 64 symbols (A-Z a-z 0-9 + /). */
function isBase64Symbol(code: number): boolean {
  return (
    (code >= 65 && code <= 90) ||
    (code >= 97 && code <= 122) ||
    (code >= 48 && code <= 57) ||
    code === 43 ||
    code === 47
  );
}

/**
 * Standard base64 from a client, checked strictly: only the 64 symbols, a length that is a
 * multiple of 4 and `=` padding only at the end. Undefined when the text is not base64, so
 * the caller can answer a validation error (`atob` would throw, or skip whitespace).
 * A loop rather than a regular expression: the text can be tens of megabytes.
 */
export function fromBase64Strict(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0) return undefined;
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  for (let i = 0; i < text.length - padding; i++) {
    if (!isBase64Symbol(text.charCodeAt(i))) return undefined;
  }
  return fromBase64(text);
}

export function fromBase64Url(text: string): Uint8Array {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

function toHex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

/** A random secret with a recognisable prefix, e.g. `kai_pat_…` (256 bits of entropy). */
export function randomSecret(prefix: string): string {
  return prefix + toBase64Url(randomBytes(32));
}

export async function sha256Hex(value: string): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", encoder.encode(value)));
}

export async function hmacSha256(key: string | Uint8Array, value: string): Promise<Uint8Array> {
  const keyBytes = typeof key === "string" ? encoder.encode(key) : key;
  const cryptoKey = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, encoder.encode(value)));
}

export async function hmacHex(key: string, value: string): Promise<string> {
  return toHex((await hmacSha256(key, value)).buffer as ArrayBuffer);
}

/** Compares without an early exit, so the time taken does not reveal where bytes differ. */
export function timingSafeEqual(a: Uint8Array | string, b: Uint8Array | string): boolean {
  const left = typeof a === "string" ? encoder.encode(a) : a;
  const right = typeof b === "string" ? encoder.encode(b) : b;
  // Time depends only on the length of `a`, which callers pass as the value they computed.
  let difference = left.length ^ right.length;
  for (let i = 0; i < left.length; i++) difference |= (left[i] ?? 0) ^ (right[i] ?? 0);
  return difference === 0;
}

/** A uniformly random 6-digit code (rejection sampling avoids modulo bias). */
export function randomDigits(count: number): string {
  const limit = Math.floor(0x1_0000_0000 / 10) * 10;
  let out = "";
  while (out.length < count) {
    const [value] = crypto.getRandomValues(new Uint32Array(1));
    if (value !== undefined && value < limit) out += String(value % 10);
  }
  return out;
}
