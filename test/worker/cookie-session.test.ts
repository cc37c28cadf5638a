import { describe, expect, it } from "vitest";
import { BASE, call, expectProblem, registerUser, sessionCookieOf } from "./helpers";

describe("browser session cookie", () => {
  it("is __Host-, HttpOnly, Secure, SameSite and Path=/", async () => {
    const user = await registerUser();
    const res = await call("/api/v1/auth/sessions", { body: { email: user.email, password: user.password } });
    const setCookie = res.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/^__Host-kai_session=kai_cs_/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/Secure/i);
    expect(setCookie).toMatch(/SameSite=(Lax|Strict)/i);
    expect(setCookie).toMatch(/Path=\//);
    expect(setCookie).not.toMatch(/Domain=/i);
  });

  it("authenticates safe requests on its own", async () => {
    const user = await registerUser();
    const res = await call("/api/v1/users/me", { headers: { cookie: user.cookie } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: user.id });
  });

  it("refuses unsafe requests without an Origin, or from a foreign one", async () => {
    const user = await registerUser();
    const patch = (headers: Record<string, string>) =>
      call("/api/v1/users/me", {
        method: "PATCH",
        body: { bio: "changed" },
        headers: { cookie: user.cookie, ...headers },
      });
    await expectProblem(await patch({}), 403, "PERMISSION_DENIED");
    await expectProblem(await patch({ origin: "https://evil.example" }), 403, "PERMISSION_DENIED");
    await expectProblem(await patch({ origin: "null" }), 403, "PERMISSION_DENIED");
    const same = await patch({ origin: BASE });
    expect(same.status).toBe(200);
    const configured = await patch({ origin: "https://app.kai.test" });
    expect(configured.status).toBe(200);
  });

  it("refuses a cookie-authenticated WebSocket handshake from another origin", async () => {
    const user = await registerUser();
    const upgrade = (origin?: string) =>
      call("/api/v1/ws?workspace_id=00000000-0000-0000-0000-000000000000", {
        headers: { cookie: user.cookie, Upgrade: "websocket", ...(origin ? { origin } : {}) },
      });
    await expectProblem(await upgrade(), 403, "PERMISSION_DENIED");
    await expectProblem(await upgrade("https://evil.example"), 403, "PERMISSION_DENIED");
    // From Kai's own origin the cookie is accepted; this workspace just does not exist.
    await expectProblem(await upgrade(BASE), 404, "NOT_FOUND");
  });

  it("stops working after sign-out", async () => {
    const user = await registerUser();
    const login = await call("/api/v1/auth/sessions", { body: { email: user.email, password: user.password } });
    const cookie = sessionCookieOf(login);
    const { refresh_token } = (await login.json()) as { refresh_token: string };
    await call("/api/v1/auth/sessions", { method: "DELETE", body: { refresh_token } });
    await expectProblem(await call("/api/v1/users/me", { headers: { cookie } }), 401, "UNAUTHORIZED");
  });

  it("signs a reloaded page out with the cookie alone (no body), ending its whole session", async () => {
    const user = await registerUser();
    const login = await call("/api/v1/auth/sessions", { body: { email: user.email, password: user.password } });
    const cookie = sessionCookieOf(login);
    const { refresh_token } = (await login.json()) as { refresh_token: string };
    const out = await call("/api/v1/auth/sessions", { method: "DELETE", headers: { cookie, origin: BASE } });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie") ?? "").toMatch(/^__Host-kai_session=;.*Max-Age=0/i);
    await expectProblem(await call("/api/v1/users/me", { headers: { cookie } }), 401, "UNAUTHORIZED");
    const refresh = await call("/api/v1/auth/sessions/refresh", { body: { refresh_token } });
    await expectProblem(refresh, 401, "UNAUTHORIZED");
    // Signing out again, or with no credentials at all, is still a plain 204.
    expect((await call("/api/v1/auth/sessions", { method: "DELETE", headers: { cookie, origin: BASE } })).status).toBe(
      204,
    );
    expect((await call("/api/v1/auth/sessions", { method: "DELETE" })).status).toBe(204);
  });

  it("refuses a cookie sign-out without Kai's own Origin, and the session lives on", async () => {
    const user = await registerUser();
    const signOut = (headers: Record<string, string>) =>
      call("/api/v1/auth/sessions", { method: "DELETE", headers: { cookie: user.cookie, ...headers } });
    await expectProblem(await signOut({}), 403, "PERMISSION_DENIED");
    await expectProblem(await signOut({ origin: "https://evil.example" }), 403, "PERMISSION_DENIED");
    expect((await call("/api/v1/users/me", { headers: { cookie: user.cookie } })).status).toBe(200);
  });

  it("refuses a made-up cookie", async () => {
    await expectProblem(
      await call("/api/v1/users/me", { headers: { cookie: "__Host-kai_session=kai_cs_forged" } }),
      401,
      "UNAUTHORIZED",
    );
  });
});
