import { createRoute } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import type { Context } from "hono";
import { z } from "zod";
import { KaiError } from "../../shared/errors";
import type { Db } from "../db/client";
import type { AppEnv } from "../env";
import { envelopeOf, ok } from "../http/respond";
import { declareRoutes, selectingHost } from "../http/route-group";
import { resolvePrincipal } from "../middleware/authenticate";
import { chooseHost, wantedHost } from "../middleware/select-host";

/** Health and readiness: `/api/health`, `/api/ready`, `/health`, `/api/v1/health`, `/api/v1/infra/health`. */
export const systemRoutes = declareRoutes("public");

/** Runs one trivial query and measures it; a failure is reported, never thrown. */
async function probeDatabase(db: Db) {
  const started = performance.now();
  try {
    // A primary-key lookup: proves the schema is there, and costs the same however many users.
    await db.run(sql`select 1 from users where id = ''`);
    return { healthy: true, latencyMs: Math.round((performance.now() - started) * 100) / 100 };
  } catch (error) {
    console.error("kai: database probe failed:", error);
    return { healthy: false, latencyMs: Math.round((performance.now() - started) * 100) / 100 };
  }
}

/**
 * The selected host's Docker engine as its agent last reported it: healthy, unhealthy,
 * offline (agent not connected), or unknown (anonymous caller, or no host chosen).
 */
async function dockerOfSelectedHost(c: Context<AppEnv>): Promise<string> {
  try {
    const principal = await resolvePrincipal(c);
    if (!principal) return "unknown";
    const host = await chooseHost(c.var.db, principal.userId, wantedHost(c));
    if (!host.online) return "offline";
    return host.dockerOk ? "healthy" : "unhealthy";
  } catch {
    return "unknown";
  }
}

const word = (healthy: boolean): "healthy" | "unhealthy" => (healthy ? "healthy" : "unhealthy");
const plainOk = {
  description: "Alive",
  content: { "application/json": { schema: z.object({ status: z.literal("ok") }) } },
};

systemRoutes.openapi(
  createRoute({ method: "get", path: "/health", tags: ["system"], summary: "Liveness", responses: { 200: plainOk } }),
  (c) => c.json({ status: "ok" as const }, 200),
);
systemRoutes.openapi(
  createRoute({
    method: "get",
    path: "/api/v1/health",
    tags: ["system"],
    summary: "Liveness",
    responses: { 200: plainOk },
  }),
  (c) => c.json({ status: "ok" as const }, 200),
);

const infraHealth = z.object({
  status: z.enum(["healthy", "unhealthy"]),
  services: z.record(z.string(), z.object({ status: z.enum(["healthy", "unhealthy"]), latency_ms: z.number() })),
});

systemRoutes.openapi(
  createRoute({
    method: "get",
    path: "/api/v1/infra/health",
    tags: ["system"],
    summary: "Infrastructure health with measured latency",
    responses: {
      200: { description: "Healthy", content: { "application/json": { schema: infraHealth } } },
      503: { description: "A dependency is down", content: { "application/json": { schema: infraHealth } } },
    },
  }),
  async (c) => {
    const probe = await probeDatabase(c.var.db);
    const body = {
      status: word(probe.healthy),
      services: { database: { status: word(probe.healthy), latency_ms: probe.latencyMs } },
    };
    return probe.healthy ? c.json(body, 200) : c.json(body, 503);
  },
);

const healthData = z.object({
  status: z.enum(["healthy", "unhealthy"]),
  timestamp: z.string(),
  services: z.object({ api: z.string(), docker: z.string(), database: z.string() }),
});

systemRoutes.openapi(
  selectingHost(
    createRoute({
      method: "get",
      path: "/api/health",
      tags: ["system"],
      summary: "Health of Kai and its dependencies (docker: the selected host's engine, for a signed-in caller)",
      responses: {
        200: { description: "Healthy", content: { "application/json": { schema: envelopeOf(healthData) } } },
      },
    }),
  ),
  async (c) => {
    const probe = await probeDatabase(c.var.db);
    const services = { api: "healthy", docker: await dockerOfSelectedHost(c), database: word(probe.healthy) };
    if (!probe.healthy) {
      throw new KaiError("SERVICE_UNAVAILABLE", "the database is not answering", { details: { services } });
    }
    return ok(c, { status: "healthy" as const, timestamp: new Date().toISOString(), services }, "Health check passed");
  },
);

systemRoutes.openapi(
  createRoute({
    method: "get",
    path: "/api/ready",
    tags: ["system"],
    summary: "Whether Kai can serve requests (database reachable and migrated)",
    responses: {
      200: {
        description: "Ready",
        content: {
          "application/json": { schema: envelopeOf(z.object({ ready: z.boolean(), timestamp: z.string() })) },
        },
      },
    },
  }),
  async (c) => {
    const probe = await probeDatabase(c.var.db);
    if (!probe.healthy)
      throw new KaiError("SERVICE_UNAVAILABLE", "not ready: the database is not answering or not migrated");
    return ok(c, { ready: true, timestamp: new Date().toISOString() }, "System is ready");
  },
);
