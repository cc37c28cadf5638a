import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SessionLog } from "../../edge/host-relay/session-log";
import type { AgentMessage } from "../../shared/schemas/agent-sessions";

/** A host's real Durable Object, fresh per test: the log lives in its own SQLite. */
const hostRelay = () => env.HOST_RELAY.get(env.HOST_RELAY.idFromName(`session-log-${crypto.randomUUID()}`));
const text = (seq: number, content = `m${seq}`): AgentMessage => ({ type: "text", content, seq });
const seqs = (messages: AgentMessage[]) => messages.map((message) => message.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, n) => from + n);

describe("SessionLog: an agent session's messages in the host object's SQLite", () => {
  it("stores messages in order, ignores resends, and replays what comes after a seq", async () => {
    await runInDurableObject(hostRelay(), (_instance, state) => {
      const log = new SessionLog(state.storage.sql);
      const session = crypto.randomUUID();
      expect(log.lastSeq(session)).toBe(0);
      for (const seq of range(1, 5)) expect(log.append(session, text(seq))).toBe("stored");
      // A resend after a reconnect: the same seq, or an older one, never stored twice.
      expect(log.append(session, text(5, "again"))).toBe("duplicate");
      expect(log.append(session, text(2, "again"))).toBe("duplicate");
      expect(log.lastSeq(session)).toBe(5);

      expect(log.replay(session, 0)).toEqual({ messages: range(1, 5).map((seq) => text(seq)) });
      expect(log.replay(session, 3)).toEqual({ messages: [text(4), text(5)] });
      expect(log.replay(session, 5)).toEqual({ messages: [] });
    });
  });

  it("keeps every field of a message as it was given, the additive ones included", async () => {
    const asking: AgentMessage = {
      type: "tool_use",
      seq: 1,
      tool: "Bash",
      content: "Run tests ✓ — ünïcode",
      input: { command: "npm test", nested: { n: 1 } },
      run_id: "run-1",
      tool_call_id: "call-1",
      approval: {
        id: crypto.randomUUID(),
        state: "pending",
        options: [{ id: "allow", name: "Allow", kind: "allow_once" }],
        expires_at: "2026-12-01T05:00:00.000Z",
      },
      truncated: true,
    };
    await runInDurableObject(hostRelay(), (_instance, state) => {
      const log = new SessionLog(state.storage.sql);
      const session = crypto.randomUUID();
      log.append(session, asking);
      expect(log.replay(session, 0).messages).toEqual([asking]);
    });
  });

  it("keeps sessions apart, lists each with its newest seq, and forgets one entirely", async () => {
    await runInDurableObject(hostRelay(), (_instance, state) => {
      const log = new SessionLog(state.storage.sql);
      const [a, b] = [crypto.randomUUID(), crypto.randomUUID()].sort();
      if (!a || !b) throw new Error("two ids");
      for (const seq of range(1, 3)) log.append(a, text(seq));
      for (const seq of range(1, 7)) log.append(b, text(seq));
      expect(log.sessions()).toEqual([
        { sessionId: a, lastSeq: 3 },
        { sessionId: b, lastSeq: 7 },
      ]);
      expect(seqs(log.replay(a, 0).messages)).toEqual([1, 2, 3]);

      log.forget(a);
      expect(log.sessions()).toEqual([{ sessionId: b, lastSeq: 7 }]);
      expect(log.replay(a, 0)).toEqual({ messages: [] });
      expect(log.lastSeq(a)).toBe(0);
      // A deleted session's numbering is gone too: its ids are never reused, but nothing here is stuck.
      expect(log.append(a, text(1))).toBe("stored");
    });
  });

  it("drops the oldest messages beyond the count cap, and says what a late viewer missed", async () => {
    await runInDurableObject(hostRelay(), (_instance, state) => {
      const log = new SessionLog(state.storage.sql, { maxMessages: 5, maxBytes: 1024 * 1024 });
      const session = crypto.randomUUID();
      for (const seq of range(1, 12)) log.append(session, text(seq));
      expect(seqs(log.replay(session, 0).messages)).toEqual(range(8, 12));
      expect(log.replay(session, 0).expired).toEqual({ oldest: 8 });
      expect(log.replay(session, 6).expired).toEqual({ oldest: 8 });
      // since = 7: the viewer saw everything up to 7, and 8 is the oldest kept: nothing missed.
      expect(log.replay(session, 7)).toEqual({ messages: range(8, 12).map((seq) => text(seq)) });
      expect(log.replay(session, 10)).toEqual({ messages: [text(11), text(12)] });
      // Trimmed, yet resends are still recognised.
      expect(log.append(session, text(3))).toBe("duplicate");
      expect(log.lastSeq(session)).toBe(12);
    });
  });

  it("drops the oldest messages beyond the byte cap, and always keeps the newest", async () => {
    await runInDurableObject(hostRelay(), (_instance, state) => {
      const size = (message: AgentMessage) => new TextEncoder().encode(JSON.stringify(message)).length;
      const big = (seq: number) => text(seq, "é".repeat(500)); // 1,000 bytes of content
      const log = new SessionLog(state.storage.sql, { maxMessages: 1_000, maxBytes: size(big(10)) * 3 });
      const session = crypto.randomUUID();
      for (const seq of range(1, 10)) log.append(session, big(seq));
      expect(seqs(log.replay(session, 0).messages)).toEqual([8, 9, 10]);

      // Small messages fit where one big one was, oldest dropped first.
      for (const seq of range(11, 14)) log.append(session, text(seq));
      expect(seqs(log.replay(session, 0).messages)).toEqual([9, 10, 11, 12, 13, 14]);

      // A message larger than the whole cap pushes everything else out, but stays itself.
      const huge = text(15, "x".repeat(size(big(10)) * 4));
      log.append(session, huge);
      expect(log.replay(session, 0)).toEqual({ messages: [huge], expired: { oldest: 15 } });
      log.append(session, text(16));
      expect(seqs(log.replay(session, 0).messages)).toEqual([16]);
    });
  });

  it("prunes an ended session's messages but keeps its numbering, and says so to a viewer from before", async () => {
    await runInDurableObject(hostRelay(), (_instance, state) => {
      const log = new SessionLog(state.storage.sql);
      const [ended, live] = [crypto.randomUUID(), crypto.randomUUID()].sort();
      for (const seq of range(1, 4)) log.append(ended as string, text(seq));
      log.append(live as string, text(1));
      expect(log.held()).toEqual([ended, live]);

      log.prune(ended as string);
      expect(log.held()).toEqual([live]);
      expect(log.lastSeq(ended as string)).toBe(4);
      // A resend is still refused: the numbering survives the pruning.
      expect(log.append(ended as string, text(4, "again"))).toBe("duplicate");
      expect(log.replay(ended as string, 0)).toEqual({ messages: [], expired: { oldest: 5, pruned: true } });
      expect(log.replay(ended as string, 2)).toEqual({ messages: [], expired: { oldest: 5, pruned: true } });
      // A viewer that saw everything misses nothing.
      expect(log.replay(ended as string, 4)).toEqual({ messages: [] });
      expect(log.replay(live as string, 0)).toEqual({ messages: [text(1)] });
    });
  });

  it("is read back by a new SessionLog over the same storage, as after an eviction or a deploy", async () => {
    const stub = hostRelay();
    const session = crypto.randomUUID();
    await runInDurableObject(stub, (_instance, state) => {
      const log = new SessionLog(state.storage.sql, { maxMessages: 3, maxBytes: 1024 * 1024 });
      for (const seq of range(1, 4)) log.append(session, text(seq));
    });
    await runInDurableObject(stub, (_instance, state) => {
      const again = new SessionLog(state.storage.sql, { maxMessages: 3, maxBytes: 1024 * 1024 });
      expect(again.lastSeq(session)).toBe(4);
      expect(again.append(session, text(4))).toBe("duplicate");
      again.append(session, text(5));
      expect(seqs(again.replay(session, 0).messages)).toEqual([3, 4, 5]);
    });
  });
});
