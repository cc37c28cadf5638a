import { and, desc, eq } from "drizzle-orm";
import { KaiError } from "../../shared/errors";
import type { Db } from "../db/client";
import { catalogItems } from "../db/schema";

type CatalogRow = typeof catalogItems.$inferSelect;

export function toCatalogItem(row: CatalogRow) {
  return {
    id: row.id,
    name: row.name,
    hostPath: row.hostPath,
    hostId: row.hostId,
    containerId: row.containerId,
    createdAt: row.createdAt.toISOString(),
  };
}

export function listCatalog(db: Db, userId: string, hostId?: string): Promise<CatalogRow[]> {
  const condition = hostId
    ? and(eq(catalogItems.userId, userId), eq(catalogItems.hostId, hostId))
    : eq(catalogItems.userId, userId);
  return db.select().from(catalogItems).where(condition).orderBy(desc(catalogItems.createdAt));
}

export async function addCatalogItem(
  db: Db,
  item: { userId: string; hostId: string; name: string; hostPath: string },
): Promise<CatalogRow> {
  const [row] = await db
    .insert(catalogItems)
    .values({ id: crypto.randomUUID(), ...item, createdAt: new Date() })
    .returning();
  if (!row) throw new KaiError("INTERNAL_ERROR", "the catalog item could not be stored");
  return row;
}

/** One of the user's items on the given host; anything else is NOT_FOUND. */
export async function findCatalogItem(db: Db, userId: string, id: string, hostId?: string): Promise<CatalogRow> {
  const [row] = await db
    .select()
    .from(catalogItems)
    .where(and(eq(catalogItems.id, id), eq(catalogItems.userId, userId)));
  if (!row || (hostId && row.hostId !== hostId)) throw new KaiError("NOT_FOUND", "no such catalog item");
  return row;
}

export async function removeCatalogItem(db: Db, userId: string, id: string): Promise<void> {
  const [row] = await db
    .delete(catalogItems)
    .where(and(eq(catalogItems.id, id), eq(catalogItems.userId, userId)))
    .returning({ id: catalogItems.id });
  if (!row) throw new KaiError("NOT_FOUND", "no such catalog item");
}

export async function recordContainer(db: Db, itemId: string, containerId: string | null): Promise<void> {
  await db.update(catalogItems).set({ containerId }).where(eq(catalogItems.id, itemId));
}

/** Forgets a deleted container on whichever of the host's items recorded it. */
export async function forgetContainer(db: Db, hostId: string, containerId: string): Promise<void> {
  await db
    .update(catalogItems)
    .set({ containerId: null })
    .where(and(eq(catalogItems.hostId, hostId), eq(catalogItems.containerId, containerId)));
}
