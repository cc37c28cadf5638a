import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { KaiError } from "../../shared/errors";
import { email } from "../../shared/schemas/identity";
import { problems } from "../http/openapi";
import { declareRoutes } from "../http/route-group";
import { latestMessages } from "../mail/mailer";

/**
 * `GET /api/v1/dev/mailbox?email=`: the development mailer's latest messages, codes
 * included. Exists only with ENVIRONMENT=development; anywhere else it is a plain 404.
 */
export const devMailboxRoutes = declareRoutes("public");

const message = z.object({
  id: z.string(),
  to: z.string(),
  subject: z.string(),
  text: z.string(),
  code: z.string().nullable(),
  created_at: z.string(),
});

devMailboxRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["development"],
    summary: "Latest messages sent to an email (development only)",
    request: { query: z.object({ email }) },
    responses: {
      200: {
        description: "Newest first",
        content: { "application/json": { schema: z.object({ messages: z.array(message) }) } },
      },
      ...problems(404, 422),
    },
  }),
  async (c) => {
    if (c.var.config.ENVIRONMENT !== "development") {
      throw new KaiError("NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`);
    }
    return c.json({ messages: await latestMessages(c.var.db, c.req.valid("query").email) }, 200);
  },
);
