import { createRoute } from "@hono/zod-openapi";
import { systemStats } from "../../shared/schemas/services";
import { envelopeErrors } from "../http/openapi";
import { envelopeOf, ok } from "../http/respond";
import { declareRoutes } from "../http/route-group";
import { relay } from "../relay/relay";

/** `GET /api/system/stats`: the selected host's services and resources in aggregate. */
export const systemStatsRoutes = declareRoutes("host");

systemStatsRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["services"],
    summary: "Totals, average CPU and memory, and health across the host's services",
    responses: {
      200: { description: "System stats", content: { "application/json": { schema: envelopeOf(systemStats) } } },
      ...envelopeErrors(400, 401, 404, 502, 503, 504),
    },
  }),
  async (c) => ok(c, await relay(c.var.agent, "system.stats", {}), "System stats retrieved successfully"),
);
