import { describe, expect, it } from "vitest";
import { BASE, call, registerUser, unique } from "./helpers";

/**
 * `/install.sh` is answered by the Worker (wrangler.toml `run_worker_first`), for the origin
 * machines reach it at; the enroll answer carries the line that runs it. (The script itself
 * runs end to end in test/e2e/install-script.test.ts.)
 */
describe("GET /install.sh", () => {
  it("answers a shell script for this origin, never cached, to anyone", async () => {
    const res = await call("/install.sh");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/x-shellscript; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    const script = await res.text();
    expect(script.startsWith("#!/bin/sh\n")).toBe(true);
    expect(script).toContain(`\nKAI_SERVER='${BASE}'\n`);
  });
});

describe("GET /api/install", () => {
  it("answers anyone the line the dashboard shows, for the address machines reach", async () => {
    const res = await call("/api/install");
    expect(res.status).toBe(200);
    const { data } = (await res.json()) as { data: { server: string; install: string } };
    expect(data).toEqual({ server: BASE, install: `curl -fsSL ${BASE}/install.sh | sh` });
  });
});

describe("POST /api/hosts", () => {
  it("answers the one line that installs with the pasted token, which never carries the token", async () => {
    const user = await registerUser();
    const res = await call("/api/hosts", { token: user.accessToken, body: { name: unique("h") } });
    expect(res.status).toBe(201);
    const { data } = (await res.json()) as { data: { token: string; install: string } };
    expect(data.install).toBe(`curl -fsSL ${BASE}/install.sh | sh -s -- --with-token`);
    expect(data.install).not.toContain(data.token);
  });
});
