/**
 * The two narrow windows from the evaluator into the runtime's state
 * (DESIGN.md): `risk(id)` and `quarantined(id)`. The evaluator only reads;
 * the runtime (correlation engine `then risk` / `then quarantine`) writes.
 *
 * Choices where the spec is silent:
 * - Both read at the evaluation's `now` (the input's `time`, else the
 *   engine's clock), so an entry that expires at T is visible to a request
 *   at T - 1ms and gone at T; policy tests with a fixed `time` are
 *   deterministic.
 * - A risk score is the sum of the unexpired raises, capped at 100; unknown
 *   ids score 0. A raise is at least 0 (`then risk` raises; the checker and
 *   the snapshot reader refuse less): a negative one would let one alert
 *   cancel another's. A store that answers something that is not a finite number
 *   (or not a boolean, for quarantine) is an evaluation error of the rule
 *   that asked, never a silent 0: the rule fails closed.
 */

/** What the evaluator reads. Implementations must be synchronous and must not throw. */
export interface RiskStore {
  /** Current risk score 0-100 of an entity at `now` (epoch ms); 0 if unknown. */
  risk(id: string, now: number): number;
  /** Whether the entity is quarantined at `now` (epoch ms). */
  quarantined(id: string, now: number): boolean;
}

interface Raise {
  amount: number;
  /** Epoch ms at which the raise lapses; Infinity for no expiry. */
  until: number;
}

/** Raises held per entity at most; beyond it the two that lapse first merge (see `addRaise`). */
export const MAX_RAISES_PER_ENTITY = 64;

export interface MemoryRiskStoreOptions {
  /**
   * The wall clock (epoch ms) of a long-running owner such as the server.
   * With it, entries lapsed by `clock()` are swept from time to time (after
   * as many writes as the last sweep left entities, at least 1,024), so a flood
   * of distinct ids raised `for D` does not grow memory for ever. Without it
   * nothing lapsed is dropped: a CLI run's snapshot keeps every entry, to be
   * read as of its own time.
   */
  clock?: () => number;
}

/**
 * The in-memory default: per-process, no I/O.
 *
 * A raise is never dropped because it lapsed at the time of a later write:
 * that time is an event's, and one event dated in the future would otherwise
 * erase risk that is still in force at the clock. An entity's list is kept
 * short without losing anything a reader can see instead: raises that end
 * together merge, and a raise is dropped once the raises that end no earlier
 * already add up to 100 (wherever it is in force, so are they, and the score
 * is capped). Past MAX_RAISES_PER_ENTITY (only tiny amounts get there) the two
 * that lapse first merge into one ending at the later of the two: the score
 * may read higher for a while, never lower (fail closed).
 */
export class MemoryRiskStore implements RiskStore {
  /** Per entity, sorted by `until`, latest first. */
  private readonly raises = new Map<string, Raise[]>();
  private readonly quarantines = new Map<string, number>();
  private readonly clock: (() => number) | null;
  private writesSinceSweep = 0;
  private nextSweep = 1024;

  constructor(options: MemoryRiskStoreOptions = {}) {
    this.clock = options.clock ?? null;
  }

  /** Raise an entity's risk by `amount` (>= 0) from `now` (ms), for `forMs` (default: until cleared). */
  raise(id: string, amount: number, now: number, forMs?: number): void {
    this.addRaise(id, amount, forMs === undefined ? Infinity : now + forMs);
  }

  /** Quarantine an entity from `now` for `forMs` (default: until released). */
  quarantine(id: string, now: number, forMs?: number): void {
    this.quarantineUntil(id, forMs === undefined ? Infinity : now + forMs);
  }

  /** Raise `id`'s risk by `amount` (>= 0) until the epoch ms `until` (Infinity: until cleared); a snapshot's entries come back this way. */
  raiseUntil(id: string, amount: number, until: number): void {
    this.addRaise(id, amount, until);
  }

  /** Quarantine `id` until the epoch ms `until` (Infinity: until released). */
  quarantineUntil(id: string, until: number): void {
    // NaN would read as "not quarantined" at every time: refused, never stored.
    if (Number.isNaN(until)) throw new RangeError("a quarantine must end at a time (or Infinity)");
    this.quarantines.set(id, Math.max(until, this.quarantines.get(id) ?? -Infinity));
    this.wrote();
  }

  private addRaise(id: string, amount: number, until: number): void {
    // A negative amount would lower the score other raises set, NaN would make it unreadable; the spec only raises.
    if (!(amount >= 0)) throw new RangeError("a risk raise must be a number >= 0");
    if (Number.isNaN(until)) throw new RangeError("a risk raise must end at a time (or Infinity)");
    if (amount === 0) return;
    const list = this.raises.get(id) ?? [];
    let i = 0;
    while (i < list.length && list[i]!.until > until) i++;
    if (i < list.length && list[i]!.until === until) list[i]!.amount += amount;
    else list.splice(i, 0, { amount, until });
    // Drop what can no longer change the score: raises ending no later than ones that reach 100.
    let above = 0;
    for (let j = 0; j < list.length; j++) {
      if (above >= 100) {
        list.length = j;
        break;
      }
      above += list[j]!.amount;
    }
    while (list.length > MAX_RAISES_PER_ENTITY) list[list.length - 2]!.amount += list.pop()!.amount;
    this.raises.set(id, list);
    this.wrote();
  }

