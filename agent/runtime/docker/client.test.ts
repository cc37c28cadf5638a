import type Docker from "dockerode";
import { describe, expect, it } from "vitest";
import { KaiError } from "../../../shared/errors";
import { flexyContainer, flexyContainerDetails } from "../../../shared/schemas/flexy";
import { dockerError } from "./client";
import { toContainerStatus, toFlexyContainer, toFlexyContainerDetails } from "./flexy-containers";

/** Builds a dockerode-style error the way docker-modem does. */
function engineError(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message} `), {
    statusCode,
    reason: "unexpected",
    json: { message },
  });
}

function systemError(code: string, address = "/var/run/docker.sock"): Error {
  return Object.assign(new Error(`connect ${code} ${address}`), { code, errno: -2, syscall: "connect", address });
}

const labels = {
  "kai.managed": "true",
  "kai.host": "h1",
  "kai.hostPath": "/home/u/p",
  "kai.containerPath": "/workspace",
};

describe("toContainerStatus", () => {
  it.each([
    ["running", "running"],
    ["paused", "paused"],
    ["restarting", "restarting"],
    ["removing", "removing"],
    ["created", "created"],
    ["exited", "stopped"],
    ["dead", "stopped"],
    ["something-new", "stopped"],
  ])("%s -> %s", (state, status) => {
    expect(toContainerStatus(state)).toBe(status);
  });
});

describe("toFlexyContainer", () => {
  it("converts a list entry", () => {
    const info = {
      Id: "abc123",
      Names: ["/my-flexy"],
      Image: "flexy:latest",
      ImageID: "sha256:1",
      Command: "sleep",
      Created: 1_700_000_000,
      Ports: [],
      Labels: labels,
      State: "exited",
      Status: "Exited (0)",
      HostConfig: { NetworkMode: "bridge" },
      NetworkSettings: { Networks: {} },
      Mounts: [],
    } satisfies Docker.ContainerInfo;
    const converted = toFlexyContainer(info);
    expect(converted).toEqual({
      id: "abc123",
      name: "my-flexy",
      status: "stopped",
      image: "flexy:latest",
      createdAt: "2023-11-14T22:13:20.000Z",
      hostPath: "/home/u/p",
      containerPath: "/workspace",
    });
    expect(flexyContainer.parse(converted)).toEqual(converted);
    expect(toFlexyContainer({ ...info, Labels: {} })).toMatchObject({ hostPath: null, containerPath: null });
  });
});

describe("toFlexyContainerDetails", () => {
  function inspectInfo(running: boolean): Docker.ContainerInspectInfo {
    return {
      Id: "abc123",
      Name: "/my-flexy",
      Created: "2024-05-01T12:00:00.123456789Z",
      State: { Status: running ? "running" : "created", Running: running },
      Image: "sha256:deadbeef",
      Config: { Image: "flexy:latest", Labels: labels },
      HostConfig: { PortBindings: { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] } },
      NetworkSettings: {
        Ports: running
          ? {
              "8080/tcp": [
                { HostIp: "127.0.0.1", HostPort: "32768" },
                { HostIp: "::1", HostPort: "32768" },
              ],
              "9000/tcp": null,
            }
          : {},
      },
      Mounts: [
        { Type: "bind", Source: "/home/u/p", Destination: "/workspace", Mode: "", RW: true, Propagation: "rprivate" },
        {
          Type: "volume",
          Name: "v",
          Source: "/var/lib/docker/volumes/v/_data",
          Destination: "/data",
          Mode: "",
          RW: true,
          Propagation: "",
        },
      ],
    } as unknown as Docker.ContainerInspectInfo;
  }

  it("shows live ports of a running container, once per mapping", () => {
    const details = toFlexyContainerDetails(inspectInfo(true));
    expect(details).toEqual({
      id: "abc123",
      name: "my-flexy",
      status: "running",
      image: "flexy:latest",
      createdAt: "2024-05-01T12:00:00.000Z",
      hostPath: "/home/u/p",
      containerPath: "/workspace",
      ports: [{ hostPort: 32768, containerPort: 8080 }],
      volumes: [{ hostPath: "/home/u/p", containerPath: "/workspace", mode: "rw" }],
    });
    expect(flexyContainerDetails.parse(details)).toEqual(details);
  });

  it("shows requested ports (0 = picked at start) before the container runs", () => {
    expect(toFlexyContainerDetails(inspectInfo(false)).ports).toEqual([{ hostPort: 0, containerPort: 8080 }]);
  });
});

describe("dockerError", () => {
  it("maps 404 to CONTAINER_NOT_FOUND, with a chosen message", () => {
    expect(dockerError(engineError(404, "No such container: x"))).toMatchObject({
      code: "CONTAINER_NOT_FOUND",
      message: "No such container: x",
    });
    expect(
      dockerError(engineError(404, "No such container: x"), { notFoundMessage: "container x not found" }).message,
    ).toBe("container x not found");
  });

  it("maps 409 to CONFLICT keeping Docker's message", () => {
    const message = 'Conflict. The container name "/x" is already in use by container "123".';
    expect(dockerError(engineError(409, message))).toMatchObject({ code: "CONFLICT", message });
  });

  it.each(["ECONNREFUSED", "ENOENT", "EACCES"])("maps %s on the socket to an unreachable engine", (code) => {
    const error = dockerError(systemError(code));
    expect(error.code).toBe("DOCKER_ERROR");
    expect(error.message).toContain("unreachable");
    expect(error.message).toContain(code);
    expect(error.message).toMatch(/start the Docker engine|docker group/);
  });

  it("keeps Docker's message for anything else, without dockerode's prefix or a stack", () => {
    const error = dockerError(engineError(500, "driver failed programming external connectivity"));
    expect(error).toMatchObject({ code: "DOCKER_ERROR", message: "driver failed programming external connectivity" });
    expect(error.details).toBeUndefined();
    expect(dockerError(new Error("(HTTP code 400) bad parameter - invalid mount config ")).message).toBe(
      "invalid mount config",
    );
    expect(dockerError("weird").message).toBe("weird");
  });

  it("passes a KaiError through unchanged", () => {
    const original = new KaiError("PERMISSION_DENIED", "no");
    expect(dockerError(original)).toBe(original);
  });
});
