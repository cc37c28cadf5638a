/**
 * The dashboard's API types (web/src/api/schema.d.ts) are generated from the live OpenAPI
 * document; this fails when a route changed and `npm run types:web` was not run.
 */
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WEB_SCHEMA, webTypesFrom } from "../../scripts/web-types";
import { type Edge, startEdge } from "../support/edge-server";

let edge: Edge;
beforeAll(async () => {
  edge = await startEdge();
});
afterAll(() => edge?.stop());

describe("web/src/api/schema.d.ts", () => {
  it("matches the Worker's /api/openapi.json (run `npm run types:web` to update it)", async () => {
    const live = await webTypesFrom(edge.url);
    const committed = await readFile(WEB_SCHEMA, "utf8");
    expect(committed === live, "web/src/api/schema.d.ts is stale: run `npm run types:web` and commit it").toBe(true);
  });

  it("names a request id on every answer, errors included", async () => {
    const response = await fetch(`${edge.url}/api/hosts`);
    expect(response.status).toBe(401);
    expect(response.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
