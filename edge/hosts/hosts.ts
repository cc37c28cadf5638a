import { and, asc, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { KaiError } from "../../shared/errors";
import { type AgentProfileInfo, agentProfileInfo } from "../../shared/schemas/agent-profiles";
import type { Host } from "../../shared/schemas/hosts";
import { AGENT_RELEASE, isOutdated } from "../../shared/version";
import type { Db } from "../db/client";
import { isUniqueViolation } from "../db/errors";
import { hosts } from "../db/schema";
import { randomSecret, sha256Hex } from "../identity/crypto";

const AGENT_TOKEN_PREFIX = "kai_agent_";

export type HostRow = typeof hosts.$inferSelect;

export function toHost(row: HostRow): Host {
  return {
    id: row.id,
    name: row.name,
    online: row.online,
    lastSeenAt: row.lastSeenAt?.toISOString() ?? null,
    agentVersion: row.agentVersion,
    outdated: isOutdated(row.agentVersion),
    latestAgentVersion: AGENT_RELEASE,
    dockerVersion: row.dockerVersion,
    dockerOk: row.dockerOk,
    os: row.os,
    arch: row.arch,
    agentProfiles: profilesOf(row),
    createdAt: row.createdAt.toISOString(),
  };
}

/** The stored profiles, read back through their schema: a row written by an older edge has none. */
function profilesOf(row: HostRow): AgentProfileInfo[] {
  if (!row.agentProfilesJson) return [];
  const parsed = z.array(agentProfileInfo).safeParse(JSON.parse(row.agentProfilesJson));
  return parsed.success ? parsed.data : [];
}

const nameTaken = () =>
  new KaiError("CONFLICT", "you already have a host with that name; choose another", { details: { field: "name" } });

/** A fresh agent token with what `hosts` stores of it: its hash and a prefix to recognise it by. */
export async function newAgentToken(): Promise<{ token: string; tokenHash: string; tokenPrefix: string }> {
  const token = randomSecret(AGENT_TOKEN_PREFIX);
  return { token, tokenHash: await sha256Hex(token), tokenPrefix: token.slice(0, AGENT_TOKEN_PREFIX.length + 6) };
}

export async function enrollHost(db: Db, userId: string, name: string): Promise<{ row: HostRow; token: string }> {
  const { token, tokenHash, tokenPrefix } = await newAgentToken();
  try {
    const [row] = await db
      .insert(hosts)
      .values({ id: crypto.randomUUID(), userId, name, tokenHash, tokenPrefix, createdAt: new Date() })
      .returning();
    if (!row) throw new KaiError("INTERNAL_ERROR", "the host could not be stored");
    return { row, token };
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken();
    throw error;
  }
}

/** A page of the user's hosts, oldest first (`page.limit` is capped by the route's schema). */
export function listHosts(db: Db, userId: string, page: { limit: number; offset?: number }): Promise<HostRow[]> {
  return db
    .select()
    .from(hosts)
    .where(eq(hosts.userId, userId))
    .orderBy(asc(hosts.createdAt), asc(hosts.id))
    .limit(page.limit)
    .offset(page.offset ?? 0);
}

/**
 * One of the user's own hosts by id or name; anyone else's is NOT_FOUND, never FORBIDDEN.
 * Two index lookups (the id, then the unique lower-cased name), never the user's whole list.
 */
export async function findOwnHost(db: Db, userId: string, idOrName: string): Promise<HostRow> {
  const [byId] = await db
    .select()
    .from(hosts)
    .where(and(eq(hosts.id, idOrName), eq(hosts.userId, userId)));
  if (byId) return byId;
  const [byName] = await db
    .select()
    .from(hosts)
    .where(and(eq(hosts.userId, userId), eq(sql`lower(${hosts.name})`, sql`lower(${idOrName})`)));
  if (!byName) throw new KaiError("NOT_FOUND", "no such host");
  return byName;
}

export async function renameHost(db: Db, userId: string, id: string, name: string): Promise<HostRow> {
  try {
    const [row] = await db
      .update(hosts)
      .set({ name })
      .where(and(eq(hosts.id, id), eq(hosts.userId, userId)))
      .returning();
    if (!row) throw new KaiError("NOT_FOUND", "no such host");
    return row;
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken();
    throw error;
  }
}

/** Deletes the host, which revokes its agent token (the hash is gone with the row). */
export async function deleteHost(db: Db, userId: string, id: string): Promise<HostRow> {
  const [row] = await db
    .delete(hosts)
    .where(and(eq(hosts.id, id), eq(hosts.userId, userId)))
    .returning();
  if (!row) throw new KaiError("NOT_FOUND", "no such host");
  return row;
}

/** The hash `hosts` keeps of an agent token, or undefined when it is no agent token at all (no D1 read needed). */
export async function agentTokenHash(token: string): Promise<string | undefined> {
  return token.startsWith(AGENT_TOKEN_PREFIX) ? sha256Hex(token) : undefined;
}

/** The host whose agent token has this hash, or undefined: one D1 read. */
export async function hostByAgentTokenHash(db: Db, tokenHash: string): Promise<HostRow | undefined> {
  const [row] = await db.select().from(hosts).where(eq(hosts.tokenHash, tokenHash));
  return row;
}
