import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { doctorReport } from "../../shared/schemas/doctor";
import { hostIdParam } from "../../shared/schemas/hosts";
import { keepDoctorReport, lastDoctorReport } from "../hosts/doctor-reports";
import { envelopeErrors } from "../http/openapi";
import { envelopeOf, ok } from "../http/respond";
import { declareRoutes } from "../http/route-group";
import { relay } from "../relay/relay";

/**
 * `POST /api/hosts/{id}/doctor`: the host's connected agent runs `kai-agent doctor` and answers its
 * report, which the edge keeps; `GET` answers the kept one, so a machine that went offline still
 * shows what its last run found.
 */
export const hostDoctorRoutes = declareRoutes("hostInPath");

hostDoctorRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{id}/doctor",
    tags: ["hosts"],
    summary:
      "Run kai-agent doctor on the host: server, TLS, token, clock, Docker, policy, agent profiles, Node; " +
      "503 AGENT_OFFLINE when its agent is not connected",
    request: { params: hostIdParam },
    responses: {
      200: {
        description: "The report (ok is false when a check failed)",
        content: { "application/json": { schema: envelopeOf(doctorReport) } },
      },
      ...envelopeErrors(400, 401, 404, 503, 504),
    },
  }),
  async (c) => {
    const report = await relay(c.var.agent, "doctor.run", {});
    // Kept before answering, so a read right after shows it; but the run's answer never fails on
    // keeping it: a failed write (or a host deleted meanwhile, whose row the foreign key refuses)
    // costs only the page's memory of this run.
    await keepDoctorReport(c.var.db, c.var.agent.hostId, report).catch((error: unknown) =>
      console.error(`doctor: keeping the report of host ${c.var.agent.hostId} failed: ${String(error)}`),
    );
    return ok(c, report, "The host's agent ran its checks");
  },
);

hostDoctorRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}/doctor",
    tags: ["hosts"],
    summary: "The host's last kai-agent doctor report (run through POST), online or not; null before the first run",
    request: { params: hostIdParam },
    responses: {
      200: {
        description: "The last report, or null",
        content: { "application/json": { schema: envelopeOf(z.object({ report: doctorReport.nullable() })) } },
      },
      ...envelopeErrors(400, 401, 404),
    },
  }),
  async (c) => {
    const report = await lastDoctorReport(c.var.db, c.var.agent.hostId);
    return ok(c, { report }, report ? "The host's last doctor report" : "No doctor report yet: run the checks");
  },
);
