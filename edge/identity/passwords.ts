import { fromBase64Url, hmacSha256, randomBytes, timingSafeEqual, toBase64Url } from "./crypto";

/**
 * Production Workers refuse PBKDF2 above 100,000 iterations (local workerd does not), so
 * the cap is enforced here and guarded by a unit test rather than discovered after deploy.
 */
export const PBKDF2_MAX_ITERATIONS = 100_000;
export const PBKDF2_ITERATIONS = 100_000;
const HASH_BITS = 256;
const SALT_BYTES = 16;
const SCHEME = "pbkdf2-sha256";

async function derive(password: string, pepper: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > PBKDF2_MAX_ITERATIONS) {
    throw new Error(`PBKDF2 iterations must be between 1 and ${PBKDF2_MAX_ITERATIONS}, got ${iterations}`);
  }
  // The pepper is mixed in with HMAC first: a leaked database alone cannot be attacked
  // offline without the secret that never leaves the Worker's configuration.
  const peppered = await hmacSha256(pepper, password);
  const key = await crypto.subtle.importKey("raw", peppered, "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, HASH_BITS);
  return new Uint8Array(bits);
}

/** Hashes a password as `pbkdf2-sha256$<iterations>$<salt>$<hash>` with a fresh salt. */
export async function hashPassword(password: string, pepper: string, iterations = PBKDF2_ITERATIONS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, pepper, salt, iterations);
  return [SCHEME, iterations, toBase64Url(salt), toBase64Url(hash)].join("$");
}

/** Checks a password against a stored hash in constant time; a malformed hash never matches. */
export async function verifyPassword(password: string, stored: string, pepper: string): Promise<boolean> {
  const [scheme, iterationsText, saltText, hashText] = stored.split("$");
  const iterations = Number(iterationsText);
  if (
    scheme !== SCHEME ||
    !saltText ||
    !hashText ||
    !Number.isInteger(iterations) ||
    iterations < 1 ||
    iterations > PBKDF2_MAX_ITERATIONS
  ) {
    return false;
  }
  let expected: Uint8Array;
  let salt: Uint8Array;
  try {
    expected = fromBase64Url(hashText);
    salt = fromBase64Url(saltText);
  } catch {
    return false; // not base64url: a corrupt row, which must never match
  }
  return timingSafeEqual(await derive(password, pepper, salt, iterations), expected);
}

let dummyHash: Promise<string> | undefined;

/**
 * A real hash of a random password, made once per isolate. Logins for unknown emails are
 * checked against it so they cost the same time as a wrong password for a real account.
 */
export function dummyPasswordHash(pepper: string): Promise<string> {
  dummyHash ??= hashPassword(toBase64Url(randomBytes(16)), pepper);
  return dummyHash;
}
