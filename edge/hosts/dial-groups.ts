/** The group of dials whose token the connect pacer has not seen checked: new hosts, and tokens that are no host's. */
export const UNKNOWN_DIALER = "unknown";

const KEY = (tokenHash: string) => `dial-group:${tokenHash}`;

/**
 * Whose agent token a dial carries, as far as the connect pacer knows without D1: the user a
 * token's hash was last checked to belong to. The pacer groups a dial by it (so users share
 * connects fairly) before the Worker reads the token, and so a herd of dials it refuses costs
 * no D1 read. Kept in the pacer's storage, not memory: a deploy restarts the pacer along with
 * the hosts' objects whose agents then all dial again. A token once checked stays known (a
 * host's token belongs to one user for good; a revoked one is still refused by the read after
 * its turn); one never checked (a new host, or a forged token) is UNKNOWN_DIALER, one group that
 * gets no more than a fair part of the connects however many such dials come.
 */
export class DialGroups {
  constructor(private readonly kv: SyncKvStorage) {}

  of(tokenHash: string): string | undefined {
    return this.kv.get<string>(KEY(tokenHash));
  }

  learn(tokenHash: string, userId: string): void {
    this.kv.put(KEY(tokenHash), userId);
  }
}
