import { api, call } from "./client";
import type { components } from "./schema";

type Host = components["schemas"]["Host"];
type CatalogItem = components["schemas"]["CatalogItem"];

/** The API's largest page (edge/http/paging.ts): every list is paged, and a fleet can be larger. */
const PAGE = 100;

/**
 * Every row of a paged list, reading a page at a time until a short one. A row added or removed
 * between two reads can shift another across a page boundary: rows are kept once by id, and
 * one shifted out of view appears on the next load.
 */
async function allPages<Row extends { id: string }>(
  read: (query: { limit: number; offset: number }) => Promise<Row[]>,
): Promise<Row[]> {
  const rows = new Map<string, Row>();
  for (let offset = 0; ; offset += PAGE) {
    const page = await read({ limit: PAGE, offset });
    for (const row of page) rows.set(row.id, row);
    if (page.length < PAGE) return [...rows.values()];
  }
}

/** Every host of the user, oldest first. */
export function listHosts(): Promise<Host[]> {
  return allPages(async (query) => (await call(api.GET("/api/hosts", { params: { query } }))).data.hosts);
}

/** Every catalog item of the user (of `host` only when given), newest first. */
export function listCatalog(host?: string): Promise<CatalogItem[]> {
  return allPages(
    async (query) => (await call(api.GET("/api/catalog/flexy", { params: { query: { ...query, host } } }))).data.items,
  );
}
