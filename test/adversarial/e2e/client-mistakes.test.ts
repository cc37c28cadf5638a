import { mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorld, type World } from "../../e2e/world";
import { gitAsAsync } from "../../support/git-identity";
import { uniqueName } from "../../support/kai-client";

/**
 * Issue 10, point 9 through the real Worker and a real kai-agent: client mistakes that git
 * and Docker report answer 4xx in each surface's documented format (problem+json with 422
 * or 404 on /api/v1, the Kai envelope with 400 on /api), never 500 or 502.
 */

let world: World;
let workspace: string;
let workspaceId: string;

const run = (cwd: string, ...args: string[]) => gitAsAsync({ name: "t", email: "t@t" }, cwd, ...args);
const ws = (suffix: string) => `/api/v1/workspaces/${workspaceId}${suffix}`;

beforeAll(async () => {
  world = await createWorld();
  workspace = path.join(world.root, "mistakes");
  await mkdir(path.join(workspace, "real"), { recursive: true });
  await writeFile(path.join(workspace, "real", "inside.txt"), "inside\n");
  await writeFile(path.join(workspace, "README.md"), "# mistakes\n");
  await run(workspace, "init", "-b", "main");
  await run(workspace, "add", "README.md");
  await run(workspace, "commit", "-m", "initial");
  await symlink("real", path.join(workspace, "link"));
  const item = await world.api("/api/catalog/flexy", { body: { name: "mistakes", hostPath: workspace } });
  workspaceId = item.body.data.id;
});
afterAll(async () => world?.dispose());

describe("/api/v1 commit: path mistakes are problem+json 4xx", () => {
  it("a path beyond a symlink is 422 naming the path as sent, without the host's path", async () => {
    const answer = await world.api(ws("/version-control/commit"), {
      body: { message: "through a link", paths: ["link/inside.txt"] },
    });
    expect(answer.status).toBe(422);
    expect(answer.headers.get("content-type")).toContain("application/problem+json");
    expect(answer.body).toMatchObject({ status: 422, code: "VALIDATION_ERROR" });
    expect(answer.body.detail).toContain("link/inside.txt goes through a symbolic link");
    expect(JSON.stringify(answer.body)).not.toContain(world.root);
    expect(JSON.stringify(answer.body)).not.toContain("fatal:");
  });

  it("a path that matches nothing is 404", async () => {
    const answer = await world.api(ws("/version-control/commit"), {
      body: { message: "nothing", paths: ["no-such.txt"] },
    });
    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ status: 404, code: "NOT_FOUND" });
    expect(answer.body.detail).toContain("no-such.txt");
    // Kai's words, not git's ("pathspec '…' did not match any files").
    expect(JSON.stringify(answer.body)).not.toContain("did not match");
  });
});

describe("/api/flexy create: container mistakes are envelope 400s", () => {
  async function create(extra: Record<string, unknown>) {
    const name = uniqueName("agentcodes-e2e-");
    const hostPath = path.join(world.root, name);
    await mkdir(hostPath, { recursive: true });
    return world.api("/api/flexy", {
      body: { name, image: world.image, hostPath, containerPath: "/workspace", env: {}, ...extra },
    });
  }

  it("containerPath / is 400 VALIDATION_ERROR", async () => {
    const answer = await create({ containerPath: "/" });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ success: false, error: { code: "VALIDATION_ERROR" } });
    expect(answer.body.error.message).toContain("containerPath");
  });

  it("an image not on the host is 400 VALIDATION_ERROR saying how to get it", async () => {
    const answer = await create({ image: "agentcodes-e2e-missing:never" });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ success: false, error: { code: "VALIDATION_ERROR" } });
    expect(answer.body.error.message).toContain("docker pull agentcodes-e2e-missing:never");
    const left = await world.docker.listContainers({ all: true, filters: { label: [`kai.host=${world.host.id}`] } });
    expect(left).toEqual([]);
  });
});
