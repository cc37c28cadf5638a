import { createRoute } from "@hono/zod-openapi";
import { doctorReport } from "../../shared/schemas/doctor";
import { hostIdParam } from "../../shared/schemas/hosts";
import { envelopeErrors } from "../http/openapi";
import { envelopeOf, ok } from "../http/respond";
import { declareRoutes } from "../http/route-group";
import { relay } from "../relay/relay";

/** `POST /api/hosts/{id}/doctor`: the host's connected agent runs `kai-agent doctor` and answers its report. */
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
  async (c) => ok(c, await relay(c.var.agent, "doctor.run", {}), "The host's agent ran its checks"),
);
