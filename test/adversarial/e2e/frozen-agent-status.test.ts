import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorld, type World } from "../../e2e/world";

/**
 * A status read must not wait on a frozen agent for the whole command timeout:
 * `GET /api/hosts/{id}` bounds its Docker question to a couple of seconds and answers from
 * the stored row with `docker: null`. AGENT_TIMEOUT_MS is a minute here and the test's own
 * timeout is 20 s, so a read that waited the full timeout fails the test.
 */

let world: World;
beforeAll(async () => {
  world = await createWorld({ edgeVars: { AGENT_TIMEOUT_MS: "60000" } });
});
afterAll(async () => world?.dispose());

describe("GET /api/hosts/{id} with a frozen agent", () => {
  it("answers with docker: null and the stored row instead of waiting for the agent", async () => {
    const live = await world.api(`/api/hosts/${world.host.id}`);
    expect(live.status).toBe(200);
    expect(live.body.data.docker).not.toBeNull();

    world.agent.signal("SIGSTOP");
    try {
      const frozen = await world.api(`/api/hosts/${world.host.id}`);
      expect(frozen.status).toBe(200);
      expect(frozen.body.data).toMatchObject({ id: world.host.id, name: world.host.name, online: true, docker: null });
    } finally {
      world.agent.signal("SIGCONT");
    }
  }, 20_000);
});
