import { eq, sql } from "drizzle-orm";
import { KaiError } from "../../shared/errors";
import type { PublicUser } from "../../shared/schemas/identity";
import type { Db } from "../db/client";
import { isUniqueViolation } from "../db/errors";
import { users } from "../db/schema";

type UserRow = typeof users.$inferSelect;

export function toPublicUser(row: UserRow): PublicUser {
  return { id: row.id, username: row.username, avatar_url: row.avatarUrl, bio: row.bio };
}

const noSuchUser = () => new KaiError("NOT_FOUND", "no such user");

export async function userById(db: Db, id: string): Promise<UserRow> {
  const [row] = await db.select().from(users).where(eq(users.id, id));
  if (!row) throw noSuchUser();
  return row;
}

export async function userByUsername(db: Db, username: string): Promise<UserRow> {
  const [row] = await db.select().from(users).where(sql`lower(${users.username}) = ${username.toLowerCase()}`);
  if (!row) throw noSuchUser();
  return row;
}

export async function userByEmail(db: Db, email: string): Promise<UserRow> {
  const [row] = await db.select().from(users).where(eq(users.email, email));
  if (!row) throw noSuchUser();
  return row;
}

export async function updateProfile(
  db: Db,
  id: string,
  changes: { username?: string | undefined; avatar_url?: string | null | undefined; bio?: string | null | undefined },
): Promise<UserRow> {
  const set: Partial<typeof users.$inferInsert> = { updatedAt: new Date() };
  if (changes.username !== undefined) set.username = changes.username;
  if (changes.avatar_url !== undefined) set.avatarUrl = changes.avatar_url;
  if (changes.bio !== undefined) set.bio = changes.bio;
  try {
    const [row] = await db.update(users).set(set).where(eq(users.id, id)).returning();
    if (!row) throw noSuchUser();
    return row;
  } catch (error) {
    if (isUniqueViolation(error))
      throw new KaiError("CONFLICT", "that username is taken; choose another", { details: { field: "username" } });
    throw error;
  }
}
