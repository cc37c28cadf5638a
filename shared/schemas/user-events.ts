import { z } from "zod";
import { dockerState } from "../protocol";
import { containerEvent, systemStats } from "./services";

/**
 * The per-user live event feed (`WS /api/v1/ws/events?since=<seq>`): what a dashboard is
 * pushed instead of polling. Every frame is one JSON object with a `type`. Events (host
 * presence, Docker engine state, container lifecycle, agent-session changes) are numbered
 * per user by `seq` and kept a while, so a page that reconnects with the last `seq` it got
 * misses nothing and repeats nothing. Stats are snapshots: not numbered, only the latest per
 * host is kept.
 */

/** A host's stats snapshot: the `system.stats` answer (container counts, CPU and memory of what runs). */
export const hostStatsData = systemStats;

/**
 * The agent-session changes the feed carries: those of the webhooks of the same names, plus
 * every status change (`detail.status`) and an approval settled (`detail.approvalId`, `detail.state`).
 */
export const sessionFeedEvent = z.enum([
  "session.started",
  "session.approval_requested",
  "session.turn_completed",
  "session.ended",
  "session.failed",
  "session.status",
  "session.approval_resolved",
]);

const about = { hostId: z.string(), at: z.string().describe("When the edge learned of it (ISO 8601)") };

const hostOnline = z.object({
  type: z.literal("host.online"),
  ...about,
  hostName: z.string(),
  agentVersion: z.string(),
  outdated: z.boolean().describe("The agent's version is older than the release this edge serves (Host.outdated)"),
  docker: dockerState,
});
const hostOffline = z.object({ type: z.literal("host.offline"), ...about, hostName: z.string(), reason: z.string() });
const hostDocker = z.object({ type: z.literal("host.docker"), ...about, docker: dockerState });
const container = z.object({ type: z.literal("container"), ...about, hostName: z.string(), event: containerEvent });
const session = z.object({
  type: z.literal("session"),
  ...about,
  event: sessionFeedEvent,
  sessionId: z.string(),
  detail: z.record(z.string(), z.unknown()).describe("The event's webhook payload"),
});

/** What a host's Durable Object hands the feed; the feed numbers it. */
const feedEvent = z.discriminatedUnion("type", [hostOnline, hostOffline, hostDocker, container, session]);
export type FeedEvent = z.infer<typeof feedEvent>;

const seq = { seq: z.number().int().min(1).describe("Per user, increasing by one per event") };

/** A numbered event as a viewer gets it. */
export const numberedFeedEvent = z.discriminatedUnion("type", [
  hostOnline.extend(seq),
  hostOffline.extend(seq),
  hostDocker.extend(seq),
  container.extend(seq),
  session.extend(seq),
]);
export type NumberedFeedEvent = z.infer<typeof numberedFeedEvent>;

/** A host's latest stats; a viewer gets each host's latest one on connecting, then each new one. */
export const hostStatsFrame = z.object({ type: z.literal("host.stats"), ...about, stats: hostStatsData });
export type HostStatsFrame = z.infer<typeof hostStatsFrame>;

/**
 * The first frame when the `since` asked for cannot be served: `expired` (events after it are
 * no longer kept) or `unknown` (it is ahead of this feed: not a seq it ever gave). Nothing is
 * replayed; reload your state by REST and go on from `seq`, the latest event's number.
 */
const feedResetFrame = z.object({
  type: z.literal("reset"),
  reason: z.enum(["expired", "unknown"]),
  seq: z.number().int().min(0),
  message: z.string(),
});

/** Sent once the replay is over (and after a reset): from here on events are live; `seq` is the latest. */
const feedLiveFrame = z.object({ type: z.literal("live"), seq: z.number().int().min(0) });

/** Sent before the feed closes a viewer (its credential was revoked, say). */
const feedErrorFrame = z.object({ type: z.literal("error"), code: z.string(), message: z.string() });

/** Every frame a viewer of the feed can get. */
export const userFeedFrame = z.union([
  numberedFeedEvent,
  hostStatsFrame,
  feedResetFrame,
  feedLiveFrame,
  feedErrorFrame,
]);
export type UserFeedFrame = z.infer<typeof userFeedFrame>;
