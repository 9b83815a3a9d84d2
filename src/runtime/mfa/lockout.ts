/**
 * Lockout after repeated MFA failures, with exponential back-off.
 *
 * Choices where the issue is silent:
 * - A user is locked once `maxFailures` consecutive failures are recorded;
 *   the lock lasts `baseLockMs`, doubling with every further failure after
 *   it expires (the counter is not reset by the lock ending), capped at
 *   `maxLockMs`. A success resets the counter.
 * - Attempts made while locked are refused without looking at the code and
 *   do not count (so a locked user's own retries never lengthen the lock).
 * - A counter with no new failure for `forgetAfterMs` (default 24 h) starts
 *   over; that is also when a store may drop the record.
 * - Times are milliseconds since the Unix epoch (the service's clock). A
 *   lock found with more than `maxLockMs` left was set by a clock ahead of
 *   this one (a clock stepped back, another machine's): it is cut to end
 *   `maxLockMs` from now rather than hold for the whole jump. A clock
 *   stepped forward ends locks and forgets counters early; the wall clock
 *   cannot tell that from time passing.
 */
import { refuseUnknownOptions } from "../option-keys.js";

export interface LockoutPolicy {
  /** Consecutive failures that lock the user (default 5). */
  readonly maxFailures: number;
  /** First lock's length in ms (default 60 s). */
  readonly baseLockMs: number;
  /** Longest lock in ms (default 1 h). */
  readonly maxLockMs: number;
  /** A counter idle this long (ms) starts over (default 24 h). */
  readonly forgetAfterMs?: number;
}

export const DEFAULT_LOCKOUT_POLICY: Required<LockoutPolicy> = {
  maxFailures: 5,
  baseLockMs: 60_000,
  maxLockMs: 3_600_000,
  forgetAfterMs: 86_400_000,
};

/** One user's record. */
export interface LockoutState {
  /** Consecutive failures so far. */
  readonly failures: number;
  /** Locked while the clock is before this (ms); 0 when never locked. */
  readonly lockedUntil: number;
  /** When the last failure happened (ms). */
  readonly lastFailureAt: number;
  /** After this (ms) the record means nothing and a store may forget it. */
  readonly forgetAt: number;
}

/**
 * Where lockout records live. An interface so a shared store (Redis) can
 * replace the in-memory default when several processes verify codes.
 */
export interface LockoutStore {
  get(user: string): Promise<LockoutState | undefined>;
  /**
   * Atomically replaces the user's record with `change(current)`;
   * `undefined` deletes it. Resolves to the record stored.
   */
  update(user: string, change: (current: LockoutState | undefined) => LockoutState | undefined): Promise<LockoutState | undefined>;
}

/**
 * The longest lock or memory a policy may ask for: 100 years. Lock ends are times (events
 * carry them as ISO dates, Retry-After as whole seconds); now + 1e300 ms is not one.
 */
export const MAX_LOCKOUT_MS = 100 * 365.25 * 86_400_000;

/** Checks a policy's numbers; throws RangeError on nonsense (a configuration error). */
export function lockoutPolicy(policy: Partial<LockoutPolicy> = {}): Required<LockoutPolicy> {
  refuseUnknownOptions("lockoutPolicy", policy, Object.keys(DEFAULT_LOCKOUT_POLICY));
  const p = { ...DEFAULT_LOCKOUT_POLICY, ...policy };
  if (!Number.isInteger(p.maxFailures) || p.maxFailures < 1) throw new RangeError("lockout maxFailures must be an integer of at least 1");
  for (const key of ["baseLockMs", "maxLockMs", "forgetAfterMs"] as const) {
    if (!Number.isFinite(p[key]) || p[key] < 0 || p[key] > MAX_LOCKOUT_MS) throw new RangeError(`lockout ${key} must be a number of ms from 0 to 100 years`);
  }
  if (p.maxLockMs < p.baseLockMs) throw new RangeError("lockout maxLockMs must be at least baseLockMs");
  return p;
}

/** Milliseconds the user stays locked at `now`; 0 when not locked. */
export function lockRemainingMs(state: LockoutState | undefined, now: number): number {
  if (state === undefined || state.forgetAt <= now) return 0;
  return Math.max(0, state.lockedUntil - now);
}

/** The record after one more failure at `now` (pure). */
export function afterFailure(state: LockoutState | undefined, now: number, policy: Required<LockoutPolicy>): LockoutState {
  const previous = state === undefined || state.forgetAt <= now ? 0 : state.failures;
  const failures = previous + 1;
  let lockedUntil = state !== undefined && state.forgetAt > now ? state.lockedUntil : 0;
  if (failures >= policy.maxFailures) {
    // 2^30 already exceeds any sane cap; the exponent bound keeps the number finite.
    const doublings = Math.min(30, failures - policy.maxFailures);
    lockedUntil = now + Math.min(policy.maxLockMs, policy.baseLockMs * 2 ** doublings);
  }
  return { failures, lockedUntil, lastFailureAt: now, forgetAt: Math.max(lockedUntil, now + policy.forgetAfterMs) };
}

