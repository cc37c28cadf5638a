import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { z } from "zod";
import { REPLIES } from "../../shared/command-replies";
import { openspecAction, openspecChangeName, refName, workspacePath } from "../../shared/schemas/command-params";
import type { WorkspaceEnv } from "../env";
import { parseOrThrow } from "../http/errors";
import { jsonBody, problems } from "../http/openapi";
import type { RouteGroup } from "../http/route-group";
import { userById } from "../identity/users";
import { relay } from "../relay/relay";

const errors = problems(401, 403, 404, 409, 422, 502, 503, 504);
const json = <T>(schema: T) => ({ description: "OK", content: { "application/json": { schema } } });
const tags = ["version control"];
const remoteBody = z.object({ remote: refName.optional(), branch: refName.optional() }).strict();

/** Commits and merges are signed as the Kai user: their username and email. */
async function authorOf(c: Context<WorkspaceEnv>) {
  const user = await userById(c.var.db, c.var.principal.userId);
  return { name: user.username, email: user.email };
}

/** `/version-control/...`, `/openspec` and `/openspec/actions` of one workspace (scoped paths only). */
export function registerVersionControlRoutes(group: RouteGroup<WorkspaceEnv>): void {
  const root = (c: Context<WorkspaceEnv>) => c.var.workspace.root;

  group.openapi(
    createRoute({
      method: "get",
      path: "/version-control/status",
      tags,
      summary: "git status",
      responses: { 200: json(REPLIES["git.status"].result), ...errors },
    }),
    async (c) => c.json(await relay(c.var.agent, "git.status", { root: root(c) }), 200),
  );
  group.openapi(
    createRoute({
      method: "get",
      path: "/version-control/log",
      tags,
      summary: "git log, newest first, a page at a time",
      request: {
        query: z.object({
          page: z.coerce.number().int().min(1).default(1),
          limit: z.coerce.number().int().min(1).max(200).default(20),
        }),
      },
      responses: { 200: json(REPLIES["git.log"].result.extend({ page: z.number(), limit: z.number() })), ...errors },
    }),
    async (c) => {
      const { page, limit } = c.req.valid("query");
      return c.json(
        { ...(await relay(c.var.agent, "git.log", { root: root(c), skip: (page - 1) * limit, limit })), page, limit },
        200,
      );
    },
  );
  group.openapi(
    createRoute({
      method: "post",
      path: "/version-control/commit",
      tags,
      summary: "Commit the given paths, or everything with all=true; the author is your Kai profile",
      request: {
        body: jsonBody(
          z
            .object({
              message: z.string().min(1).max(10_000),
              paths: z.array(workspacePath.min(1)).min(1).max(1000).optional(),
              all: z.boolean().default(false),
            })
            .strict(),
        ),
      },
      responses: { 200: json(REPLIES["git.commit"].result), ...errors },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const author = await authorOf(c);
      return c.json(
        await relay(c.var.agent, "git.commit", {
          root: root(c),
          message: body.message,
          all: body.all || !body.paths,
          ...(body.paths ? { paths: body.paths } : {}),
          author,
        }),
        200,
      );
    },
  );
  for (const action of ["push", "pull"] as const) {
    group.openapi(
      createRoute({
        method: "post",
        path: `/version-control/${action}`,
        tags,
        summary:
          action === "push" ? "git push (a rejected push is CONFLICT)" : "git pull (a merge conflict is CONFLICT)",
        request: { body: { content: { "application/json": { schema: remoteBody } }, required: false } },
        responses: { 200: json(REPLIES[`git.${action}`].result), ...errors },
      }),
      async (c) => {
        const body = parseOrThrow(remoteBody, (await c.req.json().catch(() => ({}))) ?? {});
        const params = { root: root(c), ...body };
        if (action === "push") return c.json(await relay(c.var.agent, "git.push", params), 200);
        return c.json(await relay(c.var.agent, "git.pull", { ...params, author: await authorOf(c) }), 200);
      },
    );
  }
  group.openapi(
    createRoute({
      method: "get",
      path: "/version-control/branches",
      tags,
      summary: "Local and remote branches",
      responses: { 200: json(REPLIES["git.branches"].result), ...errors },
    }),
    async (c) => c.json(await relay(c.var.agent, "git.branches", { root: root(c) }), 200),
  );
  group.openapi(
    createRoute({
      method: "post",
      path: "/version-control/checkout",
      tags,
      summary: "Switch branch, or create it with create=true",
      request: { body: jsonBody(z.object({ branch: refName, create: z.boolean().default(false) }).strict()) },
      responses: { 200: json(REPLIES["git.checkout"].result), ...errors },
    }),
    async (c) => {
      const body = c.req.valid("json");
      return c.json(
        await relay(c.var.agent, "git.checkout", { root: root(c), branch: body.branch, create: body.create }),
        200,
      );
    },
  );
  group.openapi(
    createRoute({
      method: "get",
      path: "/openspec",
      tags: ["openspec"],
      summary: "OpenSpec state: specs, active changes with task progress, archived changes, and the actions available",
      responses: { 200: json(REPLIES["openspec.state"].result), ...errors },
    }),
    async (c) => c.json(await relay(c.var.agent, "openspec.state", { root: root(c) }), 200),
  );
  group.openapi(
    createRoute({
      method: "post",
      path: "/openspec/actions",
      tags: ["openspec"],
      summary:
        "Run an action GET /openspec offers (for the workspace, or for `change`) through the OpenSpec CLI; anything not offered, or no CLI on the host, is CONFLICT",
      request: { body: jsonBody(z.object({ action: openspecAction, change: openspecChangeName.optional() }).strict()) },
      responses: { 200: json(REPLIES["openspec.run"].result), ...errors },
    }),
    async (c) => {
      const body = c.req.valid("json");
      // The CLI may take a while (the agent stops it after 120 s): wait that much longer.
      const result = await relay(c.var.agent, "openspec.run", {
        root: root(c),
        action: body.action,
        ...(body.change ? { change: body.change } : {}),
      });
      return c.json(result, 200);
    },
  );
}
