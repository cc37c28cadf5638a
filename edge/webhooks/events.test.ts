import { describe, expect, it } from "vitest";
import type { ContainerEvent } from "../../shared/schemas/services";
import { KillMemory, webhookEventsFor } from "./events";

const event = (action: ContainerEvent["action"], extra: Partial<ContainerEvent> = {}): ContainerEvent => ({
  action,
  containerId: "abc",
  name: "web",
  image: "busybox",
  managed: true,
  exitCode: null,
  time: new Date().toISOString(),
  ...extra,
});

describe("webhook events from Docker events", () => {
  it("maps Kai containers' lifecycle to container.* and service:*", () => {
    expect(webhookEventsFor(event("create"), false)).toEqual(["container.created"]);
    expect(webhookEventsFor(event("start"), false)).toEqual(["container.started", "service:start"]);
    expect(webhookEventsFor(event("stop"), false)).toEqual(["container.stopped", "service:stop"]);
    expect(webhookEventsFor(event("restart"), false)).toEqual(["container.restarted"]);
    expect(webhookEventsFor(event("destroy"), false)).toEqual(["container.deleted"]);
    expect(webhookEventsFor(event("pause"), false)).toEqual([]);
  });

  it("keeps container.* for Kai's containers and service:* for all", () => {
    expect(webhookEventsFor(event("start", { managed: false }), false)).toEqual(["service:start"]);
    expect(webhookEventsFor(event("create", { managed: false }), false)).toEqual([]);
  });

  it("reports a crash as service:error, but not a death somebody asked for", () => {
    expect(webhookEventsFor(event("die", { exitCode: 1 }), false)).toEqual(["container.died", "service:error"]);
    expect(webhookEventsFor(event("die", { exitCode: 137 }), true)).toEqual(["container.died"]);
    expect(webhookEventsFor(event("die", { exitCode: 0 }), false)).toEqual(["container.died"]);
    expect(webhookEventsFor(event("oom", { managed: false }), false)).toEqual(["service:error"]);
  });

  it("remembers kills for a while", () => {
    const memory = new KillMemory();
    expect(memory.note(event("kill"), 1000)).toBe(true);
    expect(memory.note(event("die"), 2000)).toBe(true);
    expect(memory.note(event("die"), 40_000)).toBe(false);
  });
});
