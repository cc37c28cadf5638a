import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../edge/index";
import { AUTH_PER_IP, LOGIN_PER_ACCOUNT } from "../../edge/middleware/rate-limit";
import { BASE, call, expectProblem, randomIp, registerUser, unique } from "./helpers";

function expectRateHeaders(res: Response) {
  expect(res.headers.get("x-ratelimit-limit")).toMatch(/^\d+$/);
  expect(res.headers.get("x-ratelimit-remaining")).toMatch(/^\d+$/);
  const reset = Number(res.headers.get("x-ratelimit-reset"));
  // UTC epoch seconds, in the near future.
  expect(reset).toBeGreaterThan(Date.now() / 1000 - 1);
  expect(reset).toBeLessThan(Date.now() / 1000 + 3700);
}

describe("rate limits on auth routes", () => {
  it("puts X-RateLimit-* on successes, validation errors and auth failures alike", async () => {
    const user = await registerUser();
    const ip = randomIp();
    const success = await call("/api/v1/auth/sessions", { body: { email: user.email, password: user.password }, ip });
    expect(success.status).toBe(200);
    expectRateHeaders(success);
    const invalid = await call("/api/v1/auth/sessions", { body: { email: "nope" }, ip });
    expect(invalid.status).toBe(422);
    expectRateHeaders(invalid);
    const failed = await call("/api/v1/auth/sessions", { body: { email: user.email, password: "wrong-password" }, ip });
    expect(failed.status).toBe(401);
    expectRateHeaders(failed);
    // Counting is exact: three requests from this IP, three fewer remaining (the account bucket is tighter here).
    expect(Number(failed.headers.get("x-ratelimit-remaining"))).toBe(LOGIN_PER_ACCOUNT.limit - 2);
  });

  it("stops password brute force on one account with 429 and Retry-After, even from many IPs", async () => {
    const user = await registerUser();
    let last: Response | undefined;
    for (let i = 0; i < LOGIN_PER_ACCOUNT.limit; i++) {
      last = await call("/api/v1/auth/sessions", {
        body: { email: user.email, password: `guess-${i}` },
        ip: randomIp(),
      });
      expect(last.status).toBe(401);
    }
    expect(last?.headers.get("x-ratelimit-remaining")).toBe("0");
    const blocked = await call("/api/v1/auth/sessions", {
      body: { email: user.email, password: user.password },
      ip: randomIp(),
    });
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    expectRateHeaders(blocked);
    await expectProblem(blocked, 429, "RATE_LIMITED");
  });

  it("limits one IP across accounts", async () => {
    const ip = randomIp();
    let status = 0;
    let count = 0;
    while (status !== 429 && count <= AUTH_PER_IP.limit) {
      const res = await call("/api/v1/auth/sessions", {
        body: { email: `${unique("ip")}@example.com`, password: "whatever1" },
        ip,
      });
      status = res.status;
      count += 1;
    }
    expect(status).toBe(429);
    expect(count).toBe(AUTH_PER_IP.limit + 1);
    // 61 password checks in a row: slow on a busy machine, so more than the default 5 s.
  }, 60_000);

  it("limits verification attempts per account", async () => {
    const email = `${unique("vlimit")}@example.com`;
    let status = 0;
    for (let i = 0; i < 11 && status !== 429; i++) {
      status = (await call("/api/v1/auth/verifications/verify", { body: { email, token: "123456" }, ip: randomIp() }))
        .status;
    }
    expect(status).toBe(429);
  });
});

describe("the general limit on every /api response", () => {
  it("puts X-RateLimit-* on successes, 404s, 405s, 401s and validation errors", async () => {
    const user = await registerUser();
    const responses = [
      await call("/api/health"),
      await call("/api/tokens", { token: user.accessToken }),
      await call("/api/no-such-route", { token: user.accessToken }),
      await call("/api/health", { method: "DELETE" }),
      await call("/api/tokens"),
      await call("/api/tokens", { token: user.accessToken, body: { name: "" } }),
    ];
    expect(responses.map((res) => res.status)).toEqual([200, 200, 404, 405, 401, 400]);
    for (const res of responses) expectRateHeaders(res);
  });

  it("counts per user and answers 429 with Retry-After past the hourly limit", async () => {
    const user = await registerUser();
    const limited = { ...env, API_RATE_LIMIT_PER_HOUR: "3" };
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      const ctx = createExecutionContext();
      const request = new Request(`${BASE}/api/tokens`, {
        headers: { Authorization: `Bearer ${user.accessToken}`, "CF-Connecting-IP": randomIp() },
      });
      last = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, limited, ctx);
      await waitOnExecutionContext(ctx);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last?.headers.get("x-ratelimit-limit")).toBe("3");
    expect(last?.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(Number(last?.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await (last as Response).json()) as { error: { code: string } }).error.code).toBe("RATE_LIMITED");
  });
});
