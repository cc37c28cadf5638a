import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { KaiError } from "../../shared/errors";
import type { AgentMessage } from "../../shared/schemas/agent-sessions";
import { agentPrompt } from "../../shared/schemas/command-params";
import { startSession } from "../agent-sessions/start";
import { findOwnSession } from "../agent-sessions/store";
import { hostRelay } from "../host-relay/stub";
import { jsonBody, problems } from "../http/openapi";
import { declareRoutes, selectingWorkspace } from "../http/route-group";
import { succeeded } from "../relay/relay";
import { WORKSPACE_HEADER, WORKSPACE_QUERY } from "../workspaces/resolve";

const chatEvent = z.object({
  type: z.string(),
  run_id: z.string().optional(),
  message_id: z.string().optional(),
  delta: z.string().optional(),
  tool_name: z.string().optional(),
  result: z.string().optional(),
  output: z.string().optional(),
  error: z.string().optional(),
});

/** An AgentMessage in the documented shape of an agent-chats event. */
function toChatEvent(message: AgentMessage): z.infer<typeof chatEvent> {
  const base = { type: message.type, run_id: message.run_id, message_id: String(message.seq) };
  switch (message.type) {
    case "text":
    case "thinking":
      return { ...base, delta: message.content };
    case "tool_use":
      return { ...base, tool_name: message.tool };
    case "tool_result":
      return { ...base, tool_name: message.tool, output: message.output, error: message.error };
    case "done":
      return { ...base, result: message.content };
    case "error":
      return { ...base, error: message.error };
  }
}

/** `POST /api/v1/agent-chats`: one synchronous turn on the agent-session machinery. */
export const agentChatRoutes = declareRoutes("signedIn");

agentChatRoutes.openapi(
  createRoute(
    selectingWorkspace({
      method: "post",
      path: "/agent-chats",
      tags: ["agent sessions"],
      summary:
        "Run one agent turn and answer with its text and events. Without session_id it starts a session in the " +
        `workspace named by ${WORKSPACE_HEADER} (or workspace_id) with the host's default profile. Tool calls ` +
        "that need approval are refused unless someone watches the session's WebSocket",
      request: {
        body: jsonBody(z.object({ message: agentPrompt, session_id: z.uuid().optional() }).strict()),
      },
      responses: {
        200: {
          description: "The turn's output",
          content: {
            "application/json": {
              schema: z.object({ session_id: z.uuid(), output: z.string(), events: z.array(chatEvent) }),
            },
          },
        },
        ...problems(401, 404, 409, 422, 502, 503, 504),
      },
    }),
  ),
  async (c) => {
    const body = c.req.valid("json");
    const userId = c.var.principal.userId;
    const session = body.session_id
      ? await findOwnSession(c.var.db, userId, body.session_id)
      : await startSession(c, {
          workspaceId: c.req.header(WORKSPACE_HEADER) ?? c.req.query(WORKSPACE_QUERY),
        });
    const outcome = succeeded(
      await hostRelay(c.env, session.hostId).runTurn(
        userId,
        session.id,
        body.message,
        c.var.config.AGENT_CHAT_TIMEOUT_MS,
      ),
    );
    const { messages } = outcome.result as { messages: AgentMessage[] };
    const failure = messages.find((message) => message.type === "error");
    if (failure && !messages.some((message) => message.type === "done")) {
      throw new KaiError("AGENT_PROCESS_FAILED", failure.error ?? "the agent failed during the turn");
    }
    const output = messages
      .filter((message) => message.type === "text")
      .map((message) => message.content ?? "")
      .join("");
    return c.json({ session_id: session.id, output, events: messages.map(toChatEvent) }, 200);
  },
);
