import { describe, expect, it } from "vitest";
import { BASE, call, registerUser, unique } from "../../worker/helpers";

/**
 * The enrollment answer's `command` must not carry the agent token: a command line shows in
 * `ps` and lands in shell history. It runs `kai-agent login --with-token`, which asks for the token (the
 * `token` field, pasted when asked), then the agent.
 */
describe("POST /api/hosts", () => {
  it("answers a command without the token, which asks for it, and the token on its own", async () => {
    const user = await registerUser();
    const res = await call("/api/hosts", { token: user.accessToken, body: { name: unique("h") } });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { data: { token: string; command: string }; message: string };
    expect(body.data.token).toMatch(/^kai_agent_/);
    expect(body.data.command).not.toContain(body.data.token);
    expect(body.data.command).not.toContain("--token");
    expect(body.data.command).toBe(`kai-agent login --server ${BASE} --with-token && kai-agent`);
    expect(body.message).toContain("paste the token when asked");
  });
});
