import { describe, expect, it } from "vitest";
import { call, expectEnvelopeError, registerUser, unique } from "./helpers";

/** Every list of things a user accumulates answers a page with a cap (edge/http/paging.ts), never everything. */
describe("capped lists", () => {
  const lists = [
    {
      path: "/api/hosts",
      make: (token: string) => call("/api/hosts", { token, body: { name: unique("h") } }),
      items: (body: { data: { hosts: unknown[] } }) => body.data.hosts,
    },
    {
      path: "/api/tokens",
      make: (token: string) => call("/api/tokens", { token, body: { name: unique("t") } }),
      items: (body: { data: { tokens: unknown[] } }) => body.data.tokens,
    },
    {
      path: "/api/webhooks",
      make: (token: string) =>
        call("/api/webhooks", { token, body: { url: "https://hooks.example.com/kai", events: ["host.online"] } }),
      items: (body: { data: unknown[] }) => body.data,
    },
  ];

  for (const list of lists) {
    it(`${list.path} pages with limit and offset, at most 100 a page`, async () => {
      const user = await registerUser();
      for (let i = 0; i < 3; i++) expect((await list.make(user.accessToken)).status).toBe(201);
      const page = async (query: string) => {
        const response = await call(`${list.path}${query}`, { token: user.accessToken });
        expect(response.status).toBe(200);
        return list.items((await response.json()) as never) as { id: string }[];
      };
      const first = await page("?limit=2");
      const rest = await page("?limit=2&offset=2");
      expect(first).toHaveLength(2);
      const all = (await page("")).map((item) => item.id);
      expect(all.length).toBeGreaterThanOrEqual(3);
      expect([...first, ...rest].map((item) => item.id)).toEqual(all);
      expect((await call(`${list.path}?limit=101`, { token: user.accessToken })).status).toBe(400);
    });
  }
});

describe("bounded fan-out", () => {
  it("refuses a webhook past the 20 one user may have, with 409 saying what to do", async () => {
    const user = await registerUser();
    const body = { url: "https://hooks.example.com/kai", events: ["host.online"] };
    for (let i = 0; i < 20; i++)
      expect((await call("/api/webhooks", { token: user.accessToken, body })).status).toBe(201);
    const refused = await expectEnvelopeError(
      await call("/api/webhooks", { token: user.accessToken, body }),
      409,
      "CONFLICT",
    );
    expect(refused.error.message).toContain("delete one");
  });
});
