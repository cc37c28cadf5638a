import { beforeAll, describe, expect, it } from "vitest";
import { call, expectEnvelopeError, expectProblem, registerUser, type TestUser, unique } from "../../worker/helpers";

/**
 * The edge's HTTP surface as a hostile client sees it, with no agent behind it: the checks
 * here are all made before anything reaches a host, so the host stays offline and an answer
 * of AGENT_OFFLINE (503) means the request got past every check.
 */

let user: TestUser;
let workspaceId: string;
const ws = (suffix: string) => `/api/v1/workspaces/${workspaceId}${suffix}`;

beforeAll(async () => {
  user = await registerUser();
  const host = await call("/api/hosts", { body: { name: unique("h") }, token: user.accessToken });
  expect(host.status).toBe(201);
  const item = await call("/api/catalog/flexy", { body: { name: "w", hostPath: "/tmp/w" }, token: user.accessToken });
  expect(item.status).toBe(201);
  workspaceId = ((await item.json()) as { data: { id: string } }).data.id;
});

/** `{"a":{"a":…}}` nested `depth` deep. */
const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
/** `[[[…]]]` nested `depth` deep. */
const nestedArray = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

describe("JSON nesting is capped for every JSON body", () => {
  it.each([
    ["a settings write (OpenAPI validator)", () => ws("/settings"), "PUT", nested(20_000)],
    [
      "a file write as JSON (parsed by the route)",
      () => ws("/files/deep.json"),
      "PUT",
      `{"content":"x","encoding":"utf-8","extra":${nested(20_000)}}`,
    ],
    ["an /api/v1 auth body", () => "/api/v1/auth/sessions", "POST", `{"email":${nestedArray(20_000)}}`],
  ])("answers %s nested 20,000 deep with 422 naming the limit", async (_label, path, method, body) => {
    const res = await call(path(), { method, body, token: user.accessToken });
    const problem = await expectProblem(res, 422, "VALIDATION_ERROR");
    expect(String(problem["detail"])).toMatch(/nest.*64/);
  });

  it("answers the envelope surface with 400 VALIDATION_ERROR", async () => {
    const res = await call("/api/tokens", { body: `{"name":${nested(5_000)}}`, token: user.accessToken });
    const body = await expectEnvelopeError(res, 400, "VALIDATION_ERROR");
    expect(body.error.message).toMatch(/nest.*64/);
  });

  it("lets a body at the limit through to the route", async () => {
    // 63 levels inside the top-level object: within the limit, so the route itself answers.
    const res = await call(ws("/settings"), { method: "PUT", body: `{"deep":${nested(63)}}`, token: user.accessToken });
    await expectProblem(res, 503, "AGENT_OFFLINE");
  });
});

describe("file paths are decoded once", () => {
  it("reaches the agent with a name holding %, instead of failing on a second decode", async () => {
    for (const method of ["GET", "DELETE"]) {
      await expectProblem(
        await call(ws("/files/100%25.txt"), { method, token: user.accessToken }),
        503,
        "AGENT_OFFLINE",
      );
    }
    await expectProblem(
      await call(ws("/files/100%25.txt"), { method: "PUT", body: { content: "x" }, token: user.accessToken }),
      503,
      "AGENT_OFFLINE",
    );
  });

  it("still checks the path after its one decode", async () => {
    // `%2F` decodes to `/`: an absolute path, refused at the edge.
    await expectProblem(await call(ws("/files/%2Fetc%2Fpasswd"), { token: user.accessToken }), 422, "VALIDATION_ERROR");
    // `%252F` is a name holding a literal `%2F`, not a separator: it goes on to the agent as such.
    await expectProblem(
      await call(ws("/files/%252Fetc%252Fpasswd"), { token: user.accessToken }),
      503,
      "AGENT_OFFLINE",
    );
  });
});

describe("file contents in base64 are checked strictly", () => {
  it.each(["not base64!", "abc", "ab=c", "YQ==YQ==", "Y Q=="])("refuses %j with 422", async (content) => {
    const res = await call(ws("/files/a.bin"), {
      method: "PUT",
      body: { content, encoding: "base64" },
      token: user.accessToken,
    });
    const problem = await expectProblem(res, 422, "VALIDATION_ERROR");
    expect(String(problem["detail"])).toContain("base64");
  });

  it("accepts valid base64 (and the empty string)", async () => {
    for (const content of ["", "YQ==", "YWI=", "YWJj"]) {
      await expectProblem(
        await call(ws("/files/a.bin"), {
          method: "PUT",
          body: { content, encoding: "base64" },
          token: user.accessToken,
        }),
        503,
        "AGENT_OFFLINE",
      );
    }
  });
});

describe("upload names", () => {
  const upload = async (name: string) => {
    const form = new FormData();
    form.append("files", new File(["x"], name));
    const { SELF } = await import("cloudflare:test");
    return SELF.fetch(`https://kai.test${ws("/files/upload")}`, {
      method: "POST",
      body: form,
      headers: { authorization: `Bearer ${user.accessToken}` },
    });
  };

  it.each(["v1.0.txt", "2020-report.md", "0"])("accepts %j (a name with the digit 0)", async (name) => {
    await expectProblem(await upload(name), 503, "AGENT_OFFLINE");
  });

  it.each(["a/b", "a\\b", ".", ".."])("refuses %j with 422", async (name) => {
    await expectProblem(await upload(name), 422, "VALIDATION_ERROR");
  });

  it("refuses a name holding NUL before reaching the host", async () => {
    const res = await upload("a\u0000b");
    // workerd's multipart parser may refuse it first (400); otherwise the name check does (422).
    expect([400, 422]).toContain(res.status);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
  });
});

describe("a script runs only on POST or a WebSocket", () => {
  it("answers a plain GET of /scripts/{name}/run with 405 and Allow: POST before reaching the host", async () => {
    for (const path of [ws("/scripts/build/run"), `/api/v1/scripts/build/run?workspace_id=${workspaceId}`]) {
      const res = await call(path, { token: user.accessToken });
      expect(res.headers.get("allow")).toBe("POST");
      await expectProblem(res, 405, "METHOD_NOT_ALLOWED");
      // With the session cookie and no Origin (what a cross-site link or <img> sends): the same.
      const cookied = await call(path, { headers: { cookie: user.cookie } });
      await expectProblem(cookied, 405, "METHOD_NOT_ALLOWED");
    }
    // POST still reaches the host (offline here).
    await expectProblem(
      await call(ws("/scripts/build/run"), { method: "POST", token: user.accessToken }),
      503,
      "AGENT_OFFLINE",
    );
  });
});
