import { eq } from "drizzle-orm";
import type { HelloFrame } from "../../shared/protocol";
import type { Db } from "../db/client";
import { hosts } from "../db/schema";

/**
 * What the `hosts` row says about a host's agent: whether it is connected, what it said
 * about itself in hello, and its Docker engine's state. Written by the host's Durable Object
 * as its agent comes, reports and goes; read by the host routes.
 */

/** The agent said hello: the host is online, as the agent describes it. False when the host is gone (deleted meanwhile). */
export async function markHostOnline(db: Db, hostId: string, hello: HelloFrame): Promise<boolean> {
  const rows = await db
    .update(hosts)
    .set({
      online: true,
      lastSeenAt: new Date(),
      agentVersion: hello.agentVersion,
      protocolVersion: hello.protocolVersion,
      dockerOk: hello.docker.ok,
      dockerVersion: hello.docker.version,
      os: hello.os,
      arch: hello.arch,
      hostname: hello.hostname,
      agentProfilesJson: hello.agentProfiles ? JSON.stringify(hello.agentProfiles) : null,
    })
    .where(eq(hosts.id, hostId))
    .returning({ id: hosts.id });
  return rows.length > 0;
}

/** The agent's Docker engine came or went. */
export async function recordDockerState(db: Db, hostId: string, docker: HelloFrame["docker"]): Promise<void> {
  await db
    .update(hosts)
    .set({ dockerOk: docker.ok, dockerVersion: docker.version, lastSeenAt: new Date() })
    .where(eq(hosts.id, hostId));
}

/** The host's last agent connection is gone. */
export async function markHostOffline(db: Db, hostId: string): Promise<void> {
  await db.update(hosts).set({ online: false, lastSeenAt: new Date() }).where(eq(hosts.id, hostId));
}