  private wrote(): void {
    if (this.clock === null) return;
    // After as many writes as the last sweep left entities (at least 1,024): O(1) a write, and what is
    // held stays under twice what was in force at the last sweep plus 1,024.
    if (++this.writesSinceSweep < this.nextSweep) return;
    this.writesSinceSweep = 0;
    this.sweep(this.clock());
    this.nextSweep = Math.max(1024, this.size);
  }

  /**
   * Drop every entry lapsed at `now` (epoch ms): a reader at `now` or later
   * sees no difference. A reader asking about an earlier time may then see
   * less, so only an owner whose readers ask at its clock should sweep.
   */
  sweep(now: number): void {
    if (!(now === now)) return;
    for (const [id, list] of this.raises) {
      let n = list.length;
      while (n > 0 && !(now < list[n - 1]!.until)) n--;
      if (n === 0) this.raises.delete(id);
      else list.length = n;
    }
    for (const [id, until] of this.quarantines) if (!(now < until)) this.quarantines.delete(id);
  }

  /** Entities holding raises plus entities holding a quarantine (lapsed or not, until swept). */
  get size(): number {
    return this.raises.size + this.quarantines.size;
  }

  /** Every raise and quarantine still in force at `now`, sorted by id (for snapshots). */
  entries(now: number): { raises: { id: string; amount: number; until: number }[]; quarantines: { id: string; until: number }[] } {
    const { raises, quarantines } = this.entriesUnsorted(now);
    const byId = (a: { id: string; until: number }, b: { id: string; until: number }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.until - b.until);
    return { raises: raises.sort(byId), quarantines: quarantines.sort(byId) };
  }

  /**
   * `entries(now)` in no particular order. Sorting is most of the cost (500,000 entries: seconds),
   * which a server saving its state on the event loop does not pay; a file meant to be read by
   * people or compared (`detect --risk-out`) takes `entries`.
   */
  entriesUnsorted(now: number): { raises: { id: string; amount: number; until: number }[]; quarantines: { id: string; until: number }[] } {
    const raises: { id: string; amount: number; until: number }[] = [];
    for (const [id, list] of this.raises) for (const r of list) if (now < r.until) raises.push({ id, amount: r.amount, until: r.until });
    const quarantines: { id: string; until: number }[] = [];
    for (const [id, until] of this.quarantines) if (now < until) quarantines.push({ id, until });
    return { raises, quarantines };
  }

  /**
   * `entriesUnsorted(now)`'s raises, the raises of `size` entities at a time, for a writer that lets
   * other work run between slices (the server's state file). The entities are those holding raises
   * when the first slice is taken (copying their ids is all that is done at once); each is read when
   * its slice is, so one changed meanwhile appears as it is then, or not at all once nothing of it
   * is in force, and never twice.
   */
  *raiseSlices(now: number, size: number): Generator<{ id: string; amount: number; until: number }[]> {
    const ids = [...this.raises.keys()];
    for (let start = 0; start < ids.length; start += size) {
      const slice: { id: string; amount: number; until: number }[] = [];
      for (const id of ids.slice(start, start + size)) {
        for (const r of this.raises.get(id) ?? []) if (now < r.until) slice.push({ id, amount: r.amount, until: r.until });
      }
      yield slice;
    }
  }

  /** `entriesUnsorted(now)`'s quarantines, `size` at a time, read as `raiseSlices` reads raises. */
  *quarantineSlices(now: number, size: number): Generator<{ id: string; until: number }[]> {
    const ids = [...this.quarantines.keys()];
    for (let start = 0; start < ids.length; start += size) {
      const slice: { id: string; until: number }[] = [];
      for (const id of ids.slice(start, start + size)) {
        const until = this.quarantines.get(id);
        if (until !== undefined && now < until) slice.push({ id, until });
      }
      yield slice;
    }
  }

  /** Entities with a raise in force at `now`, and entities quarantined at `now` (for metrics). */
  inForceCounts(now: number): { raised: number; quarantined: number } {
    let raised = 0;
    // Lists are sorted latest end first: one in force if its first is.
    for (const list of this.raises.values()) if (list.length > 0 && now < list[0]!.until) raised++;
    let quarantined = 0;
    for (const until of this.quarantines.values()) if (now < until) quarantined++;
    return { raised, quarantined };
  }

  release(id: string): void {
    this.quarantines.delete(id);
  }

  clear(id: string): void {
    this.raises.delete(id);
  }

  risk(id: string, now: number): number {
    const list = this.raises.get(id);
    if (list === undefined) return 0;
    let total = 0;
    for (const r of list) if (now < r.until) total += r.amount;
    return Math.max(0, Math.min(100, total));
  }

  quarantined(id: string, now: number): boolean {
    const until = this.quarantines.get(id);
    return until !== undefined && now < until;
  }
}

/** A store that knows nothing: every risk is 0, nobody is quarantined. */
export const EMPTY_RISK_STORE: RiskStore = {
  risk: () => 0,
  quarantined: () => false,
};
