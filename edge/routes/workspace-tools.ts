import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { z } from "zod";
import { REPLIES } from "../../shared/command-replies";
import { KaiError } from "../../shared/errors";
import { scriptInfo, scriptOutput } from "../../shared/schemas/workspace";
import type { WorkspaceEnv } from "../env";
import { parseOrThrow } from "../http/errors";
import { jsonBody, problems } from "../http/openapi";
import type { RouteGroup } from "../http/route-group";
import { relay, relayCollecting } from "../relay/relay";
import { openStream, wantsWebSocket } from "../relay/stream";

const errors = problems(401, 403, 404, 409, 422, 503, 504);
const json = <T>(schema: T, description = "OK") => ({ description, content: { "application/json": { schema } } });

/** `/settings`, `/settings/hooks`, `/settings/mcp`: the workspace's Claude Code settings. */
export function registerSettingsRoutes(group: RouteGroup<WorkspaceEnv>): void {
  const sections = [
    ["settings", "/settings", "Claude Code settings (.claude/settings.json)"],
    ["hooks", "/settings/hooks", "Claude Code hooks (the hooks section of .claude/settings.json)"],
    ["mcp", "/settings/mcp", "MCP servers (.mcp.json)"],
  ] as const;
  for (const [section, path, what] of sections) {
    group.openapi(
      createRoute({
        method: "get",
        path,
        tags: ["workspace settings"],
        summary: `Read ${what}`,
        responses: { 200: json(z.record(z.string(), z.unknown())), ...errors },
      }),
      async (c) =>
        c.json((await relay(c.var.agent, "settings.read", { root: c.var.workspace.root, section })).value, 200),
    );
    group.openapi(
      createRoute({
        method: "put",
        path,
        tags: ["workspace settings"],
        summary: `Replace ${what}; validated, unknown keys kept, written atomically`,
        request: { body: jsonBody(z.record(z.string(), z.unknown())) },
        responses: { 200: json(z.record(z.string(), z.unknown())), ...errors },
      }),
      async (c) =>
        c.json(
          (
            await relay(c.var.agent, "settings.write", {
              root: c.var.workspace.root,
              section,
              value: c.req.valid("json"),
            })
          ).value,
          200,
        ),
    );
  }
}

/** `/scripts` and `/scripts/{name}/run`: only scripts the workspace lists can run. */
export function registerScriptRoutes(group: RouteGroup<WorkspaceEnv>): void {
  group.openapi(
    createRoute({
      method: "get",
      path: "/scripts",
      tags: ["workspace scripts"],
      summary: "The workspace's package.json scripts and .kai/scripts executables",
      responses: { 200: json(z.object({ scripts: z.array(scriptInfo) })), ...errors },
    }),
    async (c) => c.json(await relay(c.var.agent, "scripts.list", { root: c.var.workspace.root }), 200),
  );

  const runQuery = z.object({ timeout: z.coerce.number().int().min(1).max(3600).default(300) });
  const runResult = REPLIES["scripts.run"].result.extend({
    name: z.string(),
    output: z.array(scriptOutput),
    outputTruncated: z.boolean(),
  });
  const run = async (c: Context<WorkspaceEnv>, name: string, timeout: number) => {
    const params = { root: c.var.workspace.root, name, timeoutSeconds: timeout };
    // Live: a WebSocket gets each piece of output as it comes, then the exit code.
    if (wantsWebSocket(c)) return openStream(c.var.agent, c, "scripts.run", params);
    const { result, chunks, truncated } = await relayCollecting(c.var.agent, "scripts.run", params);
    const output = chunks.flatMap((chunk) => {
      const parsed = scriptOutput.safeParse(chunk);
      return parsed.success ? [parsed.data] : [];
    });
    return c.json({ name, ...result, output, outputTruncated: truncated });
  };
  const nameParam = z.object({ name: z.string().min(1).max(200) });
  const input = (c: Context<WorkspaceEnv>) => {
    const { name } = parseOrThrow(nameParam, { name: c.req.param("name") }, "param");
    const { timeout } = parseOrThrow(runQuery, c.req.query(), "query");
    return [name, timeout] as const;
  };
  // Plain routes: one handler answers JSON or, for a WebSocket upgrade, streams; documented below.
  group.plain("POST", "/scripts/:name/run", async (c) => run(c, ...input(c)));
  // Browsers open WebSockets with GET: the live form of the same route, and its only GET.
  // A plain GET must never run anything: a cookie GET carries no Origin check, so a link or
  // an <img> on another site could run the script (the upgrade itself checks the Origin).
  group.plain("GET", "/scripts/:name/run", async (c) => {
    if (!wantsWebSocket(c)) {
      throw new KaiError(
        "METHOD_NOT_ALLOWED",
        "a plain GET does not run a script: POST to run it, or open a WebSocket here for live output",
        {
          headers: { Allow: "POST" },
        },
      );
    }
    return run(c, ...input(c));
  });
  group.document({
    method: "post",
    path: "/scripts/{name}/run",
    tags: ["workspace scripts"],
    summary: "Run a listed script: returns its output and exit code (a WebSocket to the same path streams it live)",
    request: { params: nameParam, query: runQuery },
    responses: { 200: json(runResult), ...errors },
  });
}

/** `WS /ws`: the workspace's file changes and system stats, as documented. */
export function registerEventSocket(group: RouteGroup<WorkspaceEnv>): void {
  group.plain("GET", "/ws", async (c) =>
    openStream(c.var.agent, c, "workspace.watch", { root: c.var.workspace.root, statsIntervalMs: 5000 }),
  );
}
