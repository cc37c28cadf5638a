import { env } from "cloudflare:test";
import { decodeJwt, decodeProtectedHeader, SignJWT, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
import { call, expectProblem, registerUser } from "./helpers";

const secret = () => new TextEncoder().encode(env.JWT_SECRET);
const me = (token: string) => call("/api/v1/users/me", { token });

/** Re-signs the claims of a real token with chosen changes, using the real secret and kid. */
async function forge(
  real: string,
  change: { audience?: string; issuer?: string; expiresAt?: number; kid?: string; alg?: string },
) {
  const claims = decodeJwt(real);
  const header = decodeProtectedHeader(real);
  const jwt = new SignJWT({ sid: claims["sid"] })
    .setProtectedHeader({ alg: change.alg ?? "HS256", kid: change.kid ?? header.kid ?? "", typ: "JWT" })
    .setSubject(claims.sub ?? "")
    .setIssuer(change.issuer ?? claims.iss ?? "")
    .setAudience(change.audience ?? (claims.aud as string))
    .setIssuedAt()
    .setExpirationTime(change.expiresAt ?? claims.exp ?? 0);
  return jwt.sign(secret());
}

describe("access tokens", () => {
  it("are HS256 JWTs with iss, aud, exp, kid and a 1-hour lifetime", async () => {
    const user = await registerUser();
    const header = decodeProtectedHeader(user.accessToken);
    const claims = decodeJwt(user.accessToken);
    expect(header.alg).toBe("HS256");
    expect(header.kid).toMatch(/^[0-9a-f]{16}$/);
    expect(claims.iss).toBe("kai");
    expect(claims.aud).toBe("kai-api");
    expect(claims.sub).toBe(user.id);
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(3600);
    expect((await me(await forge(user.accessToken, {}))).status).toBe(200);
  });

  it("refuses alg: none", async () => {
    const user = await registerUser();
    const claims = decodeJwt(user.accessToken);
    const unsigned = new UnsecuredJWT({ sid: claims["sid"] })
      .setSubject(claims.sub ?? "")
      .setIssuer("kai")
      .setAudience("kai-api")
      .setExpirationTime("1h")
      .encode();
    await expectProblem(await me(unsigned), 401, "UNAUTHORIZED");
  });

  it("refuses a token with one changed byte in the payload or the signature", async () => {
    const user = await registerUser();
    const [head, payload, signature] = user.accessToken.split(".") as [string, string, string];
    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === "A" ? "B" : "A") + text.slice(at + 1);
    await expectProblem(await me(`${head}.${flip(payload, 10)}.${signature}`), 401, "UNAUTHORIZED");
    await expectProblem(await me(`${head}.${payload}.${flip(signature, 5)}`), 401, "UNAUTHORIZED");
  });

  it("refuses a wrong audience, a wrong issuer, an unknown kid and another algorithm", async () => {
    const user = await registerUser();
    await expectProblem(await me(await forge(user.accessToken, { audience: "someone-else" })), 401, "UNAUTHORIZED");
    await expectProblem(
      await me(await forge(user.accessToken, { issuer: "https://evil.example" })),
      401,
      "UNAUTHORIZED",
    );
    await expectProblem(await me(await forge(user.accessToken, { kid: "not-our-key" })), 401, "UNAUTHORIZED");
    await expectProblem(await me(await forge(user.accessToken, { alg: "HS512" })), 401, "UNAUTHORIZED");
  });

  it("refuses an expired token", async () => {
    const user = await registerUser();
    const expired = await forge(user.accessToken, { expiresAt: Math.floor(Date.now() / 1000) - 60 });
    const body = await expectProblem(await me(expired), 401, "UNAUTHORIZED");
    expect(body["detail"]).toContain("expired");
  });

  it("refuses a token signed with another secret", async () => {
    const user = await registerUser();
    const claims = decodeJwt(user.accessToken);
    const header = decodeProtectedHeader(user.accessToken);
    const other = await new SignJWT({ sid: claims["sid"] })
      .setProtectedHeader({ alg: "HS256", kid: header.kid ?? "" })
      .setSubject(claims.sub ?? "")
      .setIssuer("kai")
      .setAudience("kai-api")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode("another-secret-another-secret-another-secret"));
    await expectProblem(await me(other), 401, "UNAUTHORIZED");
  });

  it("answers 401 with WWW-Authenticate when no credentials or a malformed header is sent", async () => {
    const none = await call("/api/v1/users/me");
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    await expectProblem(none, 401, "UNAUTHORIZED");
    await expectProblem(
      await call("/api/v1/users/me", { headers: { Authorization: "Basic dXNlcjpwYXNz" } }),
      401,
      "UNAUTHORIZED",
    );
  });
});
