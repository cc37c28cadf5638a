import { describe, expect, it } from "vitest";
import { call } from "./helpers";

describe("system routes", () => {
  it("answers /health and /api/v1/health with {status: ok}", async () => {
    for (const path of ["/health", "/api/v1/health"]) {
      const res = await call(path);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: "ok" });
    }
  });

  it("reports the database with a measured latency on /api/v1/infra/health", async () => {
    const res = await call("/api/v1/infra/health");
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      status: string;
      services: { database: { status: string; latency_ms: number } };
    };
    expect(body.status).toBe("healthy");
    expect(body.services.database.status).toBe("healthy");
    expect(typeof body.services.database.latency_ms).toBe("number");
    expect(body.services.database.latency_ms).toBeGreaterThanOrEqual(0);
  });

  it("answers /api/health in the Kai envelope", async () => {
    const res = await call("/api/health");
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      success: boolean;
      data: { status: string; services: Record<string, string> };
      message: string;
    };
    expect(body).toMatchObject({ success: true, message: "Health check passed", data: { status: "healthy" } });
    expect(body.data.services).toMatchObject({ api: "healthy", database: "healthy" });
    expect(Object.keys(body.data.services).sort()).toEqual(["api", "database", "docker"]);
  });

  it("answers /api/ready in the Kai envelope", async () => {
    const res = await call("/api/ready");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ success: true, data: { ready: true }, message: "System is ready" });
  });

  it("serves an OpenAPI document built from the validating schemas, and a reference page", async () => {
    const res = await call("/api/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe("3.1.0");
    for (const path of [
      "/api/v1/auth/verifications",
      "/api/v1/auth/verifications/resend",
      "/api/v1/auth/verifications/verify",
      "/api/v1/auth/sessions",
      "/api/v1/auth/sessions/refresh",
      "/api/v1/auth/users",
      "/api/v1/users/me",
      "/api/v1/users/{username}",
      "/api/tokens",
      "/api/tokens/{id}",
      "/api/health",
      "/api/ready",
      "/api/v1/infra/health",
    ]) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
    expect(Object.keys(doc.paths["/api/v1/auth/sessions"] ?? {}).sort()).toEqual(["delete", "post"]);
    // The registration schema's limits come straight from the zod schema that validates requests.
    expect(JSON.stringify(doc.components.schemas["CreateVerification"])).toContain("minLength");

    const page = await call("/api/docs");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toContain("/api/openapi.json");
  });
});
