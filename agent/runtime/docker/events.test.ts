import { describe, expect, it } from "vitest";
import { containerEvent } from "../../../shared/schemas/services";
import { dockerEvent, fromDockerEvent } from "./events";

const HOST = "host-1";
const ID = "2c2604f6100e423698abeb72256e51c9888cfe5ad5566d81d81f75a842137d53";

/** A `GET /events` line from Docker 20.10, as the engine sends it. */
function raw(action: string, attributes: Record<string, string> = {}) {
  return {
    status: action,
    id: ID,
    from: "web:1.0",
    Type: "container",
    Action: action,
    Actor: { ID, Attributes: { image: "web:1.0", name: "web", ...attributes } },
    scope: "local",
    time: 1_746_439_200,
    // biome-ignore lint/correctness/noPrecisionLoss: Docker sends this as a JSON number, which loses the same digits.
    timeNano: 1_746_439_200_123_456_789,
  };
}

const convert = (line: unknown, host = HOST) => fromDockerEvent(dockerEvent.parse(line), host);

describe("fromDockerEvent", () => {
  it.each(["create", "start", "stop", "restart", "destroy", "kill", "pause", "unpause", "oom"])(
    "keeps %s",
    (action) => {
      const event = convert(raw(action));
      expect(containerEvent.parse(event)).toEqual({
        action,
        containerId: ID,
        name: "web",
        image: "web:1.0",
        managed: false,
        exitCode: null,
        time: "2025-05-05T10:00:00.123Z",
      });
    },
  );

  it("reads the exit code of die", () => {
    expect(convert(raw("die", { exitCode: "137" }))).toMatchObject({ action: "die", exitCode: 137 });
    expect(convert(raw("die", { exitCode: "0" }))).toMatchObject({ action: "die", exitCode: 0 });
    expect(convert(raw("die"))).toMatchObject({ action: "die", exitCode: null });
    // Only die carries one: a kill's signal is not an exit code.
    expect(convert(raw("kill", { signal: "9", exitCode: "1" }))).toMatchObject({ action: "kill", exitCode: null });
  });

  it("maps `health_status: healthy` and `health_status: unhealthy` to health_status", () => {
    expect(convert(raw("health_status: healthy"))).toMatchObject({ action: "health_status" });
    expect(convert(raw("health_status: unhealthy"))).toMatchObject({ action: "health_status" });
  });

  it.each([
    "exec_create: sh -c true",
    "exec_start: sh -c true",
    "exec_die",
    "attach",
    "rename",
    "resize",
    "top",
    "commit",
    "archive-path",
    "update",
  ])("drops %s", (action) => {
    expect(convert(raw(action))).toBeNull();
  });

  it("drops events of other types", () => {
    expect(convert({ ...raw("create"), Type: "network" })).toBeNull();
  });

  it("is managed only with kai.managed=true for this host", () => {
    expect(convert(raw("start", { "kai.managed": "true", "kai.host": HOST }))?.managed).toBe(true);
    expect(convert(raw("start", { "kai.managed": "true", "kai.host": "another-host" }))?.managed).toBe(false);
    expect(convert(raw("start", { "kai.host": HOST }))?.managed).toBe(false);
    expect(convert(raw("start", { "kai.managed": "false", "kai.host": HOST }))?.managed).toBe(false);
  });

  it("uses `time` when an engine sends no timeNano", () => {
    const { timeNano: _dropped, ...old } = raw("start");
    expect(convert(old)?.time).toBe("2025-05-05T10:00:00.000Z");
  });
});
