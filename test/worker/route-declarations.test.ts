import { beforeAll, describe, expect, it } from "vitest";
import { call, expectEnvelopeError, registerUser, unique } from "./helpers";

/**
 * The OpenAPI document is written from each route group's declaration (edge/http/route-group.ts),
 * and so is the middleware. These tests hold the two together from the outside: every documented
 * operation is called, and what it enforces must be what the document says.
 */

interface Parameter {
  in: string;
  name: string;
}
interface Operation {
  security?: Array<Record<string, string[]>>;
  parameters?: Parameter[];
  requestBody?: {
    content?: Record<string, { schema?: { required?: string[]; properties?: Record<string, { type?: string }> } }>;
  };
}
type Document = { paths: Record<string, Record<string, Operation>> };

const METHODS = ["get", "post", "put", "patch", "delete"] as const;
const SIGNED_IN = [{ bearer: [] }, { cookie: [] }];
/** kai-agent's own routes (`/api/agent/…`): its host's agent token, not a user's credentials. */
const AGENT_TOKEN = [{ agentToken: [] }];
const expectedSecurity = (path: string) => (path.startsWith("/api/agent/") ? AGENT_TOKEN : SIGNED_IN);

let doc: Document;
const operations: Array<{ method: string; path: string; operation: Operation }> = [];

beforeAll(async () => {
  const res = await call("/api/openapi.json");
  expect(res.status).toBe(200);
  doc = (await res.json()) as Document;
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (operation) operations.push({ method, path, operation });
    }
  }
});

/** A concrete URL for a documented path: every `{param}` filled with a value of the right shape. */
function urlOf(path: string): string {
  const values: Record<string, string> = {
    username: "nobody_here",
    path: "notes.txt",
    name: "build",
    deliveryId: `msg_${crypto.randomUUID()}`,
  };
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => values[name] ?? crypto.randomUUID());
}

/**
 * A JSON body with every required string field filled, so a route that validates its body
 * before choosing its workspace (agent-chats needs a `message`) still gets to the choice.
 */
function bodyOf(operation: Operation): Record<string, string> | undefined {
  const schema = operation.requestBody?.content?.["application/json"]?.schema;
  const strings = (schema?.required ?? []).filter((name) => schema?.properties?.[name]?.type === "string");
  return strings.length ? Object.fromEntries(strings.map((name) => [name, "hello"])) : undefined;
}

const has = (operation: Operation, where: string, name: string) =>
  (operation.parameters ?? []).some((parameter) => parameter.in === where && parameter.name === name);
const selectsHost = (operation: Operation) => has(operation, "header", "X-Kai-Host") && has(operation, "query", "host");
const selectsWorkspace = (operation: Operation) =>
  has(operation, "header", "X-Kai-Workspace") && has(operation, "query", "workspace_id");

describe("the OpenAPI document states what each route enforces", () => {
  it("documents many operations, signed-in and public, host- and workspace-bound", () => {
    const secured = operations.filter(({ operation }) => operation.security);
    expect(secured.length).toBeGreaterThan(40);
    expect(operations.length - secured.length).toBeGreaterThan(8);
    expect(operations.filter(({ operation }) => selectsHost(operation)).length).toBeGreaterThan(15);
    expect(operations.filter(({ operation }) => selectsWorkspace(operation)).length).toBeGreaterThan(5);
  });

  it("marks signed-in operations with bearer or cookie, and only those", () => {
    for (const { method, path, operation } of operations) {
      if (operation.security) expect(operation.security, `${method} ${path}`).toEqual(expectedSecurity(path));
    }
    // The drift this replaced: the workspace file routes were documented as public.
    expect(doc.paths["/api/v1/workspaces/{workspaceId}/files/{path}"]?.["get"]?.security).toEqual(SIGNED_IN);
    expect(doc.paths["/api/v1/files"]?.["get"]?.security).toEqual(SIGNED_IN);
    expect(doc.paths["/api/v1/auth/sessions"]?.["post"]?.security).toBeUndefined();
    expect(doc.paths["/health"]?.["get"]?.security).toBeUndefined();
    expect(doc.paths["/api/agent/whoami"]?.["get"]?.security).toEqual(AGENT_TOKEN);
  });

  it("answers 401 without credentials exactly where the document asks for them", async () => {
    for (const { method, path, operation } of operations) {
      const res = await call(urlOf(path), { method: method.toUpperCase() });
      const label = `${method.toUpperCase()} ${path} → ${res.status}`;
      if (operation.security) {
        await expectEnvelopeOrProblem(res, 401, "UNAUTHORIZED", label);
      } else {
        expect(res.status, label).not.toBe(401);
        await res.body?.cancel();
      }
    }
  }, 60_000); // one request per documented operation, over a hundred

  it("chooses a host or a workspace exactly where the document names the selector", async () => {
    const user = await registerUser(); // no hosts, no workspaces
    for (const { method, path, operation } of operations.filter(({ operation }) => operation.security)) {
      const body = selectsWorkspace(operation) ? bodyOf(operation) : undefined;
      const res = await call(urlOf(path), {
        method: method.toUpperCase(),
        token: user.accessToken,
        ...(body ? { body } : {}),
      });
      const label = `${method.toUpperCase()} ${path} → ${res.status}`;
      const text = await res.text();
      if (selectsHost(operation)) {
        expect(res.status, label).toBe(400);
        expect(text, label).toContain("you have no host yet");
      } else {
        expect(text, label).not.toContain("you have no host yet");
      }
      if (selectsWorkspace(operation)) {
        expect(text, label).toContain("name the workspace");
      } else if (has(operation, "path", "workspaceId")) {
        expect(res.status, label).toBe(404);
        expect(text, label).toContain("no such workspace");
      } else {
        expect(text, label).not.toMatch(/name the workspace|no such workspace/);
      }
    }
  }, 60_000);
});

describe("start takes no grace period", () => {
  let token: string;
  beforeAll(async () => {
    const user = await registerUser();
    token = user.accessToken;
    // One enrolled host (its agent never connects): host-bound routes select it without a header.
    expect((await call("/api/hosts", { token, body: { name: unique("h") } })).status).toBe(201);
  });

  for (const base of ["/api/flexy", "/api/services"]) {
    it(`${base}/{id}/start neither documents nor validates ?timeout; stop and restart do`, async () => {
      const parameters = (action: string) =>
        (doc.paths[`${base}/{id}/${action}`]?.["post"]?.parameters ?? [])
          .filter((parameter) => parameter.in === "query")
          .map((parameter) => parameter.name);
      expect(parameters("start")).toEqual(["host"]);
      expect(parameters("stop")).toContain("timeout");
      expect(parameters("restart")).toContain("timeout");

      // Unknown query parameters are ignored across the API, and to start `timeout` is one:
      // the request reaches the (offline) agent instead of failing validation.
      const start = await call(`${base}/web/start?timeout=not-a-number`, { method: "POST", token });
      await expectEnvelopeError(start, 503, "AGENT_OFFLINE");
      const stop = await call(`${base}/web/stop?timeout=not-a-number`, { method: "POST", token });
      const body = await expectEnvelopeError(stop, 400, "VALIDATION_ERROR");
      expect(body.error.message).toContain("timeout");
    });
  }
});

/** A 401 in the surface the path speaks (`/api/v1` problem+json, `/api` envelope). */
async function expectEnvelopeOrProblem(res: Response, status: number, code: string, label: string) {
  expect(res.status, label).toBe(status);
  const body = (await res.json()) as { code?: string; error?: { code: string } };
  expect(body.code ?? body.error?.code, label).toBe(code);
}
