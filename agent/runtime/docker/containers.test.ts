import type Docker from "dockerode";
import { describe, expect, it } from "vitest";
import { ANY_CONTAINER, engineStatus, inScope, kaiContainersOf, LABELS, statusOf } from "./containers";

describe("container scope", () => {
  const ours = { [LABELS.managed]: "true", [LABELS.host]: "h1" };

  it("Kai's scope holds only containers Kai manages on this host", () => {
    expect(inScope(ours, kaiContainersOf("h1"))).toBe(true);
    expect(inScope(ours, kaiContainersOf("h2"))).toBe(false);
    expect(inScope({ [LABELS.host]: "h1" }, kaiContainersOf("h1"))).toBe(false);
    expect(inScope({ ...ours, [LABELS.managed]: "false" }, kaiContainersOf("h1"))).toBe(false);
    expect(inScope(null, kaiContainersOf("h1"))).toBe(false);
  });

  it("the any scope holds every container, labelled or not", () => {
    expect(inScope(null, ANY_CONTAINER)).toBe(true);
    expect(inScope(ours, ANY_CONTAINER)).toBe(true);
  });
});

describe("statusOf", () => {
  it.each([
    ["running", "running"],
    ["paused", "paused"],
    ["restarting", "restarting"],
    ["created", "created"],
    ["removing", "removing"],
    ["dead", "dead"],
    ["exited", "stopped"],
    ["something-new", "stopped"],
  ])("%s -> %s", (state, status) => {
    expect(engineStatus(state)).toBe(status);
  });

  it("reads a listed container's State and an inspected one's State.Status alike", () => {
    expect(statusOf({ State: "exited" } as Pick<Docker.ContainerInfo, "State">)).toBe("stopped");
    expect(statusOf({ State: { Status: "paused" } } as Pick<Docker.ContainerInspectInfo, "State">)).toBe("paused");
  });
});
