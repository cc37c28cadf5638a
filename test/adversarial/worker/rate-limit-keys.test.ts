import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../../edge/index";
import { AUTH_PER_IP } from "../../../edge/middleware/rate-limit";
import { BASE, call, expectEnvelopeError, randomIp, registerUser } from "../../worker/helpers";

/**
 * Which bucket a request is counted in must not be the caller's choice: not by spelling the
 * Authorization header differently, not by sending junk tokens, not by claiming an address.
 */
const remaining = (res: Response) => Number(res.headers.get("x-ratelimit-remaining"));

function expectCountedInOneBucket(responses: Response[]) {
  const counts = responses.map(remaining);
  expect(counts.every((count) => Number.isInteger(count) && count > 0)).toBe(true);
  // Each request one fewer than the one before: all in the same bucket.
  expect(counts).toEqual(counts.map((_, i) => (counts[0] ?? 0) - i));
}

describe("the API limit counts per user, however the credentials are spelled", () => {
  it("puts case and spacing variants of one token, the user's other tokens and cookie in one bucket", async () => {
    const user = await registerUser();
    const created = await call("/api/tokens", { body: { name: "ci" }, token: user.accessToken });
    const pat = ((await created.json()) as { data: { token: string } }).data.token;
    const authorizations = [
      `Bearer ${user.accessToken}`,
      `bearer ${user.accessToken}`,
      `BEARER ${user.accessToken}`,
      `Bearer  ${user.accessToken}`,
      `Bearer\t${user.accessToken} `,
      `Bearer ${pat}`,
      `bEaReR   ${pat}`,
    ];
    const responses: Response[] = [];
    for (const authorization of authorizations) {
      responses.push(await call("/api/tokens", { headers: { Authorization: authorization } }));
    }
    responses.push(await call("/api/tokens", { headers: { Cookie: user.cookie } }));
    expect(responses.map((res) => res.status)).toEqual(authorizations.map(() => 200).concat(200));
    expectCountedInOneBucket(responses);
  });
});

describe("invalid credentials are counted per IP", () => {
  it("puts junk tokens from one IP in that IP's bucket, and still answers each with 401", async () => {
    const ip = randomIp();
    const junk = ["junk-1", "junk-2", "kai_pat_not-a-real-token", "eyJhbGciOiJIUzI1NiJ9.e30.forged", "x".repeat(500)];
    const responses: Response[] = [];
    for (const token of junk) {
      const res = await call("/api/tokens", { token, ip });
      responses.push(res);
    }
    // A malformed header and an anonymous call from the same IP count there too.
    responses.push(await call("/api/tokens", { ip, headers: { Authorization: "Basic Zm9vOmJhcg==" } }));
    responses.push(await call("/api/health", { ip }));
    expect(responses.map((res) => res.status)).toEqual([401, 401, 401, 401, 401, 401, 200]);
    expectCountedInOneBucket(responses);
    await expectEnvelopeError(responses[0] ?? new Response(), 401, "UNAUTHORIZED");
  });

  it("keeps other IPs' buckets apart", async () => {
    const a = await call("/api/health", { ip: randomIp() });
    const b = await call("/api/health", { ip: randomIp() });
    expect(remaining(a)).toBe(remaining(b));
  });
});

