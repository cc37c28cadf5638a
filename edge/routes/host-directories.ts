import { createRoute } from "@hono/zod-openapi";
import { directoryListing, directoryListingBody } from "../../shared/schemas/flexy";
import { envelopeErrors, jsonBody } from "../http/openapi";
import { envelopeOf, ok } from "../http/respond";
import { declareRoutes } from "../http/route-group";
import { relay } from "../relay/relay";

/** `POST /api/host/directories`: browse the selected host, confined by its agent to the allowed roots. */
export const hostDirectoriesRoutes = declareRoutes("host");

hostDirectoriesRoutes.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["host directories"],
    summary: "List a directory on the host",
    request: { body: jsonBody(directoryListingBody) },
    responses: {
      200: { description: "Listing", content: { "application/json": { schema: envelopeOf(directoryListing) } } },
      ...envelopeErrors(400, 401, 403, 404, 502, 503, 504),
    },
  }),
  async (c) => {
    const { currentPath } = c.req.valid("json");
    const listing = await relay(c.var.agent, "directory.list", currentPath ? { path: currentPath } : {});
    return ok(c, listing, "Directory listing retrieved successfully");
  },
);
