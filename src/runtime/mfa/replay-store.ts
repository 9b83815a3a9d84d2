/**
 * Replay store: remembers which (user, time step) pairs already let a TOTP
 * code through, so each code is accepted at most once. An interface so a
 * shared store (Redis) can stand in for the in-memory default when several
 * processes verify codes.
 */

export interface ReplayStore {
  /**
   * Atomically records (user, step); resolves true when it was not recorded
   * before (the code may be accepted) and false when it was (a replay).
   * `expiresAt` (Unix seconds) is when the record may be forgotten.
   */
  claim(user: string, step: number, expiresAt: number): Promise<boolean>;
}

/** In-process default; forgets expired records lazily as it is used. */
export class MemoryReplayStore implements ReplayStore {
  readonly #used = new Map<string, number>();
  readonly #now: () => number;
  #claimsSincePrune = 0;

  /** `now` returns Unix seconds; injectable for tests. */
  constructor(now: () => number = () => Date.now() / 1000) {
    this.#now = now;
  }

  async claim(user: string, step: number, expiresAt: number): Promise<boolean> {
    if (++this.#claimsSincePrune >= 1024) this.prune();
    // NUL cannot appear in a step number, so distinct (user, step) pairs never share a key.
    const key = `${step}\u0000${user}`;
    if (this.#used.has(key)) return false;
    this.#used.set(key, expiresAt);
    return true;
  }

  /** Drops records whose expiry has passed. */
  prune(): void {
    this.#claimsSincePrune = 0;
    const now = this.#now();
    for (const [key, expiresAt] of this.#used) if (expiresAt <= now) this.#used.delete(key);
  }

  /** Number of records held (for tests and metrics). */
  get size(): number {
    return this.#used.size;
  }
}
