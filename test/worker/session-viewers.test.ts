import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SessionLog } from "../../edge/host-relay/session-log";
import { SessionViewers } from "../../edge/host-relay/session-viewers";
import { CLOSE_CODES } from "../../shared/protocol";
import { type AgentMessage, agentMessage } from "../../shared/schemas/agent-sessions";

/**
 * Viewers of an agent session on a host's real Durable Object: each test accepts viewer
 * sockets through SessionViewers inside the object, as HostRelay will, and reads their client
 * ends as a browser would. The object plays the agent's side by appending then broadcasting,
 * which is what HostRelay does with each `agent.session` message event.
 */

const hostRelay = () => env.HOST_RELAY.get(env.HOST_RELAY.idFromName(`session-viewers-${crypto.randomUUID()}`));
const text = (seq: number): AgentMessage => ({ type: "text", content: `m${seq}`, seq, run_id: "run-1" });
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, n) => from + n);

interface Viewer {
  socket: WebSocket;
  /** Every frame, parsed with the contract's schema: a frame that is not an AgentMessage fails the test. */
  messages: AgentMessage[];
  closed: Promise<{ code: number; reason: string }>;
}

function watch(client: WebSocket): Viewer {
  client.accept();
  const messages: AgentMessage[] = [];
  client.addEventListener("message", (event) => {
    messages.push(agentMessage.strict().parse(JSON.parse(String(event.data))));
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    client.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason })),
  );
  return { socket: client, messages, closed };
}

/** What the object does with each message of a session: store it, then hand it to the live viewers. */
function publish(log: SessionLog, viewers: SessionViewers, sessionId: string, message: AgentMessage): void {
  if (log.append(sessionId, message) === "stored") viewers.broadcast(sessionId, message);
}

const seqsOf = (viewer: Viewer) => viewer.messages.map((message) => message.seq);

