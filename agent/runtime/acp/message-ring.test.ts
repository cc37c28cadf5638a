import { describe, expect, it } from "vitest";
import type { AgentMessage } from "../../../shared/schemas/agent-sessions";
import { MessageRing } from "./message-ring";

const message = (seq: number): AgentMessage => ({ type: "text", content: `m${seq}`, seq });
const sized = (seq: number, chars = 10) => ({ message: message(seq), chars });

describe("MessageRing", () => {
  it("keeps the newest messages by count, and says which ones after lastSeq are gone", () => {
    const ring = new MessageRing(3, 1000);
    for (let seq = 1; seq <= 5; seq++) ring.push(sized(seq));
    const { messages, lost } = ring.since(0, 5);
    expect(messages.map((entry) => entry.message.seq)).toEqual([3, 4, 5]);
    expect(lost).toEqual({ from: 1, to: 2 });
    expect(ring.since(3, 5)).toEqual({ messages: [sized(4), sized(5)] });
  });

  it("bounds by the sizes it was given (measured once by the session), always keeping the newest", () => {
    const ring = new MessageRing(100, 25);
    ring.push(sized(1, 10));
    ring.push(sized(2, 10));
    ring.push(sized(3, 10));
    expect(ring.since(0, 3).messages.map((entry) => entry.message.seq)).toEqual([2, 3]);
    ring.push(sized(4, 500));
    expect(ring.since(0, 4)).toEqual({ messages: [sized(4, 500)], lost: { from: 1, to: 3 } });
  });
});
