const KEY = (tokenHash: string) => `dial-group:${tokenHash}`;

/**
 * Whose agent token a dial carries, as far as the connect pacer knows without D1: the user a
 * token's hash was checked to belong to. The pacer groups a dial by it (so users share
 * connects fairly) before the Worker reads the token, so a herd of dials it refuses costs no
 * D1 read. Kept in the pacer's storage, not memory: a deploy restarts the pacer along with the
 * hosts' objects whose agents then all dial again. Only a token the edge issued or D1 confirmed
 * is learnt, so nobody without a valid token adds a key; one is forgotten when its host is deleted or a read
 * finds it no host's (revoked, re-enrolled).
 */
export class DialGroups {
  constructor(private readonly kv: SyncKvStorage) {}

  of(tokenHash: string): string | undefined {
    return this.kv.get<string>(KEY(tokenHash));
  }

  learn(tokenHash: string, userId: string): void {
    this.kv.put(KEY(tokenHash), userId);
  }

  forget(tokenHash: string): void {
    this.kv.delete(KEY(tokenHash));
  }
}
