import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { apiToken, createApiTokenBody, createdApiToken, tokenIdParam } from "../../shared/schemas/tokens";
import { envelopeErrors, jsonBody } from "../http/openapi";
import { pageQuery } from "../http/paging";
import { envelopeOf, ok } from "../http/respond";
import { declareRoutes } from "../http/route-group";
import { createApiToken, listApiTokens, revokeApiToken } from "../identity/api-tokens";
import { closeViewersOf, patCredential } from "../identity/credentials";

/** `/api/tokens`: personal API tokens, accepted as `Authorization: Bearer kai_pat_…`. */
export const tokensRoutes = declareRoutes("signedIn");

tokensRoutes.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["tokens"],
    summary: "Create a personal API token (the secret is shown once)",
    request: { body: jsonBody(createApiTokenBody) },
    responses: {
      201: { description: "Created", content: { "application/json": { schema: envelopeOf(createdApiToken) } } },
      ...envelopeErrors(400, 401, 403, 415),
    },
  }),
  async (c) => {
    const token = await createApiToken(c.var.db, c.var.principal.userId, c.req.valid("json"));
    return ok(c, token, "Token created; store the secret now, it is not shown again", 201);
  },
);

tokensRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["tokens"],
    summary: "List your active API tokens (secrets are never shown again)",
    description: "Newest first, a page at a time (`limit`, `offset`).",
    request: { query: pageQuery },
    responses: {
      200: {
        description: "Tokens",
        content: { "application/json": { schema: envelopeOf(z.object({ tokens: z.array(apiToken) })) } },
      },
      ...envelopeErrors(401),
    },
  }),
  async (c) =>
    ok(
      c,
      { tokens: await listApiTokens(c.var.db, c.var.principal.userId, c.req.valid("query")) },
      "Tokens retrieved successfully",
    ),
);

tokensRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    tags: ["tokens"],
    summary: "Revoke an API token; it stops working on the next request, and the streams it opened are closed",
    request: { params: tokenIdParam },
    responses: {
      200: {
        description: "Revoked",
        content: { "application/json": { schema: envelopeOf(z.object({ id: z.string() })) } },
      },
      ...envelopeErrors(400, 401, 403, 404),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { userId } = c.var.principal;
    await revokeApiToken(c.var.db, userId, id);
    await closeViewersOf(c.env, c.var.db, userId, patCredential(id));
    return ok(c, { id }, "Token revoked; the streams it opened are closed");
  },
);
