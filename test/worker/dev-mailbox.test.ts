import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../edge/index";
import { BASE, call, expectProblem, randomIp, unique } from "./helpers";

/** The same Worker code, run with a different ENVIRONMENT binding. */
async function fetchWith(environment: string, path: string, init?: RequestInit) {
  const ctx = createExecutionContext();
  const request = new Request(`${BASE}${path}`, init);
  request.headers.set("CF-Connecting-IP", randomIp());
  const response = await worker.fetch(
    request as Request<unknown, IncomingRequestCfProperties>,
    { ...env, ENVIRONMENT: environment },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

describe("development mailbox", () => {
  it("returns the latest messages with the code when ENVIRONMENT=development", async () => {
    const email = `${unique("mbox")}@example.com`;
    const register = await fetchWith("development", "/api/v1/auth/verifications", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: unique("m_"), email, password: "secret123" }),
    });
    expect(register.status).toBe(202);
    const res = await fetchWith("development", `/api/v1/dev/mailbox?email=${encodeURIComponent(email)}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { messages: { to: string; subject: string; code: string; text: string }[] };
    expect(body.messages).toHaveLength(1);
    expect(body.messages[0]?.to).toBe(email);
    expect(body.messages[0]?.code).toMatch(/^\d{6}$/);
    expect(body.messages[0]?.text).toContain(body.messages[0]?.code ?? "missing");
  });

  it("does not exist in any other environment", async () => {
    await expectProblem(await call("/api/v1/dev/mailbox?email=a%40example.com"), 404, "NOT_FOUND");
    await expectProblem(await fetchWith("production", "/api/v1/dev/mailbox?email=a%40example.com"), 404, "NOT_FOUND");
  });
});
