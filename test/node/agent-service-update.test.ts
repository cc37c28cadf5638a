import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type Docker from "dockerode";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { engineInspect, kaiError, type ServiceWorld, serviceWorld, TEST_LABEL } from "../support/service-world";
import { setupOrFail } from "../support/setup-or-fail";

/**
 * `service.update` against the real engine. No registry can be reached here, so a newer
 * image is made locally and the container's tag is moved onto it, which is what a pull
 * that found a newer image would have done.
 */

let world: ServiceWorld;
let tmp: string;

const setup = setupOrFail(async () => {
  tmp = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "kai-update-")));
  world = await serviceWorld("upd");
});
afterEach(async () => {
  if (setup.ready) await world.cleanup();
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** A service on `<repository>:<tag>` (first the busybox image) with every setting update must keep. */
async function service(tag: string): Promise<{ info: Docker.ContainerInspectInfo; reference: string }> {
  const reference = `${world.repository}:${tag}`;
  await world.docker.getImage(world.image).tag({ repo: world.repository, tag });
  const info = await world.container({
    name: world.name("svc"),
    Image: reference,
    Env: ["MODE=prod", "GREETING=hello there"],
    Labels: { tier: "front", "kai.project": "demo" },
    ExposedPorts: { "8080/tcp": {} },
    // An anonymous volume (`-v /cache`): its data must survive the update.
    Volumes: { "/cache": {} },
    HostConfig: {
      Binds: [`${tmp}:/data`],
      PortBindings: { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] },
      RestartPolicy: { Name: "unless-stopped", MaximumRetryCount: 0 },
    },
  });
  return { info, reference };
}

/** Containers of this run whose name starts with `name`, e.g. a parked old one. */
async function containersNamed(name: string): Promise<string[]> {
  const found = await world.docker.listContainers({ all: true, filters: { label: [`${TEST_LABEL}=${world.run}`] } });
  return found.flatMap((info) => info.Names.map((each) => each.slice(1))).filter((each) => each.startsWith(name));
}

describe("service.update", () => {
  it("answers NETWORK_ERROR and changes nothing when the registry cannot be reached and the tag is current", async () => {
    const { info, reference } = await service("1.0");
    const error = await kaiError(world.call("service.update", { id: info.Name.slice(1), timeoutSeconds: 1 }));
    expect(error.code).toBe("NETWORK_ERROR");
    expect(error.message).toBe(`docker.io cannot be reached to pull ${reference}; nothing was changed`);
    const after = await engineInspect(world.docker, info.Name.slice(1));
    expect(after?.Id).toBe(info.Id);
    expect(after?.State.Running).toBe(true);
    expect(after?.State.StartedAt).toBe(info.State.StartedAt);
  });

  it("recreates the container on the newer local image with the same name and settings", async () => {
    const { info, reference } = await service("1.0");
    const name = info.Name.slice(1);
    await world.exec(info.Id, "echo kept > /cache/file");
    const cacheVolume = info.Mounts.find((mount) => mount.Destination === "/cache")?.Name ?? "";
    expect(cacheVolume).not.toBe("");
    const newImage = await world.deriveImage(
      world.image,
      reference,
      [
        'CMD ["/bin/sleep", "86400"]',
        "LABEL org.opencontainers.image.version=1.0.1 org.opencontainers.image.description=Second",
      ],
      "echo v2 > /version",
    );

    const result = await world.call("service.update", { id: name, timeoutSeconds: 1 });
    expect(result).toMatchObject({ image: reference, version: "1.0.1", updated: true });
    expect(result.containerId).not.toBe(info.Id.slice(0, 12));

    const after = await engineInspect(world.docker, name);
    expect(after?.Id.slice(0, 12)).toBe(result.containerId);
    expect(after?.Image).toBe(newImage);
    expect(after?.Config.Image).toBe(reference);
    expect(after?.State.Running).toBe(true);
    expect(after?.Config.Env).toEqual(expect.arrayContaining(["MODE=prod", "GREETING=hello there"]));
    expect(after?.Config.Labels).toMatchObject({
      tier: "front",
      "kai.project": "demo",
      "org.opencontainers.image.version": "1.0.1",
      [TEST_LABEL]: world.run,
    });
    expect(after?.HostConfig.Binds).toEqual([`${tmp}:/data`]);
    expect(after?.HostConfig.PortBindings).toEqual({ "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] });
    expect(after?.HostConfig.RestartPolicy).toEqual({ Name: "unless-stopped", MaximumRetryCount: 0 });
    expect(after?.Config.Cmd).toEqual(["/bin/sleep", "86400"]);
    expect(after?.NetworkSettings.Ports["8080/tcp"]?.[0]?.HostPort).toMatch(/^\d+$/);
    // The old container is gone, and nothing is left parked.
    expect(await engineInspect(world.docker, info.Id)).toBeNull();
    expect(await containersNamed(name)).toEqual([name]);
    expect(await world.call("service.inspect", { id: name })).toMatchObject({
      version: "1.0.1",
      description: "Second",
      status: "running",
    });
    // The same volume, with its data, and the new image's file.
    expect(after?.Mounts.find((mount) => mount.Destination === "/cache")?.Name).toBe(cacheVolume);
    expect(await world.exec(name, "cat /cache/file /version")).toBe("kept\nv2\n");

    // Now current: the pull still fails, but there is nothing newer to move to.
    expect((await kaiError(world.call("service.update", { id: name, timeoutSeconds: 1 }))).code).toBe("NETWORK_ERROR");
  });

  it("rolls back when the container on the new image does not stay up", async () => {
    const { info, reference } = await service("rb");
    const name = info.Name.slice(1);
    await world.deriveImage(world.image, reference, ['CMD ["/bin/false"]']);

    const error = await kaiError(world.call("service.update", { id: name, timeoutSeconds: 1 }));
    expect(error.code).toBe("DOCKER_ERROR");
    expect(error.message).toContain("did not keep running");
    expect(error.message).toContain("the update was rolled back");

    const after = await engineInspect(world.docker, name);
    expect(after?.Id).toBe(info.Id);
    expect(after?.State.Running).toBe(true);
    expect(after?.Image).toBe(info.Image);
    expect(await containersNamed(name)).toEqual([name]);
  });

  it("keeps a stopped service stopped", async () => {
    const { info, reference } = await service("stopped");
    const name = info.Name.slice(1);
    await world.call("service.stop", { id: name, timeoutSeconds: 0 });
    const newImage = await world.deriveImage(world.image, reference, [
      'CMD ["/bin/sleep", "86400"]',
      "LABEL org.opencontainers.image.version=3.0",
    ]);
    expect(await world.call("service.update", { id: name, timeoutSeconds: 1 })).toMatchObject({
      version: "3.0",
      updated: true,
    });
    const after = await engineInspect(world.docker, name);
    expect(after?.Image).toBe(newImage);
    expect(after?.State.Status).toBe("created");
  });

  it("has nothing to update for a container made from an image id", async () => {
    const imageId = (await world.docker.getImage(world.image).inspect()).Id;
    const info = await world.container({ name: world.name("by-id"), Image: imageId });
    expect(await world.call("service.update", { id: info.Id, timeoutSeconds: 1 })).toEqual({
      containerId: info.Id.slice(0, 12),
      image: imageId,
      version: null,
      updated: false,
    });
  });
});
