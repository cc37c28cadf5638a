import type Docker from "dockerode";
import { describe, expect, it } from "vitest";
import { service, serviceDetails } from "../../../shared/schemas/services";
import { imageTag, ports, serviceVersion, toService, toServiceDetails, toServiceStatus } from "./services";

describe("toServiceStatus", () => {
  it.each([
    ["running", "running"],
    ["exited", "stopped"],
    ["dead", "dead"],
    ["paused", "paused"],
    ["restarting", "restarting"],
    ["created", "created"],
    ["removing", "removing"],
    ["something-new", "stopped"],
  ])("%s -> %s", (state, status) => {
    expect(toServiceStatus(state)).toBe(status);
  });
});

describe("imageTag and serviceVersion", () => {
  it.each([
    ["web:1.2.3", "1.2.3"],
    ["registry.example.com:5000/team/web:2.0", "2.0"],
    ["registry.example.com:5000/team/web", undefined],
    ["web", undefined],
    ["web:1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "1.0"],
    ["sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", undefined],
    ["0123456789ab", undefined],
  ])("the tag of %s is %s", (reference, tag) => {
    expect(imageTag(reference)).toBe(tag);
  });

  it("prefers the OCI version label, then the tag, and has none for latest or no tag", () => {
    expect(serviceVersion({ "org.opencontainers.image.version": "1.0.1" }, "web:latest")).toBe("1.0.1");
    expect(serviceVersion({}, "web:1.0.0")).toBe("1.0.0");
    expect(serviceVersion(null, "web:latest")).toBeNull();
    expect(serviceVersion({ "org.opencontainers.image.version": "  " }, "web")).toBeNull();
  });
});

/** `docker inspect` of a running container with a health check, a bind, a volume and two ports. */
function inspected(overrides: { running?: boolean } = {}): Docker.ContainerInspectInfo {
  const running = overrides.running ?? true;
  const info = {
    Id: "2c2604f6100e423698abeb72256e51c9888cfe5ad5566d81d81f75a842137d53",
    Created: "2025-05-01T10:00:00.123456789Z",
    Name: "/web",
    RestartCount: 2,
    Image: "sha256:aaaa",
    State: {
      Status: running ? "running" : "exited",
      Running: running,
      StartedAt: "2025-05-05T09:00:00.5Z",
      Health: { Status: "healthy", FailingStreak: 0, Log: [] },
    },
    Config: {
      Image: "web:1.0.0",
      Env: ["NODE_ENV=production", "PORT=8000"],
      Labels: { "org.opencontainers.image.description": "Description of the service" },
      ExposedPorts: { "8000/tcp": {}, "9000/tcp": {} },
    },
    HostConfig: { PortBindings: { "8000/tcp": [{ HostIp: "", HostPort: "8000" }] } },
    NetworkSettings: {
      Ports: running
        ? {
            "8000/tcp": [
              { HostIp: "0.0.0.0", HostPort: "8000" },
              { HostIp: "::", HostPort: "8000" },
            ],
            "9000/tcp": null,
          }
        : {},
    },
    Mounts: [
      { Type: "bind", Source: "/data", Destination: "/app/data", RW: true },
      { Type: "volume", Name: "cache", Source: "/var/lib/docker/volumes/cache/_data", Destination: "/cache", RW: true },
      { Type: "tmpfs", Source: "", Destination: "/tmp", RW: true },
    ],
  };
  // Only the fields the conversion reads; the rest of the inspect shape does not matter here.
  return info as unknown as Docker.ContainerInspectInfo;
}

describe("toService", () => {
  const sample = {
    cpu: 12.5,
    memory: 35.2,
    memoryUsage: 1,
    memoryLimit: 2,
    read: "2025-05-05T10:00:00Z",
    complete: true,
  };
  const now = Date.parse("2025-05-05T10:00:00Z");

  it("shows a running container as the dashboard API does", () => {
    expect(service.parse(toService(inspected(), sample, now))).toEqual({
      id: "web",
      name: "web",
      containerId: "2c2604f6100e",
      status: "running",
      health: "healthy",
      version: "1.0.0",
      description: "Description of the service",
      url: "http://localhost:8000",
      port: 8000,
      stats: { cpu: 12.5, memory: 35.2, uptime: 3599, restartCount: 2 },
    });
  });

  it("has zero stats, the requested port and no health check when stopped without one", () => {
    const info = inspected({ running: false });
    Reflect.deleteProperty(info.State, "Health");
    expect(toService(info, undefined, now)).toMatchObject({
      status: "stopped",
      health: "none",
      port: 8000,
      stats: { cpu: 0, memory: 0, uptime: 0 },
    });
  });

  it("adds details: image, created, ports, volumes and env", () => {
    expect(serviceDetails.parse(toServiceDetails(inspected(), sample, now)).details).toEqual({
      image: "web:1.0.0",
      created: "2025-05-01T10:00:00.123Z",
      ports: [
        { internal: 8000, external: 8000 },
        { internal: 9000, external: null },
      ],
      volumes: [
        { source: "/data", destination: "/app/data" },
        { source: "cache", destination: "/cache" },
        { source: "tmpfs", destination: "/tmp" },
      ],
      env: ["NODE_ENV=production", "PORT=8000"],
    });
  });

  it("lists a random port as unpublished until the container runs", () => {
    const info = inspected({ running: false });
    info.HostConfig.PortBindings = { "8000/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] };
    expect(ports(info)).toEqual([
      { internal: 8000, external: null },
      { internal: 9000, external: null },
    ]);
    expect(toService(info, undefined, now)).toMatchObject({ port: null, url: null });
  });
});