describe("SessionViewers: replay, then live, to every viewer of a session", () => {
  it("gives two viewers the same messages, and a late one the replay then the live ones, nothing twice", async () => {
    await runInDurableObject(hostRelay(), async (_instance, state) => {
      const log = new SessionLog(state.storage.sql);
      const viewers = new SessionViewers(state);
      const session = crypto.randomUUID();
      const first = watch(viewers.accept(session, 0, "pat:one", log));
      const second = watch(viewers.accept(session, 0, null, log));
      for (const seq of range(1, 5)) publish(log, viewers, session, text(seq));
      // A resend from the agent after a reconnect reaches nobody again.
      publish(log, viewers, session, text(4));

      // A phone that saw up to 2 comes back: 3..5 from the log, then live from 6 on.
      const late = watch(viewers.accept(session, 2, "session:login-1", log));
      for (const seq of range(6, 8)) publish(log, viewers, session, text(seq));

      await expect.poll(() => late.messages.length).toBe(6);
      await expect.poll(() => first.messages.length).toBe(8);
      await expect.poll(() => second.messages.length).toBe(8);
      expect(first.messages).toEqual(range(1, 8).map(text));
      expect(second.messages).toEqual(first.messages);
      expect(late.messages).toEqual(range(3, 8).map(text));
    });
  });

  it("tells a viewer whose since is older than the log first, numbered so that resuming from it is exact", async () => {
    await runInDurableObject(hostRelay(), async (_instance, state) => {
      const log = new SessionLog(state.storage.sql, { maxMessages: 4, maxBytes: 1024 * 1024 });
      const viewers = new SessionViewers(state);
      const session = crypto.randomUUID();
      for (const seq of range(1, 10)) publish(log, viewers, session, text(seq));

      const behind = watch(viewers.accept(session, 3, null, log));
      await expect.poll(() => behind.messages.length).toBe(5);
      const [notice, ...rest] = behind.messages;
      expect(notice).toEqual({ type: "error", seq: 6, error: expect.stringContaining("4 to 6") });
      expect(notice?.error).toContain("starts at 7");
      expect(rest).toEqual(range(7, 10).map(text));

      // A since that did not parse is 0: the notice, then everything kept.
      const unparsed = watch(viewers.accept(session, Number("later"), null, log));
      await expect.poll(() => seqsOf(unparsed)).toEqual([6, 7, 8, 9, 10]);
      expect(unparsed.messages[0]?.error).toContain("messages 1 to 6");

      // Resuming from the notice's seq gets the kept messages and no notice.
      const resumed = watch(viewers.accept(session, 6, null, log));
      publish(log, viewers, session, text(11));
      await expect.poll(() => resumed.messages.length).toBe(5);
      expect(seqsOf(resumed)).toEqual([7, 8, 9, 10, 11]);
    });
  });

  it("keeps sessions apart and knows which session a socket watches", async () => {
    await runInDurableObject(hostRelay(), async (_instance, state) => {
      const log = new SessionLog(state.storage.sql);
      const viewers = new SessionViewers(state);
      const [a, b] = [crypto.randomUUID(), crypto.randomUUID()];
      const ofA = watch(viewers.accept(a, 0, null, log));
      const ofB = watch(viewers.accept(b, 0, null, log));
      publish(log, viewers, a, text(1));
      publish(log, viewers, b, text(1));
      publish(log, viewers, b, text(2));
      await expect.poll(() => ofB.messages.length).toBe(2);
      expect(seqsOf(ofA)).toEqual([1]);

      const servers = state.getWebSockets();
      expect(servers.map((socket) => viewers.isSessionViewer(socket))).toEqual([true, true]);
      expect(servers.map((socket) => viewers.sessionOf(socket)).sort()).toEqual([a, b].sort());
      // After a hibernation the object starts with no memory: tags and attachments are enough.
      const woken = new SessionViewers(state);
      expect(servers.map((socket) => woken.sessionOf(socket)).sort()).toEqual([a, b].sort());
      woken.broadcast(a, text(2));
      await expect.poll(() => seqsOf(ofA)).toEqual([1, 2]);
    });
  });

  it("closes a viewer it cannot send to, and still reaches the others", async () => {
    await runInDurableObject(hostRelay(), async (_instance, state) => {
      const log = new SessionLog(state.storage.sql);
      const viewers = new SessionViewers(state);
      const session = crypto.randomUUID();
      const dead = watch(viewers.accept(session, 0, "pat:dead", log));
      const gone = watch(viewers.accept(session, 0, null, log));
      const alive = watch(viewers.accept(session, 0, null, log));
      publish(log, viewers, session, text(1));
      await expect.poll(() => dead.messages.length).toBe(1);

      // A socket closing on the object's side is still listed, and sending to it throws.
      for (const server of state.getWebSockets("pat:dead")) server.close(1001, "going away");
      log.append(session, text(2));
      expect(viewers.broadcast(session, text(2))).toBe(2);
      // A client that hung up.
      gone.socket.close(1000, "bye");
      await gone.closed;
      for (const seq of range(3, 4)) publish(log, viewers, session, text(seq));
      await expect.poll(() => alive.messages.length).toBe(4);
      expect(seqsOf(alive)).toEqual([1, 2, 3, 4]);
      expect(seqsOf(dead)).toEqual([1]);
    });
  });

  it("closes every viewer of a deleted session, and the ones a revoked credential opened", async () => {
    await runInDurableObject(hostRelay(), async (_instance, state) => {
      const log = new SessionLog(state.storage.sql);
      const viewers = new SessionViewers(state);
      const [a, b] = [crypto.randomUUID(), crypto.randomUUID()];
      const revoked = watch(viewers.accept(a, 0, "session:login-1", log));
      const kept = watch(viewers.accept(a, 0, "pat:token-1", log));
      const other = watch(viewers.accept(b, 0, null, log));

      expect(viewers.closeOpenedWith("session:login-1")).toBe(1);
      expect(await revoked.closed).toEqual({ code: CLOSE_CODES.CREDENTIAL_REVOKED, reason: expect.any(String) });
      expect(viewers.closeOpenedWith("session:login-2")).toBe(0);

      viewers.closeSession(a, 4404, "the session was deleted");
      expect(await kept.closed).toEqual({ code: 4404, reason: "the session was deleted" });
      publish(log, viewers, b, text(1));
      await expect.poll(() => other.messages.length).toBe(1);
      expect(revoked.messages).toEqual([]);
    });
  });
});
