import { and, desc, eq } from "drizzle-orm";
import { KaiError } from "../../shared/errors";
import type { Db } from "../db/client";
import { catalogItems } from "../db/schema";
import type { Page } from "../http/paging";

/**
 * The workspaces Kai knows (D1 `catalog_items`, "catalog items" in the Kai API): a root on one
 * host, owned by one user, optionally bound to a container.
 */
export type WorkspaceRow = typeof catalogItems.$inferSelect;

/** A page of the user's workspaces (of one host, or all), newest first. */
export function listWorkspaces(
  db: Db,
  userId: string,
  hostId: string | undefined,
  page: Page,
): Promise<WorkspaceRow[]> {
  const condition = hostId
    ? and(eq(catalogItems.userId, userId), eq(catalogItems.hostId, hostId))
    : eq(catalogItems.userId, userId);
  return db
    .select()
    .from(catalogItems)
    .where(condition)
    .orderBy(desc(catalogItems.createdAt), desc(catalogItems.id))
    .limit(page.limit)
    .offset(page.offset);
}

export async function addWorkspace(
  db: Db,
  workspace: { userId: string; hostId: string; name: string; hostPath: string },
): Promise<WorkspaceRow> {
  const [row] = await db
    .insert(catalogItems)
    .values({ id: crypto.randomUUID(), ...workspace, createdAt: new Date() })
    .returning();
  if (!row) throw new KaiError("INTERNAL_ERROR", "the workspace could not be stored");
  return row;
}

/** One of the user's workspaces (on the given host, if named); anything else is NOT_FOUND. */
export async function findOwnWorkspace(db: Db, userId: string, id: string, hostId?: string): Promise<WorkspaceRow> {
  const [row] = await db
    .select()
    .from(catalogItems)
    .where(and(eq(catalogItems.id, id), eq(catalogItems.userId, userId)));
  if (!row || (hostId && row.hostId !== hostId)) throw new KaiError("NOT_FOUND", "no such catalog item");
  return row;
}

export async function removeWorkspace(db: Db, userId: string, id: string): Promise<void> {
  const [row] = await db
    .delete(catalogItems)
    .where(and(eq(catalogItems.id, id), eq(catalogItems.userId, userId)))
    .returning({ id: catalogItems.id });
  if (!row) throw new KaiError("NOT_FOUND", "no such catalog item");
}

export async function recordContainer(db: Db, workspaceId: string, containerId: string | null): Promise<void> {
  await db.update(catalogItems).set({ containerId }).where(eq(catalogItems.id, workspaceId));
}

/** Forgets a deleted container on whichever of the host's workspaces recorded it. */
export async function forgetContainer(db: Db, hostId: string, containerId: string): Promise<void> {
  await db
    .update(catalogItems)
    .set({ containerId: null })
    .where(and(eq(catalogItems.hostId, hostId), eq(catalogItems.containerId, containerId)));
}
