import { and, eq, gt, inArray, isNotNull, isNull, lt, sql } from "drizzle-orm";
import { KaiError } from "../../shared/errors";
import { displayUserCode, normaliseUserCode } from "../../shared/schemas/device";
import type { Db } from "../db/client";
import { isUniqueViolation } from "../db/errors";
import { auditLog, deviceLogins, hosts } from "../db/schema";
import { enrollHost, type HostRow, newAgentToken } from "../hosts/hosts";
import { randomSecret, sha256Hex } from "../identity/crypto";
import { newUserCode } from "./user-code";

/**
 * A poll this much early still counts as on time: the agent waits the interval after each
 * answer, but its clock and ours tick apart, and workerd's clock moves only on I/O.
 */
const POLL_SLACK_MS = 500;
/**
 * How long an approved login stays collectable at least after the approval: an approval in
 * the code's last second must still reach an agent that polls every `intervalSeconds` (two
 * polls' worth and room for a slow network). Uncollected by then, the sweep deletes the host it made.
 */
const collectionGraceMs = (intervalSeconds: number) => (2 * intervalSeconds + 30) * 1000;
/** Finished and expired logins are kept this long (to answer "expired", not "unknown"), then swept. */
const KEEP_AFTER_EXPIRY_MS = 24 * 3600_000;
const DEVICE_CODE_PREFIX = "kai_device_";

type DeviceLoginRow = typeof deviceLogins.$inferSelect;

const pollNotFound = () =>
  new KaiError(
    "NOT_FOUND",
    "this login code is unknown, expired or already used; run `kai-agent login --server URL` again for a new one",
  );

const userCodeNotFound = () =>
  new KaiError(
    "NOT_FOUND",
    "no machine is waiting with that code: it may be mistyped, expired or already used; " +
      "run `kai-agent login` on the machine again for a new code",
  );

/** Stores a new device login; answers the two codes, which exist in the clear only in this answer. */
export async function startDeviceLogin(
  db: Db,
  request: { name?: string; hostname: string; os: string; arch: string; clientIp: string; ttlSeconds: number },
): Promise<{ deviceCode: string; userCode: string }> {
  const now = Date.now();
  await sweep(db, now);
  const { ttlSeconds, clientIp, ...asked } = request;
  // A user code may collide with a live one (1 in 2^34 per pair): draw again.
  for (let attempt = 0; ; attempt++) {
    const deviceCode = randomSecret(DEVICE_CODE_PREFIX);
    const userCode = newUserCode();
    try {
      await db.insert(deviceLogins).values({
        id: crypto.randomUUID(),
        deviceCodeHash: await sha256Hex(deviceCode),
        userCodeHash: await sha256Hex(userCode),
        name: asked.name ?? null,
        hostname: asked.hostname,
        os: asked.os,
        arch: asked.arch,
        clientIp,
        expiresAt: new Date(now + ttlSeconds * 1000),
        createdAt: new Date(now),
      });
      return { deviceCode, userCode: displayUserCode(userCode) };
    } catch (error) {
      if (!isUniqueViolation(error) || attempt >= 2) throw error;
    }
  }
}

/**
 * Deletes the placeholder hosts of approved logins whose agent never collected the token before
 * expiry (nobody can ever hold a token for them; the cascade takes their login rows), then
 * the logins kept past KEEP_AFTER_EXPIRY_MS.
 */
async function sweep(db: Db, now: number): Promise<void> {
  const uncollected = db
    .select({ hostId: deviceLogins.hostId })
    .from(deviceLogins)
    .where(
      and(
        isNotNull(deviceLogins.approvedAt),
        isNull(deviceLogins.consumedAt),
        isNotNull(deviceLogins.hostId),
        lt(deviceLogins.expiresAt, new Date(now)),
      ),
    );
  await db.delete(hosts).where(inArray(hosts.id, uncollected));
  await db.delete(deviceLogins).where(lt(deviceLogins.expiresAt, new Date(now - KEEP_AFTER_EXPIRY_MS)));
}

export type DevicePoll = { status: "pending" } | { status: "approved"; host: HostRow; token: string };

/**
 * One poll of the agent. Pending: nothing. Approved: a fresh agent token, exactly once: its
 * hash replaces the placeholder of the host made at approval and the login is marked
 * consumed in one D1 batch (a transaction), each step conditional on the login not being
 * consumed yet, so of two polls racing only one gets a token that works, and the other 404.
 */
