import { computed, signal } from "@preact/signals";
import type { HostStatsFrame, UserFeedFrame } from "../../../shared/schemas/user-events";
import { LiveSocket, type LiveStatus } from "../api/live-socket";

/** What the feed has said about one host since the page loaded; absent fields: nothing yet. */
export interface HostLive {
  online?: boolean;
  hostName?: string;
  agentVersion?: string;
  /** Its agent is older than the release the edge serves (as the edge judged at hello). */
  outdated?: boolean;
  dockerOk?: boolean;
  dockerVersion?: string | null;
  /** When the feed last heard of the host (its offline event is its "last seen"). */
  at?: string;
  stats?: HostStatsFrame["stats"];
  statsAt?: string;
}

/** An approval the feed saw asked for (`pending`) or settled since the page loaded. */
export interface ApprovalChange {
  hostId: string;
  pending: boolean;
}

const socket = signal<LiveSocket | undefined>(undefined);
/** The feed's connection, for the header's indicator: `closed` when not started (signed out). */
export const feedStatus = computed<LiveStatus>(() => socket.value?.status.value ?? "closed");
/** Per host id, the latest the feed said. */
export const hostsLive = signal<ReadonlyMap<string, HostLive>>(new Map());
/** Per approval id, asked or settled since the page loaded; a page adds these to what REST said. */
export const approvalChanges = signal<ReadonlyMap<string, ApprovalChange>>(new Map());
/**
 * Counts the feed's `reset`s: it could not replay what was missed (the cursor is too old), so
 * what a page loaded by REST may be stale. Pages watch it and load again.
 */
export const feedResets = signal(0);

/** The last event seq seen: a reconnect asks for what came after it, so nothing is missed. */
let lastSeq: number | undefined;
const listeners = new Set<(frame: UserFeedFrame) => void>();

/** Opens the signed-in user's event feed once (later calls do nothing); it reconnects by itself. */
export function startLiveFeed(): void {
  if (socket.value) return;
  socket.value = new LiveSocket({
    url: () => `/api/v1/ws/events${lastSeq === undefined ? "" : `?since=${lastSeq}`}`,
    onFrame: receive,
  });
}

/** Closes the feed and forgets what it said (on sign-out). */
export function stopLiveFeed(): void {
  socket.value?.close();
  socket.value = undefined;
  lastSeq = undefined;
  hostsLive.value = new Map();
  approvalChanges.value = new Map();
}

/**
 * Calls `listener` with every frame from now on (for other pages: containers, sessions);
 * returns the unsubscribe.
 */
export function subscribeLiveFeed(listener: (frame: UserFeedFrame) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const FRAME_TYPES = new Set(["host.online", "host.offline", "host.docker", "container", "session", "host.stats"]);
const CONTROL_TYPES = new Set(["reset", "live", "error"]);

/**
 * The frame in `text`, or undefined for one this page does not know. web/ may import only types
 * from shared/ (its zod schemas stay out of the bundle), so this checks the envelope by hand; the
 * feed's own tests check the shapes against shared/schemas/user-events.ts.
 */
function parseFrame(text: string): UserFeedFrame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || !("type" in value) || typeof value.type !== "string") return;
  if (CONTROL_TYPES.has(value.type)) return value as UserFeedFrame;
  if (!FRAME_TYPES.has(value.type) || !("hostId" in value) || typeof value.hostId !== "string") return;
  return value as UserFeedFrame;
}

function receive(text: string): void {
  const frame = parseFrame(text);
  if (!frame) return;
  if (frame.type === "reset") {
    lastSeq = frame.seq;
    feedResets.value += 1;
  } else if (frame.type === "live") {
    lastSeq = frame.seq;
  } else if (frame.type !== "error") {
    if ("seq" in frame) lastSeq = frame.seq;
    apply(frame);
  }
  for (const listener of listeners) listener(frame);
}

type HostFrame = Exclude<UserFeedFrame, { type: "reset" | "live" | "error" }>;

/** Folds one host frame into `hostsLive` / `approvalChanges`. */
function apply(frame: HostFrame): void {
  const before = hostsLive.value.get(frame.hostId) ?? {};
  let after: HostLive = before;
  switch (frame.type) {
    case "host.online":
      after = {
        ...before,
        online: true,
        hostName: frame.hostName,
        agentVersion: frame.agentVersion,
        outdated: frame.outdated,
        dockerOk: frame.docker.ok,
        dockerVersion: frame.docker.version,
        at: frame.at,
      };
      break;
    case "host.offline":
      after = { ...before, online: false, hostName: frame.hostName, at: frame.at };
      break;
    case "host.docker":
      after = { ...before, dockerOk: frame.docker.ok, dockerVersion: frame.docker.version, at: frame.at };
      break;
    case "host.stats":
      after = { ...before, stats: frame.stats, statsAt: frame.at };
      break;
    case "session":
      noteApproval(frame);
      return;
    case "container":
      return;
  }
  hostsLive.value = new Map(hostsLive.value).set(frame.hostId, after);
}

function noteApproval(frame: Extract<HostFrame, { type: "session" }>): void {
  const approvalId = frame.detail.approvalId;
  if (typeof approvalId !== "string") return;
  if (frame.event !== "session.approval_requested" && frame.event !== "session.approval_resolved") return;
  const change = { hostId: frame.hostId, pending: frame.event === "session.approval_requested" };
  approvalChanges.value = new Map(approvalChanges.value).set(approvalId, change);
}
