import { describe, expect, it } from "vitest";
import { extraNetworks, type ImageDefaults, type InspectedContainer, recreateOptions } from "./container-spec";

const ID = "2c2604f6100e423698abeb72256e51c9888cfe5ad5566d81d81f75a842137d53";

const oldImage: ImageDefaults = {
  Env: ["PATH=/usr/bin:/bin", "APP_VERSION=1.0"],
  Cmd: ["/bin/server"],
  WorkingDir: "/app",
  Labels: { "org.opencontainers.image.version": "1.0", maintainer: "team" },
  ExposedPorts: { "8000/tcp": {} },
  Volumes: { "/var/cache/app": {} },
};

/** `docker inspect` of `docker run -d --name web -e MODE=prod -l tier=front -p 8000:8000 -v /srv/data:/data --restart always --network appnet web:1.0`. */
function container(overrides: Partial<InspectedContainer["Config"]> = {}): InspectedContainer {
  return {
    Id: ID,
    Name: "/web",
    Config: {
      Hostname: ID.slice(0, 12),
      Domainname: "",
      User: "",
      Env: ["MODE=prod", "PATH=/usr/bin:/bin", "APP_VERSION=1.0"],
      Cmd: ["/bin/server"],
      Entrypoint: null,
      WorkingDir: "/app",
      Labels: { "org.opencontainers.image.version": "1.0", maintainer: "team", tier: "front" },
      ExposedPorts: { "8000/tcp": {} },
      Volumes: { "/var/cache/app": {} },
      Tty: false,
      OpenStdin: false,
      StdinOnce: false,
      ...overrides,
    },
    HostConfig: {
      Binds: ["/srv/data:/data"],
      NetworkMode: "appnet",
      PortBindings: { "8000/tcp": [{ HostIp: "", HostPort: "8000" }] },
      RestartPolicy: { Name: "always", MaximumRetryCount: 0 },
    },
    Mounts: [
      { Type: "bind", Source: "/srv/data", Destination: "/data", RW: true },
      {
        Type: "volume",
        Name: "f00dcafe",
        Source: "/var/lib/docker/volumes/f00dcafe/_data",
        Destination: "/var/cache/app",
        RW: true,
      },
    ],
    NetworkSettings: {
      Networks: {
        appnet: { Aliases: [ID.slice(0, 12), "web-alias"], IPAMConfig: null },
        backend: { Aliases: [ID.slice(0, 12)], IPAMConfig: { IPv4Address: "10.9.0.5" } },
      },
    },
  };
}

describe("recreateOptions", () => {
  it("carries the user's settings and leaves the image's defaults to the new image", () => {
    const options = recreateOptions(container(), oldImage, "web:1.0");
    expect(options).toMatchObject({
      name: "web",
      Image: "web:1.0",
      Env: ["MODE=prod"],
      Labels: { tier: "front" },
      ExposedPorts: { "8000/tcp": {} },
      HostConfig: {
        Binds: ["/srv/data:/data"],
        NetworkMode: "appnet",
        PortBindings: { "8000/tcp": [{ HostIp: "", HostPort: "8000" }] },
        RestartPolicy: { Name: "always", MaximumRetryCount: 0 },
      },
      NetworkingConfig: { EndpointsConfig: { appnet: { Aliases: ["web-alias"] } } },
    });
    // The new image's command, working dir, version label and volumes apply.
    for (const key of ["Cmd", "Entrypoint", "WorkingDir", "User", "Hostname", "Healthcheck", "Volumes"] as const)
      expect(options[key], key).toBeUndefined();
  });

  it("keeps the anonymous volume's data by mounting it again by name", () => {
    expect(recreateOptions(container(), oldImage, "web:1.0").HostConfig?.Mounts).toEqual([
      { Type: "volume", Source: "f00dcafe", Target: "/var/cache/app", ReadOnly: false },
    ]);
  });

  it("carries a command, working dir, user and hostname the user chose", () => {
    const options = recreateOptions(
      container({ Cmd: ["/bin/server", "--debug"], WorkingDir: "/srv", User: "1000", Hostname: "web-1" }),
      oldImage,
      "web:1.0",
    );
    expect(options).toMatchObject({
      Cmd: ["/bin/server", "--debug"],
      WorkingDir: "/srv",
      User: "1000",
      Hostname: "web-1",
    });
  });

  it("carries everything when the old image is gone", () => {
    const options = recreateOptions(container(), undefined, "web:1.0");
    expect(options.Cmd).toEqual(["/bin/server"]);
    expect(options.Env).toEqual(["MODE=prod", "PATH=/usr/bin:/bin", "APP_VERSION=1.0"]);
  });

  it("gives no endpoint config on the default bridge", () => {
    const info = container();
    info.HostConfig.NetworkMode = "default";
    expect(recreateOptions(info, oldImage, "web:1.0").NetworkingConfig).toBeUndefined();
  });
});

describe("extraNetworks", () => {
  it("lists the networks beyond the primary one, with fixed addresses and without the old id alias", () => {
    expect(extraNetworks(container())).toEqual([["backend", { IPAMConfig: { IPv4Address: "10.9.0.5" } }]]);
  });
});