export async function pollDeviceLogin(db: Db, deviceCode: string, intervalSeconds: number): Promise<DevicePoll> {
  const now = Date.now();
  const [row] = await db
    .select()
    .from(deviceLogins)
    .where(eq(deviceLogins.deviceCodeHash, await sha256Hex(deviceCode)));
  if (!row || row.consumedAt || row.expiresAt.getTime() <= now) throw pollNotFound();
  await pace(db, row, now, intervalSeconds * 1000);
  if (row.deniedAt)
    throw new KaiError(
      "PERMISSION_DENIED",
      "this login was denied in the dashboard; nothing was issued. If that was a mistake, run `kai-agent login` again",
    );
  if (!row.approvedAt || !row.hostId) return { status: "pending" };

  const { token, tokenHash, tokenPrefix } = await newAgentToken();
  const unconsumed = and(eq(deviceLogins.id, row.id), isNull(deviceLogins.consumedAt));
  const stillUnconsumed = sql`exists (select 1 from ${deviceLogins} where ${unconsumed})`;
  const [swapped, consumed] = await db.batch([
    db
      .update(hosts)
      .set({ tokenHash, tokenPrefix })
      .where(and(eq(hosts.id, row.hostId), stillUnconsumed))
      .returning(),
    db
      .update(deviceLogins)
      .set({ consumedAt: new Date(now) })
      .where(unconsumed)
      .returning({ id: deviceLogins.id }),
  ]);
  const host = swapped[0];
  if (!host || consumed.length === 0) throw pollNotFound();
  return { status: "approved", host, token };
}

/** Counts this poll, or refuses it with RATE_LIMITED and when to come back if it came too soon after the last. */
async function pace(db: Db, row: DeviceLoginRow, now: number, intervalMs: number): Promise<void> {
  const [counted] = await db
    .update(deviceLogins)
    .set({ polledAt: new Date(now) })
    .where(
      and(
        eq(deviceLogins.id, row.id),
        sql`(${deviceLogins.polledAt} is null or ${deviceLogins.polledAt} <= ${now - intervalMs + POLL_SLACK_MS})`,
      ),
    )
    .returning({ id: deviceLogins.id });
  if (counted) return;
  const last = row.polledAt?.getTime() ?? now;
  const retryAfter = Math.max(1, Math.ceil((last + intervalMs - now) / 1000));
  throw new KaiError("RATE_LIMITED", `polled too soon: wait ${retryAfter} s between polls (slow_down)`, {
    headers: { "Retry-After": String(retryAfter) },
    details: { retryAfterSeconds: retryAfter },
  });
}

/** The live, undecided login a user code names, for anyone signed in who has the code. */
export async function findPendingDevice(db: Db, userCode: string): Promise<DeviceLoginRow> {
  const normalised = normaliseUserCode(userCode);
  if (!normalised) throw userCodeNotFound();
  const [row] = await db
    .select()
    .from(deviceLogins)
    .where(and(eq(deviceLogins.userCodeHash, await sha256Hex(normalised)), pendingNow()));
  if (!row) throw userCodeNotFound();
  return row;
}

/** Neither approved, denied nor consumed, and not expired. */
function pendingNow() {
  return and(
    isNull(deviceLogins.approvedAt),
    isNull(deviceLogins.deniedAt),
    isNull(deviceLogins.consumedAt),
    gt(deviceLogins.expiresAt, new Date()),
  );
}

/**
 * Approves a pending login as `userId`'s host `name` (the enroll rules: CONFLICT on a name the
 * user already has). The host exists from now on, so the dashboard lists it at once; its
 * token hash is of a random value nobody sees until the agent's next poll replaces it. The
 * login stays collectable for two of the agent's polls and more (collectionGraceMs), however
 * close to expiry it was.
 */
export async function approveDeviceLogin(
  db: Db,
  approval: { userId: string; userCode: string; name: string; intervalSeconds: number },
): Promise<HostRow> {
  const { userId, userCode, name, intervalSeconds } = approval;
  const login = await findPendingDevice(db, userCode);
  const { row: host } = await enrollHost(db, userId, name);
  const now = Date.now();
  const collectBy = new Date(Math.max(login.expiresAt.getTime(), now + collectionGraceMs(intervalSeconds)));
  const [approved] = await db
    .update(deviceLogins)
    .set({ approvedBy: userId, hostId: host.id, approvedAt: new Date(now), expiresAt: collectBy })
    .where(and(eq(deviceLogins.id, login.id), pendingNow()))
    .returning({ id: deviceLogins.id });
  if (!approved) {
    // Someone else decided it (or it expired) meanwhile: the host made for it goes again.
    await db.delete(hosts).where(eq(hosts.id, host.id));
    throw userCodeNotFound();
  }
  // No command was relayed, so there is no request id: the login's id names the approval.
  await db.insert(auditLog).values({
    id: crypto.randomUUID(),
    userId,
    hostId: host.id,
    op: "device.approve",
    outcome: "ok",
    durationMs: 0,
    requestId: login.id,
  });
  return host;
}

/** Denies a pending login: its agent's next poll is told so and gets nothing. */
export async function denyDeviceLogin(db: Db, userCode: string): Promise<void> {
  const login = await findPendingDevice(db, userCode);
  const [denied] = await db
    .update(deviceLogins)
    .set({ deniedAt: new Date() })
    .where(and(eq(deviceLogins.id, login.id), pendingNow()))
    .returning({ id: deviceLogins.id });
  if (!denied) throw userCodeNotFound();
}
