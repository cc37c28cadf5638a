import type { WebhookEvent } from "../../shared/schemas/webhooks";
import { enrollHost, request, type Session, signUp } from "../../test/support/kai-client";

/**
 * The fleet benchmark's accounts, made through the public API as a person or a script
 * would: users signed up one after another (the auth routes' per-IP limit is 60 a
 * minute), hosts enrolled a few at a time, webhooks registered per user.
 */

export interface FleetUser {
  session: Session;
  hosts: { id: string; token: string; name: string }[];
}

/** Enrollment calls in flight at once: enough to keep workerd busy, few enough to stay polite. */
const ENROLL_CONCURRENCY = 8;

/** `hostsPerUser[i]` hosts for user i; prints progress. */
export async function enrollFleet(url: string, hostsPerUser: number[]): Promise<FleetUser[]> {
  const users: FleetUser[] = [];
  for (let index = 0; index < hostsPerUser.length; index++) users.push({ session: await signUp(url), hosts: [] });
  const jobs = users.flatMap((user, index) => Array.from({ length: hostsPerUser[index] ?? 0 }, () => user));
  const total = jobs.length;
  let done = 0;
  await Promise.all(
    Array.from({ length: ENROLL_CONCURRENCY }, async () => {
      for (let user = jobs.shift(); user; user = jobs.shift()) {
        user.hosts.push(await enrollHost(user.session));
        done += 1;
        if (done % 100 === 0) process.stderr.write(`  fleet: ${done}/${total} hosts enrolled\n`);
      }
    }),
  );
  return users;
}

/** Registers one webhook per user for `events`, all signed with `secret`. */
export async function registerWebhooks(
  users: FleetUser[],
  target: string,
  secret: string,
  events: WebhookEvent[],
): Promise<void> {
  for (const user of users) {
    const created = await request(user.session.url, "/api/webhooks", {
      token: user.session.token,
      body: { url: target, events, secret },
    });
    if (created.status !== 201) {
      throw new Error(`registering a webhook failed: ${created.status} ${JSON.stringify(created.body)}`);
    }
  }
}