/**
 * One verification attempt begins at `now`: when the user is locked, the
 * record is left as it is (`locked: true`, the attempt is refused without
 * looking at the code and does not count). Otherwise the attempt is counted
 * as a failure up front (`state`), so that attempts racing in parallel
 * processes all count and the lock engages after `maxFailures` of them
 * however they interleave; a success then clears the record. `lockedNow`
 * says this attempt's failure is the one that (re)starts a lock.
 */
export function beginAttempt(
  state: LockoutState | undefined,
  now: number,
  policy: Required<LockoutPolicy>,
): { state: LockoutState | undefined; locked: boolean; lockedNow: boolean } {
  const remaining = lockRemainingMs(state, now);
  if (remaining > policy.maxLockMs) {
    // No lock is longer than maxLockMs, so this one was set by a clock ahead of ours (ours was set
    // back, or another machine's ran ahead): it would hold for the whole jump, days or years.
    // Still locked, but to end at most maxLockMs from now, on this clock.
    const lockedUntil = now + policy.maxLockMs;
    return { state: { ...state!, lockedUntil, forgetAt: Math.max(lockedUntil, now + policy.forgetAfterMs) }, locked: true, lockedNow: false };
  }
  if (remaining > 0) return { state, locked: true, lockedNow: false };
  const next = afterFailure(state, now, policy);
  return { state: next, locked: false, lockedNow: next.lockedUntil > now };
}

/**
 * In-process default; drops records past their `forgetAt` lazily as it is used
 * (a walk over every record after each 1,024 updates).
 * With `maxRecords`, a new record beyond that many evicts the least recently
 * updated one first (an eviction is counted unless that record was past its
 * `forgetAt`): for records of names anyone may make up (MfaVerifier
 * `unenrolledLockout`), never for enrolled users, whose locks must not be evicted.
 */
export class MemoryLockoutStore implements LockoutStore {
  readonly #records = new Map<string, LockoutState>();
  readonly #now: () => number;
  readonly #maxRecords: number;
  #updatesSincePrune = 0;
  #evictions = 0;
  /** Where eviction goes on from: the least recently updated record (see `update`). */
  #oldest: MapIterator<[string, LockoutState]> = this.#records.entries();

  /** `now` returns ms since the epoch; injectable for tests. */
  constructor(now: () => number = Date.now, options: { maxRecords?: number } = {}) {
    this.#now = now;
    const max = options.maxRecords ?? Infinity;
    if (!(max === Infinity || (Number.isInteger(max) && max >= 1))) throw new RangeError("maxRecords must be an integer of at least 1");
    this.#maxRecords = max;
  }

  async get(user: string): Promise<LockoutState | undefined> {
    return this.#records.get(user);
  }

  async update(user: string, change: (current: LockoutState | undefined) => LockoutState | undefined): Promise<LockoutState | undefined> {
    if (++this.#updatesSincePrune >= 1024) this.prune();
    // Synchronous between read and write: no other update can interleave.
    const next = change(this.#records.get(user));
    if (next === undefined) this.#records.delete(user);
    else if (this.#maxRecords === Infinity) this.#records.set(user, next);
    else {
      // Re-inserted on every update, so the Map's insertion order is least recently updated first.
      if (!this.#records.delete(user) && this.#records.size >= this.#maxRecords) {
        // Full: the first in the Map's order goes. Not a prune, which walks every record: at the cap
        // that was a walk of 100,000 records for every new name, and made-up names went through
        // the server's MFA route 213 a second. Nor a new iterator each time: it starts at the
        // front and steps over every entry deleted there since the table was last rebuilt (4,500
        // evictions a second after 200,000). The one kept goes forward, past each deleted entry once;
        // every entry behind it was evicted, and a record updated again moved after it.
        let next = this.#oldest.next();
        if (next.done === true) {
          this.#oldest = this.#records.entries();
          next = this.#oldest.next();
        }
        const [oldest, state] = next.value as [string, LockoutState];
        this.#records.delete(oldest);
        if (state.forgetAt > this.#now()) this.#evictions++;
      }
      this.#records.set(user, next);
    }
    return next;
  }

  /** Drops records whose `forgetAt` has passed. */
  prune(): void {
    this.#updatesSincePrune = 0;
    const now = this.#now();
    for (const [user, state] of this.#records) if (state.forgetAt <= now) this.#records.delete(user);
  }

  /** Number of records held (for tests and metrics). */
  get size(): number {
    return this.#records.size;
  }

  /** Records still in force dropped to stay within `maxRecords`, since the store was made. */
  get evictions(): number {
    return this.#evictions;
  }
}
