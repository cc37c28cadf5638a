import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { enrolledHost } from "./agent-socket";
import { call, expectEnvelopeError } from "./helpers";

/**
 * The audit log counts and pages within a window of 10,000 entries: a user with more gets a
 * capped total that says so, rather than every page view reading all of their rows.
 */

const WINDOW = 10_000;

/** `count` audit rows of the host, one a second back from now, written by SQL in one statement. */
async function seedAudit(userId: string, hostId: string, count: number, op = "container.list"): Promise<void> {
  await env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
     INSERT INTO audit_log (id, user_id, host_id, op, outcome, duration_ms, request_id, created_at)
     SELECT ? || '-' || i, ?, ?, ?, 'ok', 1, 'r' || i, ? - i * 1000 FROM n`,
  )
    .bind(count, crypto.randomUUID(), userId, hostId, op, Date.now())
    .run();
}

describe("the audit log's window", () => {
  it("counts up to 10,000 and says when more match; a narrower filter counts exactly", async () => {
    const { host, user } = await enrolledHost();
    await seedAudit(user.id, host.id, WINDOW + 5);
    await seedAudit(user.id, host.id, 3, "docker.info");
    const read = async (query: string) => {
      const response = await call(`/api/audit?${query}`, { token: user.accessToken });
      expect(response.status).toBe(200);
      return ((await response.json()) as { data: { entries: unknown[]; total: number; totalCapped: boolean } }).data;
    };

    const all = await read("limit=10");
    expect(all).toMatchObject({ total: WINDOW, totalCapped: true });
    expect(all.entries).toHaveLength(10);
    expect(await read("op=docker.info")).toMatchObject({ total: 3, totalCapped: false });
    const last = await read(`offset=${WINDOW}&limit=200`);
    expect(last.entries).toHaveLength(8); // 10,008 rows in all; the window's offset reaches the tail
  });

  it("refuses an offset past the window with 400, pointing at `to`", async () => {
    const { user } = await enrolledHost();
    const response = await call(`/api/audit?offset=${WINDOW + 1}`, { token: user.accessToken });
    const body = await expectEnvelopeError(response, 400, "VALIDATION_ERROR");
    expect(JSON.stringify(body)).toContain("reach older entries with `to`");
  });
});
