import { createRoute } from "@hono/zod-openapi";
import { KaiError } from "../../shared/errors";
import { userLookup, userLookupQuery } from "../../shared/schemas/identity";
import { problems } from "../http/openapi";
import { declareRoutes } from "../http/route-group";
import { userByEmail, userById } from "../identity/users";

/** `GET /api/v1/auth/users?email=`: look a user up by email. Admins only (ADMIN_EMAILS). */
export const authUsers = declareRoutes("signedIn");

authUsers.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["auth"],
    summary: "Look a user up by email (administrators only)",
    request: { query: userLookupQuery },
    responses: {
      200: { description: "The user", content: { "application/json": { schema: userLookup } } },
      ...problems(401, 403, 404, 422),
    },
  }),
  async (c) => {
    const db = c.var.db;
    const caller = await userById(db, c.var.principal.userId);
    if (!c.var.config.adminEmails.has(caller.email)) {
      throw new KaiError("PERMISSION_DENIED", "only administrators may look users up by email");
    }
    const user = await userByEmail(db, c.req.valid("query").email);
    return c.json(
      {
        id: user.id,
        email: user.email,
        created_at: user.createdAt.toISOString(),
        email_confirmed_at: user.emailConfirmedAt?.toISOString() ?? null,
      },
      200,
    );
  },
);
