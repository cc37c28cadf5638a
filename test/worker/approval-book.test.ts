import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ApprovalBook } from "../../edge/host-relay/approval-book";
import type { ApprovalInfo } from "../../shared/schemas/agent-sessions";

const hostRelay = () => env.HOST_RELAY.get(env.HOST_RELAY.idFromName(`approval-book-${crypto.randomUUID()}`));
const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

/** An approval as the agent's message carries it: all four option kinds, with Claude's own ids. */
const asking = (expiresAt = inAnHour()): ApprovalInfo => ({
  id: crypto.randomUUID(),
  state: "pending",
  options: [
    { id: "allow-once", name: "Allow", kind: "allow_once" },
    { id: "allow-always", name: "Always allow", kind: "allow_always" },
    { id: "reject", name: "Reject", kind: "reject_once" },
    { id: "reject-always", name: "Never", kind: "reject_always" },
  ],
  expires_at: expiresAt,
});

describe("ApprovalBook: the first answer wins, and reaches the agent even if it was offline", () => {
  it("records a request once, however often its message is resent, and lists it as pending", async () => {
    await runInDurableObject(hostRelay(), (_instance, state) => {
      const book = new ApprovalBook(state.storage.sql);
      const session = crypto.randomUUID();
      const approval = asking();
      book.requested(session, approval, "call-1", 4);
      book.requested(session, approval, "call-1", 4);
      const other = asking();
      book.requested(crypto.randomUUID(), other, undefined, 2);
      expect(book.pending(session)).toEqual([
        {
          sessionId: session,
          approvalId: approval.id,
          toolCallId: "call-1",
          seq: 4,
          options: approval.options,
          expiresAt: approval.expires_at,
        },
      ]);
      expect(book.pending().map((pending) => pending.approvalId)).toHaveLength(2);
    });
  });

  it("accepts the first answer only; later ones are already resolved; unknown ones are not found", async () => {
    await runInDurableObject(hostRelay(), (_instance, state) => {
      const book = new ApprovalBook(state.storage.sql);
      const session = crypto.randomUUID();
      const approval = asking();
      book.requested(session, approval, "call-1", 1);
      expect(book.answer(session, approval.id, "allow_once")).toBe("accepted");
      expect(book.answer(session, approval.id, "reject_once")).toBe("already_resolved");
      expect(book.answer(session, approval.id, "cancelled")).toBe("already_resolved");
      expect(book.answer(session, crypto.randomUUID(), "allow_once")).toBe("not_found");
      // The right approval named under another session is not found either.
      expect(book.answer(crypto.randomUUID(), approval.id, "allow_once")).toBe("not_found");
      expect(book.pending(session)).toEqual([]);
      expect(book.undelivered()).toEqual([
        { sessionId: session, approvalId: approval.id, decision: "allow_once", kind: "allow_once" },
      ]);
    });
  });

  it("turns allow and reject into an offered kind, never allowing more than asked", async () => {
    await runInDurableObject(hostRelay(), (_instance, state) => {
      const book = new ApprovalBook(state.storage.sql);
      const session = crypto.randomUUID();
      const offered = (...kinds: ApprovalInfo["options"][number]["kind"][]): ApprovalInfo => ({
        ...asking(),
        options: kinds.map((kind) => ({ id: `id-${kind}`, name: kind, kind })),
      });
      const all = offered("allow_once", "allow_always", "reject_once", "reject_always");
      const onlyAlways = offered("allow_always", "reject_always");
      const other = offered("allow_once", "reject_once");
      for (const [seq, approval] of [all, onlyAlways, other].entries())
        book.requested(session, approval, null, seq + 1);
      expect(book.answer(session, all.id, "allow")).toBe("accepted");
      // "allow" never becomes allow_always; "reject" may become reject_always.
      expect(book.answer(session, onlyAlways.id, "allow")).toBe("no_such_option");
      expect(book.answer(session, onlyAlways.id, "reject")).toBe("accepted");
      expect(book.answer(session, other.id, "cancelled")).toBe("accepted");
      const kinds = Object.fromEntries(book.undelivered().map((answer) => [answer.approvalId, answer.kind]));
      expect(kinds).toEqual({ [all.id]: "allow_once", [onlyAlways.id]: "reject_always", [other.id]: "cancelled" });
    });
  });

  it("refuses a kind the approval does not offer, and any answer once it expired", async () => {
    await runInDurableObject(hostRelay(), (_instance, state) => {
      const book = new ApprovalBook(state.storage.sql);
      const session = crypto.randomUUID();
      const limited: ApprovalInfo = { ...asking(), options: [{ id: "ok", name: "OK", kind: "allow_once" }] };
      book.requested(session, limited, undefined, 1);
      expect(book.answer(session, limited.id, "reject_always")).toBe("no_such_option");
      expect(book.answer(session, limited.id, "cancelled")).toBe("accepted");

      const expiring = asking("2026-01-01T00:00:00Z");
      book.requested(session, expiring, undefined, 2);
      // Compared as times: "…00Z" and "…00.500Z" would sort the other way round as text.
      expect(book.pending(session, Date.parse("2025-12-31T23:59:59.500Z")).map((open) => open.approvalId)).toEqual([
        expiring.id,
      ]);
      expect(book.pending(session, Date.parse("2026-01-01T00:00:00.500Z"))).toEqual([]);
      expect(book.answer(session, expiring.id, "allow_once", Date.parse("2026-01-01T00:00:01Z"))).toBe(
        "already_resolved",
      );
      expect(book.answer(session, expiring.id, "allow_once", Date.parse("2025-12-31T23:59:59Z"))).toBe("accepted");
    });
  });

  it("keeps an answer given while the host is offline until the agent has it", async () => {
    const stub = hostRelay();
    const session = crypto.randomUUID();
    const [first, second] = [asking(), asking()];
    await runInDurableObject(stub, (_instance, state) => {
      const book = new ApprovalBook(state.storage.sql);
      book.requested(session, first, "call-1", 3);
      book.requested(session, second, "call-2", 5);
      expect(book.undelivered()).toEqual([]);
      book.answer(session, second.id, "reject");
      book.answer(session, first.id, "allow_always");
    });
    // A later wake of the object (the agent reconnected): both answers are still there to send.
    await runInDurableObject(stub, (_instance, state) => {
      const book = new ApprovalBook(state.storage.sql);
      expect(book.undelivered()).toHaveLength(2);
      expect(book.undelivered()).toEqual(
        expect.arrayContaining([
          { sessionId: session, approvalId: second.id, decision: "reject", kind: "reject_once" },
          { sessionId: session, approvalId: first.id, decision: "allow_always", kind: "allow_always" },
        ]),
      );
      book.delivered(second.id);
      expect(book.undelivered()).toEqual([
        { sessionId: session, approvalId: first.id, decision: "allow_always", kind: "allow_always" },
      ]);
      // The agent reports the resolution: nothing is left to send.
      book.settled(session, { ...first, state: "allowed", option_id: "allow-always", reason: "answered" });
      expect(book.undelivered()).toEqual([]);
      expect(book.answer(session, first.id, "reject_once")).toBe("already_resolved");
    });
  });

  it("ends as the agent reports when it expired or was withdrawn before a person's answer reached it", async () => {
    await runInDurableObject(hostRelay(), (_instance, state) => {
      const book = new ApprovalBook(state.storage.sql);
      const session = crypto.randomUUID();
      const approval = asking();
      book.requested(session, approval, "call-1", 1);
      expect(book.answer(session, approval.id, "allow_once")).toBe("accepted");
      book.settled(session, { ...approval, state: "rejected", option_id: "reject", reason: "expired" });
      // The undelivered "allow" is dropped: the agent already refused, so it must never arrive as an approval.
      expect(book.undelivered()).toEqual([]);
      expect(book.pending()).toEqual([]);
      expect(book.answer(session, approval.id, "allow_once")).toBe("already_resolved");

      const withdrawn = asking();
      book.requested(session, withdrawn, "call-2", 2);
      book.settled(session, { ...withdrawn, state: "cancelled", reason: "withdrawn" });
      expect(book.pending(session)).toEqual([]);
      expect(book.answer(session, withdrawn.id, "reject_once")).toBe("already_resolved");
    });
  });

  it("knows a resolution it never saw asked, ignores a pending one as settled, and forgets a session", async () => {
    await runInDurableObject(hostRelay(), (_instance, state) => {
      const book = new ApprovalBook(state.storage.sql);
      const session = crypto.randomUUID();
      const unseen = asking();
      book.settled(session, { ...unseen, state: "allowed", option_id: "allow-once", reason: "answered" });
      expect(book.answer(session, unseen.id, "reject_once")).toBe("already_resolved");

      const open = asking();
      book.settled(session, open);
      expect(book.answer(session, open.id, "allow_once")).toBe("not_found");
      book.requested(session, open, undefined, 9);
      book.forget(session);
      expect(book.pending()).toEqual([]);
      expect(book.answer(session, open.id, "allow_once")).toBe("not_found");
    });
  });
});
