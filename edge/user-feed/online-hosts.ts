import { and, asc, eq, gt, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { hosts } from "../db/schema";

/** Hosts per page of the walk that starts a user's online hosts: one D1 read, this many object calls. */
const ONLINE_HOSTS_PAGE = 100;

/**
 * One page of the user's online hosts after `from`, in rowid order. The index
 * hosts_user_online_idx (user_id, online) ends in the rowid, so the page is read from the
 * index in order, with no sort: a user with 5,000 online hosts costs 50 such reads, never one scan.
 */
export async function onlineHostsPage(
  db: Db,
  userId: string,
  from: number,
  limit = ONLINE_HOSTS_PAGE,
): Promise<{ hostIds: string[]; next: number | null }> {
  const rowid = sql<number>`${hosts}.rowid`;
  const rows = await db
    .select({ id: hosts.id, rowid })
    .from(hosts)
    .where(and(eq(hosts.userId, userId), eq(hosts.online, true), gt(rowid, from)))
    .orderBy(asc(rowid))
    .limit(limit);
  const last = rows.at(-1);
  return { hostIds: rows.map((row) => row.id), next: rows.length === limit && last ? last.rowid : null };
}
