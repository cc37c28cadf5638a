import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createDockerClient } from "../../agent/runtime/docker/client";
import type { ParamsOf } from "../../shared/commands";
import { type ContainerWorld, containerWorld, ONE_CONTAINER_OPS } from "../support/container-world";
import { type DockerProxy, startDockerProxy } from "../support/docker-proxy";
import { engineInspect, kaiError, TEST_LABEL } from "../support/service-world";
import { setupOrFail } from "../support/setup-or-fail";

/**
 * What the container handlers keep a host from, against the real engine: containers that are
 * not this host's Kai containers stay invisible, and the host policy refuses a create before
 * anything reaches the engine (a counting proxy in front of it says nothing did).
 */

let world: ContainerWorld;
let proxy: DockerProxy;

const setup = setupOrFail(async () => {
  world = await containerWorld();
  proxy = await startDockerProxy();
});
afterEach(async () => {
  if (setup.ready) await world.removeContainers();
});
afterAll(async () => {
  await proxy?.close();
  await world?.close();
});

describe("containers that are not this host's Kai containers are invisible", () => {
  // Labels made once the world is set up: they name this run's host.
  const strangers: Array<[string, () => Record<string, string>]> = [
    ["a plain container", () => ({})],
    ["another host's Kai container", () => ({ "kai.managed": "true", "kai.host": `other-host-${world.run}` })],
    ["a container labelled with this host but not managed", () => ({ "kai.host": world.hostId })],
  ];

  for (const [what, labels] of strangers) {
    it(what, async () => {
      const name = world.name("stranger");
      const stranger = await world.docker.createContainer({
        name,
        Image: world.image,
        Labels: { ...labels(), [TEST_LABEL]: world.run },
      });
      const mine = await world.call("container.create", world.createParams());

      const listed = await world.call("container.list", { limit: 100, offset: 0 });
      expect(listed.containers.map((item) => item.id)).toEqual([mine.id]);
      expect(listed.total).toBe(1);

      for (const ref of [stranger.id, name, stranger.id.slice(0, 12)]) {
        for (const op of ONE_CONTAINER_OPS) {
          const error = await kaiError(world.call(op, { id: ref }));
          expect(error.code, `${op} ${ref}`).toBe("CONTAINER_NOT_FOUND");
          // The same answer as for a container that does not exist: nothing confirmed.
          expect(error.message).toBe(`container ${ref} not found on this host`);
        }
      }
      const engine = await engineInspect(world.docker, stranger.id);
      expect(engine?.State.Status).toBe("created");
    });
  }
});

describe("the host policy refuses before anything reaches the engine", () => {
  const refusals: Array<[string, () => Promise<Partial<ParamsOf<"container.create">>>]> = [
    ["a hostPath outside the roots", async () => ({ hostPath: "/etc" })],
    ["a hostPath escaping with ..", async () => ({ hostPath: `${world.root}/../../etc` })],
    ["the parent of the root", async () => ({ hostPath: `${world.root}/..` })],
    [
      "a sibling sharing the root's prefix",
      async () => {
        await fs.mkdir(`${world.root}-evil`, { recursive: true });
        return { hostPath: `${world.root}-evil` };
      },
    ],
    [
      "a symlink inside the root pointing outside",
      async () => {
        await fs.symlink("/", path.join(world.root, "to-slash")).catch(() => undefined);
        return { hostPath: path.join(world.root, "to-slash") };
      },
    ],
    [
      "a path below a symlink pointing outside",
      async () => {
        await fs.symlink("/", path.join(world.root, "to-slash")).catch(() => undefined);
        return { hostPath: path.join(world.root, "to-slash", "etc") };
      },
    ],
    ["privileged", async () => ({ security: { privileged: true } })],
    ["capAdd", async () => ({ security: { capAdd: ["SYS_ADMIN"] } })],
    ["pidMode host", async () => ({ security: { pidMode: "host" } })],
    ["networkMode host", async () => ({ security: { networkMode: "host" } })],
    ["ipcMode of another container", async () => ({ security: { ipcMode: "container:abc" } })],
    ["devices", async () => ({ security: { devices: ["/dev/sda:/dev/sda"] } })],
    ["unconfined seccomp", async () => ({ security: { securityOpt: ["seccomp=unconfined"] } })],
    ["unconfined apparmor", async () => ({ security: { securityOpt: ["apparmor=unconfined"] } })],
    ["SELinux labels disabled", async () => ({ security: { securityOpt: ["label=disable"] } })],
    ["extra binds", async () => ({ security: { extraBinds: ["/:/host"] } })],
  ];

  for (const [what, make] of refusals) {
    it(`refuses ${what} with PERMISSION_DENIED`, async () => {
      const name = world.name("refused");
      const overrides = await make();
      proxy.reset();
      const throughProxy = world.ctx({ docker: createDockerClient({ socketPath: proxy.socketPath }) });
      const error = await kaiError(
        world.call("container.create", world.createParams({ name, ...overrides }), throughProxy),
      );
      expect(error.code).toBe("PERMISSION_DENIED");
      if (overrides.hostPath) expect(error.message).toContain(world.root);
      expect(proxy.requests).toEqual([]);
      expect(proxy.connections).toBe(0);
      expect(await engineInspect(world.docker, name)).toBeNull();
    });
  }

  it("lists every violation at once", async () => {
    const security = {
      privileged: true,
      capAdd: ["NET_ADMIN"],
      pidMode: "host",
      utsMode: "host",
      usernsMode: "host",
      devices: ["/dev/kmsg"],
      securityOpt: ["seccomp=unconfined", "no-new-privileges"],
      extraBinds: ["/var/run/docker.sock:/var/run/docker.sock"],
    };
    proxy.reset();
    const error = await kaiError(
      world.call(
        "container.create",
        world.createParams({ security }),
        world.ctx({ docker: createDockerClient({ socketPath: proxy.socketPath }) }),
      ),
    );
    expect(error.code).toBe("PERMISSION_DENIED");
    expect(error.details?.violations).toHaveLength(8);
    for (const word of [
      "privileged",
      "capAdd",
      "pidMode",
      "utsMode",
      "usernsMode",
      "devices",
      "seccomp=unconfined",
      "docker.sock",
    ]) {
      expect(error.message).toContain(word);
    }
    expect(proxy.requests).toEqual([]);
  });

  it("lets a request the policy accepts through the same proxy (the proxy does count)", async () => {
    proxy.reset();
    const throughProxy = world.ctx({ docker: createDockerClient({ socketPath: proxy.socketPath }) });
    const created = await world.call(
      "container.create",
      world.createParams({ security: { networkMode: "none", securityOpt: ["no-new-privileges"] } }),
      throughProxy,
    );
    expect(proxy.requests.some((line) => /^POST \/.*containers\/create\?name=/.test(line))).toBe(true);
    const engine = await engineInspect(world.docker, created.id);
    expect(engine!.HostConfig.NetworkMode).toBe("none");
    expect(engine!.HostConfig.SecurityOpt).toEqual(["no-new-privileges"]);
  });
});
