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
 *   ids score 0. A store that answers something that is not a finite number
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

/** The in-memory default: per-process, no I/O. */
export class MemoryRiskStore implements RiskStore {
  private readonly raises = new Map<string, Raise[]>();
  private readonly quarantines = new Map<string, number>();

  /**
   * Raise an entity's risk by `amount` from `now` (ms), for `forMs` (default: until cleared).
   * The entity's raises that lapsed by `now` are dropped, so an entity raised again and again
   * over an endless event stream holds only its live raises.
   */
  raise(id: string, amount: number, now: number, forMs?: number): void {
    const list = (this.raises.get(id) ?? []).filter((r) => r.until > now);
    list.push({ amount, until: forMs === undefined ? Infinity : now + forMs });
    this.raises.set(id, list);
  }

  /** Quarantine an entity from `now` for `forMs` (default: until released). */
  quarantine(id: string, now: number, forMs?: number): void {
    const until = forMs === undefined ? Infinity : now + forMs;
    this.quarantines.set(id, Math.max(until, this.quarantines.get(id) ?? -Infinity));
  }

  /** Raise `id`'s risk by `amount` until the epoch ms `until` (Infinity: until cleared); a snapshot's entries come back this way. */
  raiseUntil(id: string, amount: number, until: number): void {
    const list = this.raises.get(id) ?? [];
    list.push({ amount, until });
    this.raises.set(id, list);
  }

  /** Quarantine `id` until the epoch ms `until` (Infinity: until released). */
  quarantineUntil(id: string, until: number): void {
    this.quarantines.set(id, Math.max(until, this.quarantines.get(id) ?? -Infinity));
  }

  /** Every raise and quarantine still in force at `now`, sorted by id (for snapshots). */
  entries(now: number): { raises: { id: string; amount: number; until: number }[]; quarantines: { id: string; until: number }[] } {
    const raises: { id: string; amount: number; until: number }[] = [];
    for (const [id, list] of this.raises) for (const r of list) if (now < r.until) raises.push({ id, amount: r.amount, until: r.until });
    const quarantines: { id: string; until: number }[] = [];
    for (const [id, until] of this.quarantines) if (now < until) quarantines.push({ id, until });
    const byId = (a: { id: string; until: number }, b: { id: string; until: number }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.until - b.until);
    return { raises: raises.sort(byId), quarantines: quarantines.sort(byId) };
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
