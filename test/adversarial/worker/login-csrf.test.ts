import { describe, expect, it } from "vitest";
import { BASE, call, latestCode, randomIp, registerUser, unique } from "../../worker/helpers";

/**
 * Login CSRF: a page on another site posts the attacker's own credentials (or a code for an
 * email the attacker controls) so the visitor's browser ends up signed in to the attacker's
 * account. The routes that set or clear the session cookie refuse a foreign Origin; clients
 * that send no Origin (curl, the CLI) are not browsers and still work.
 */
describe("routes that set the session cookie refuse other sites", () => {
  it("refuses a cross-site sign-in and sets no cookie; the same sign-in without Origin or from Kai's page works", async () => {
    const attacker = await registerUser();
    const body = { email: attacker.email, password: attacker.password };
    for (const origin of ["https://evil.example", "null"]) {
      const forged = await call("/api/v1/auth/sessions", { body, headers: { Origin: origin } });
      expect(forged.status).toBe(403);
      expect(forged.headers.get("set-cookie")).toBeNull();
      expect(((await forged.json()) as { code: string }).code).toBe("PERMISSION_DENIED");
    }
    expect((await call("/api/v1/auth/sessions", { body })).status).toBe(200);
    expect((await call("/api/v1/auth/sessions", { body, headers: { Origin: BASE } })).status).toBe(200);
  });

  it("refuses a cross-site registration code, which would sign the visitor in too", async () => {
    const email = `${unique("csrf")}@example.com`;
    const ip = randomIp();
    expect(
      (
        await call("/api/v1/auth/verifications", {
          body: { username: unique("u_"), email, password: "correct horse battery" },
          ip,
        })
      ).status,
    ).toBe(202);
    const code = await latestCode(email);
    const forged = await call("/api/v1/auth/verifications/verify", {
      body: { email, token: code },
      ip,
      headers: { Origin: "https://evil.example" },
    });
    expect(forged.status).toBe(403);
    expect(forged.headers.get("set-cookie")).toBeNull();
    // The refusal spent nothing: the code still works from a client that is not a browser.
    expect((await call("/api/v1/auth/verifications/verify", { body: { email, token: code }, ip })).status).toBe(200);
  });

  it("refuses a cross-site sign-out", async () => {
    const user = await registerUser();
    const forged = await call("/api/v1/auth/sessions", {
      method: "DELETE",
      body: { refresh_token: user.refreshToken },
      headers: { Origin: "https://evil.example" },
    });
    expect(forged.status).toBe(403);
    // Still signed in: the refresh token was not ended.
    expect((await call("/api/v1/auth/sessions/refresh", { body: { refresh_token: user.refreshToken } })).status).toBe(
      200,
    );
  });
});
