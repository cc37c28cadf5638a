import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { KaiError, wireErrorSchema } from "../../shared/errors";
import { userFeedFrame } from "../../shared/schemas/user-events";
import { upgradeRequest } from "../host-relay/upgrade";
import { parseOrThrow } from "../http/errors";
import { problems } from "../http/openapi";
import { declareRoutes } from "../http/route-group";
import { credentialOf } from "../identity/credentials";
import { wantsWebSocket } from "../relay/stream";
import { userFeed } from "../user-feed/stub";
import { FEED_CREDENTIAL_HEADER, FEED_SINCE_HEADER, FEED_USER_HEADER, MAX_FEED_VIEWERS } from "../user-feed/user-feed";

const sinceQuery = z.object({
  since: z.coerce
    .number()
    .int()
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .optional()
    .describe("The last seq you have: the kept events after it come first. Absent: live events only"),
});

/** `WS /api/v1/ws/events`: the signed-in user's live event feed (edge/user-feed/). */
export const userEventRoutes = declareRoutes("signedIn");

userEventRoutes.plain("GET", "/events", async (c) => {
  if (!wantsWebSocket(c)) {
    throw new KaiError(
      "BAD_REQUEST",
      "this is a WebSocket: connect with Upgrade: websocket (a browser WebSocket, wscat)",
    );
  }
  const { since } = parseOrThrow(sinceQuery, { since: c.req.query("since") }, "query");
  const credential = credentialOf(c.var.principal);
  const answer = await userFeed(c.env, c.var.principal.userId).fetch(
    upgradeRequest(c.req.raw, {
      [FEED_USER_HEADER]: c.var.principal.userId,
      ...(since === undefined ? {} : { [FEED_SINCE_HEADER]: String(since) }),
      ...(credential ? { [FEED_CREDENTIAL_HEADER]: credential } : {}),
    }),
  );
  if (answer.webSocket) return answer;
  const refusal = wireErrorSchema.safeParse(await answer.json().catch(() => null));
  if (!refusal.success) throw new KaiError("INTERNAL_ERROR", "the event feed could not be opened");
  throw new KaiError(refusal.data.code, refusal.data.message);
});
userEventRoutes.document(
  createRoute({
    method: "get",
    path: "/events",
    tags: ["events"],
    summary:
      "WebSocket: your live events (host online/offline, Docker state, containers, agent sessions) numbered by seq, " +
      "then `live`; host stats snapshots; a `reset` first when `since` cannot be served",
    description:
      "Each frame is one JSON object of the UserFeedFrame schema. Events carry a per-user `seq`; the feed keeps the " +
      "last 1,000 of them for up to 24 h, so reconnect with `?since=<last seq>` to miss and repeat nothing. " +
      "`host.stats` frames are not numbered: the latest of each host comes on connecting, then every few seconds " +
      "(hosts send them only while a feed of theirs is open, so a first feed gets fresh ones within a moment). " +
      `At most ${MAX_FEED_VIEWERS} feeds per user are open at once (429 beyond). Viewers only listen.`,
    request: { query: sinceQuery },
    responses: {
      101: {
        description: "Switching protocols: the feed; every frame is a UserFeedFrame",
        content: { "application/json": { schema: userFeedFrame.meta({ id: "UserFeedFrame" }) } },
      },
      ...problems(400, 401, 422, 429),
    },
  }),
);
