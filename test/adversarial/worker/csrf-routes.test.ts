import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../../edge/app";
import { call, registerUser, type TestUser, unique } from "../../worker/helpers";

/**
 * Cross-site request forgery on every route that acts, enumerated from the app's own router
 * so a route added later is covered without touching this file. A browser on another site
 * sends the victim's session cookie with a foreign Origin (a form or fetch) or with none (a
 * link, an <img>, some redirects): every such request that could act must be refused before
 * the handler runs.
 */

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Routes that do not act on a session cookie at all (they authenticate by what the body
 * carries: a password, an emailed code, a refresh token), so a forged request has nothing of
 * the victim's to ride on. Listed, not guessed: a new public route must be added here on purpose.
 * The ones that set or clear the cookie still refuse a foreign Origin (login CSRF): login-csrf.test.ts.
 */
const PUBLIC_UNSAFE = new Set([
  "POST /api/v1/auth/verifications",
  "POST /api/v1/auth/verifications/resend",
  "POST /api/v1/auth/verifications/verify",
  "POST /api/v1/auth/sessions",
  "POST /api/v1/auth/sessions/refresh",
  // Sign-out ends the session of the refresh token in the body, not the cookie's.
  "DELETE /api/v1/auth/sessions",
  // Device login's machine side: anonymous, the device code in the body is the only credential.
  "POST /api/v1/device/codes",
  "POST /api/v1/device/token",
  // kai-agent's own request: its host's agent token in the Authorization header, never a cookie.
  "POST /api/agent/ping",
]);

/** GET routes that open a WebSocket acting for the caller (the only GETs that may act). */
const isSocketRoute = (path: string) => /\/(ws|run|follow|connect)$|\/ws\//.test(path);

let user: TestUser;
let workspaceId: string;

beforeAll(async () => {
  user = await registerUser();
  expect((await call("/api/hosts", { body: { name: unique("h") }, token: user.accessToken })).status).toBe(201);
  const item = await call("/api/catalog/flexy", { body: { name: "w", hostPath: "/tmp/w" }, token: user.accessToken });
  workspaceId = ((await item.json()) as { data: { id: string } }).data.id;
});

/** Every distinct `METHOD path` the app routes (middleware entries are method ALL and left out). */
function routes(): Array<{ method: string; path: string }> {
  const seen = new Map<string, { method: string; path: string }>();
  for (const route of app.routes) {
    if (route.method === "ALL") continue;
    seen.set(`${route.method} ${route.path}`, { method: route.method, path: route.path });
  }
  return [...seen.values()];
}

/** A concrete URL for a route pattern: ids are real or well-formed, the rest plausible. */
function concrete(path: string): string {
  return path.replace(/:(\w+)(\{[^}]*\})?/g, (_match, name: string) => {
    if (name === "workspaceId") return workspaceId;
    if (name === "path") return "notes.txt";
    if (name === "name" || name === "username") return "build";
    return crypto.randomUUID();
  });
}

const unsafeRoutes = routes().filter((route) => UNSAFE.has(route.method));
const socketRoutes = routes().filter((route) => route.method === "GET" && isSocketRoute(route.path));

describe("CSRF on every state-changing route", () => {
  it("finds the routes from the router (a sanity floor, and no stale public entries)", () => {
    expect(unsafeRoutes.length).toBeGreaterThanOrEqual(40);
    expect(socketRoutes.map((route) => route.path)).toEqual(
      expect.arrayContaining([
        "/api/v1/workspaces/:workspaceId/scripts/:name/run",
        "/api/v1/ws",
        "/api/v1/ws/agent-sessions/:id",
        "/api/v1/ws/events",
        "/api/services/:id/logs/follow",
      ]),
    );
    const known = new Set(unsafeRoutes.map((route) => `${route.method} ${route.path}`));
    for (const entry of PUBLIC_UNSAFE) expect(known, entry).toContain(entry);
  });

  for (const origin of ["https://evil.example", undefined]) {
    it(`refuses a cookie-authenticated unsafe request with ${origin ? "a foreign Origin" : "no Origin"}, on every route, before acting`, async () => {
      const failures: string[] = [];
      for (const route of unsafeRoutes) {
        const key = `${route.method} ${route.path}`;
        if (PUBLIC_UNSAFE.has(key)) continue;
        const headers: Record<string, string> = { cookie: user.cookie };
        if (origin) headers["origin"] = origin;
        const res = await call(concrete(route.path), { method: route.method, body: {}, headers });
        const body = (await res.json()) as { code?: string; error?: { code: string } };
        const code = body.code ?? body.error?.code;
        if (res.status !== 403 || code !== "PERMISSION_DENIED") failures.push(`${key} → ${res.status} ${code}`);
      }
      expect(failures).toEqual([]);
    }, 60_000); // one request per unsafe route, dozens of them
  }

  it("accepts the same cookie from Kai's own origin (so the refusals above are the Origin check)", async () => {
    const res = await call("/api/tokens", {
      body: { name: "from-app" },
      headers: { cookie: user.cookie, origin: "https://app.kai.test" },
    });
    expect(res.status).toBe(201);
  });

  it("refuses a cross-site WebSocket upgrade on every socket route, and never runs a script on a plain GET", async () => {
    const failures: string[] = [];
    for (const route of socketRoutes) {
      if (route.path === "/api/agent/connect") continue; // the agent's own socket: agent tokens only, no cookie
      const url = concrete(route.path);
      for (const origin of ["https://evil.example", undefined]) {
        const headers: Record<string, string> = {
          cookie: user.cookie,
          upgrade: "websocket",
          connection: "Upgrade",
          "sec-websocket-version": "13",
          "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        };
        if (origin) headers["origin"] = origin;
        const res = await call(url, { headers });
        if (res.status !== 403) failures.push(`upgrade ${route.path} (${origin ?? "no Origin"}) → ${res.status}`);
      }
      // Without an upgrade, a socket route acts on nothing: a 4xx, never a 2xx.
      const plain = await call(url, { headers: { cookie: user.cookie } });
      if (plain.status < 400 || plain.status >= 500) failures.push(`plain GET ${route.path} → ${plain.status}`);
    }
    expect(failures).toEqual([]);
  });
});