describe("the client address is trusted only from whoever can vouch for it", () => {
  /** Calls the Worker with settings of our own, and with or without Cloudflare's `request.cf`. */
  async function direct(
    path: string,
    settings: Record<string, string>,
    options: { headers: Record<string, string>; cf?: boolean; method?: string; body?: string },
  ) {
    const ctx = createExecutionContext();
    const init: RequestInit<IncomingRequestCfProperties> = {
      method: options.method ?? "GET",
      headers: options.headers,
    };
    if (options.body) init.body = options.body;
    if (options.cf) init.cf = { colo: "AMS", country: "NL" } as IncomingRequestCfProperties;
    const request = new Request(`${BASE}${path}`, init) as Request<unknown, IncomingRequestCfProperties>;
    expect(request.cf !== undefined).toBe(Boolean(options.cf));
    const res = await worker.fetch(request, { ...env, ...settings }, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  }

  it("does not give a spoofed CF-Connecting-IP without request.cf a fresh bucket", async () => {
    const production = { ENVIRONMENT: "production", TRUSTED_CLIENT_IP_HEADER: "" };
    const responses: Response[] = [];
    for (let i = 0; i < 4; i++)
      responses.push(await direct("/api/health", production, { headers: { "CF-Connecting-IP": randomIp() } }));
    expectCountedInOneBucket(responses);
  });

  it("does not trust it from a local server either, whose request.cf is a placeholder", async () => {
    const development = { ENVIRONMENT: "development", TRUSTED_CLIENT_IP_HEADER: "" };
    const responses: Response[] = [];
    for (let i = 0; i < 4; i++)
      responses.push(
        await direct("/api/health", development, { headers: { "CF-Connecting-IP": randomIp() }, cf: true }),
      );
    expectCountedInOneBucket(responses);
  });

  it("trusts CF-Connecting-IP on a production request that came through Cloudflare", async () => {
    const production = { ENVIRONMENT: "production", TRUSTED_CLIENT_IP_HEADER: "" };
    const ip = randomIp();
    const first = await direct("/api/health", production, { headers: { "CF-Connecting-IP": ip }, cf: true });
    const again = await direct("/api/health", production, { headers: { "CF-Connecting-IP": ip }, cf: true });
    const other = await direct("/api/health", production, { headers: { "CF-Connecting-IP": randomIp() }, cf: true });
    expect(remaining(again)).toBe(remaining(first) - 1);
    expect(remaining(other)).toBe(remaining(first));
  });

  it("applies the same rule to the auth routes' per-IP limit", async () => {
    const production = { ENVIRONMENT: "production", TRUSTED_CLIENT_IP_HEADER: "" };
    const responses: Response[] = [];
    for (let i = 0; i < 3; i++) {
      // A body that fails validation: only the per-IP buckets count it, and auth-ip is the tighter.
      const res = await direct("/api/v1/auth/sessions", production, {
        method: "POST",
        headers: { "CF-Connecting-IP": randomIp(), "content-type": "application/json" },
        body: JSON.stringify({ email: "nope" }),
      });
      expect(res.status).toBe(422);
      expect(res.headers.get("x-ratelimit-limit")).toBe(String(AUTH_PER_IP.limit));
      responses.push(res);
    }
    expectCountedInOneBucket(responses);
  });

  it("uses the self-hoster's proxy header when configured: the last X-Forwarded-For entry, IPv6 per /64", async () => {
    const proxied = { ENVIRONMENT: "production", TRUSTED_CLIENT_IP_HEADER: "X-Forwarded-For" };
    const proxyAdded = randomIp();
    // Whatever the client put first, the entry the proxy appended decides, and CF-Connecting-IP is ignored.
    const sameClient = [
      await direct("/api/health", proxied, {
        headers: { "X-Forwarded-For": `${randomIp()}, ${proxyAdded}`, "CF-Connecting-IP": randomIp() },
      }),
      await direct("/api/health", proxied, { headers: { "X-Forwarded-For": `${randomIp()},${proxyAdded}` } }),
      await direct("/api/health", proxied, { headers: { "X-Forwarded-For": proxyAdded } }),
    ];
    expectCountedInOneBucket(sameClient);
    const prefix = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:1`;
    const sameBlock = [
      await direct("/api/health", proxied, { headers: { "X-Forwarded-For": `${prefix}::1` } }),
      await direct("/api/health", proxied, { headers: { "X-Forwarded-For": `${prefix}:dead:beef:0:2` } }),
      await direct("/api/health", proxied, { headers: { "X-Forwarded-For": `${prefix.toUpperCase()}:0:0:0:3` } }),
    ];
    expectCountedInOneBucket(sameBlock);
    const otherBlock = await direct("/api/health", proxied, { headers: { "X-Forwarded-For": `${prefix}0::1` } });
    expect(remaining(otherBlock)).toBe(remaining(sameBlock[0] ?? new Response()));
  });
});
