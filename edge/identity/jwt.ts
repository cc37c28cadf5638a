import { type JWTPayload, jwtVerify, SignJWT } from "jose";
import { KaiError } from "../../shared/errors";
import type { Config } from "../config";
import { sha256Hex } from "./crypto";

/** The one algorithm Kai signs and accepts. Pinning it refuses `alg: none` and key confusion. */
const ALGORITHM = "HS256";
export const ACCESS_TOKEN_SECONDS = 3600;
const AUDIENCE = "kai-api";

export interface AccessClaims {
  userId: string;
  loginSessionId: string;
}

interface SigningKey {
  kid: string;
  secret: Uint8Array;
}

const keys = new WeakMap<Config, Promise<SigningKey>>();

/** The key id defaults to a fingerprint of the secret, so rotating the secret rotates the kid. */
function signingKey(config: Config): Promise<SigningKey> {
  let key = keys.get(config);
  if (!key) {
    key = (async () => ({
      kid: config.JWT_KID ?? (await sha256Hex(config.JWT_SECRET)).slice(0, 16),
      secret: new TextEncoder().encode(config.JWT_SECRET),
    }))();
    keys.set(config, key);
  }
  return key;
}

function issuerOf(config: Config): string {
  return config.PUBLIC_ORIGIN ?? "kai";
}

export async function signAccessToken(config: Config, claims: AccessClaims): Promise<string> {
  const key = await signingKey(config);
  return new SignJWT({ sid: claims.loginSessionId })
    .setProtectedHeader({ alg: ALGORITHM, kid: key.kid, typ: "JWT" })
    .setSubject(claims.userId)
    .setIssuer(issuerOf(config))
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setJti(crypto.randomUUID())
    .setExpirationTime(`${ACCESS_TOKEN_SECONDS}s`)
    .sign(key.secret);
}

/** Verifies signature, algorithm, kid, issuer, audience and expiry; any failure is 401. */
export async function verifyAccessToken(config: Config, token: string): Promise<AccessClaims> {
  const key = await signingKey(config);
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(
      token,
      (header) => {
        if (header.kid !== key.kid) throw new Error("unknown key id");
        return key.secret;
      },
      { algorithms: [ALGORITHM], issuer: issuerOf(config), audience: AUDIENCE, requiredClaims: ["exp", "sub"] },
    ));
  } catch {
    throw new KaiError("UNAUTHORIZED", "the access token is invalid or has expired; sign in again or refresh it");
  }
  const loginSessionId = payload["sid"];
  if (typeof payload.sub !== "string" || typeof loginSessionId !== "string") {
    throw new KaiError("UNAUTHORIZED", "the access token is invalid or has expired; sign in again or refresh it");
  }
  return { userId: payload.sub, loginSessionId };
}
