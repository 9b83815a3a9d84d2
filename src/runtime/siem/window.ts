/**
 * One group's sliding window of event time (spec/LANGUAGE.md section 7) and
 * the conditions over it: `having count`, `having distinct`, `sequence` and
 * `all`. Pure data structures; the detector decides which events get here.
 *
 * Choices where the spec is silent (see also docs in detector.ts):
 * - Windows end at the group's newest event: entries with `newest - t > D`
 *   are evicted, so two events exactly D apart share a window.
 * - Conditions are tested when an event arrives, so `having count < 3`
 *   fires on the first event (Sigma tests `lt` at the window's end instead).
 * - `sequence`: greedy runs over the window in (time, arrival) order, one
 *   from each event that can start one (matchSequence). A step whose count
 *   already holds gives way to the next step when an event matches both.
 *   A step's count is the number of its events from its first to the next
 *   step's first, so `count == 2` / `<` / `<=` / `!=` bound it; the first
 *   step's run may start at any of its events.
 * - `all`: an event goes to the first step (in source order) it matches
 *   whose count does not hold yet, else to the first step it matches.
 */
import type { CompareOp } from "../../parser/ast.js";
import type { ObjectValue, Value } from "../../evaluator/values.js";
import type { GroupKey } from "./group-table.js";

export interface WindowEntry {
  /** Event time, epoch ms. */
  t: number;
  /** Arrival number: breaks ties in time. */
  seq: number;
  event: ObjectValue;
  /** `having distinct`: the key (or keys, from a list) of the distinct values this event carries. */
  values: GroupKey | GroupKey[] | undefined;
  /** `sequence` / `all`: which steps this event matches, bit i for step i. */
  steps: number;
}

export function holds(op: CompareOp, a: number, n: number): boolean {
  switch (op) {
    case "==":
      return a === n;
    case "!=":
      return a !== n;
    case "<":
      return a < n;
    case "<=":
      return a <= n;
    case ">":
      return a > n;
    case ">=":
      return a >= n;
  }
}

/** A group's events inside the window, sorted by (t, seq). */
export class GroupWindow {
  private entries: WindowEntry[] = [];
  private head = 0;
  /** `having distinct`: occurrences of each value in the window (made on first use: most rules count). */
  private distinct: Map<GroupKey, number> | null = null;
  newest = -Infinity;
  /** The GroupTable's stamp of the last update (its queue entry with this stamp is current). */
  stamp = 0;

  constructor(
    readonly key: GroupKey,
    /** The `by` values: one value, or a list for several fields (the alert's group is built when it fires). */
    readonly byValues: Value,
    private readonly withinMs: number,
    /** At most this many events; beyond it the oldest go (counted by the caller). */
    private readonly maxEvents: number,
  ) {}

  get size(): number {
    return this.entries.length - this.head;
  }

  /** Live entries, oldest first. */
  live(): WindowEntry[] {
    return this.entries.slice(this.head);
  }

  /** Adds an event; returns how many of the oldest were dropped for the event cap. */
  add(e: WindowEntry): number {
    const list = this.entries;
    let i = list.length;
    while (i > this.head && (list[i - 1]!.t > e.t || (list[i - 1]!.t === e.t && list[i - 1]!.seq > e.seq))) i--;
    if (i === list.length) list.push(e);
    else list.splice(i, 0, e);
    const vs = e.values;
    if (vs !== undefined) {
      const d = (this.distinct ??= new Map());
      if (Array.isArray(vs)) for (const v of vs) d.set(v, (d.get(v) ?? 0) + 1);
      else d.set(vs, (d.get(vs) ?? 0) + 1);
    }
    if (e.t > this.newest) this.newest = e.t;
    return this.evict();
  }

  /** Drop entries more than D before the newest event (inclusive window), then any over the cap. */
  private evict(): number {
    const list = this.entries;
    const from = this.newest - this.withinMs;
    const over = list.length - this.head - this.maxEvents;
    const capped = over > 0 ? this.head + over : this.head;
    let dropped = 0;
    while (this.head < list.length && (list[this.head]!.t < from || this.head < capped)) {
      if (list[this.head]!.t >= from) dropped++;
      const old = list[this.head]!;
      list[this.head] = undefined as unknown as WindowEntry;
      this.head++;
      const vs = old.values;
      if (vs !== undefined) {
        if (Array.isArray(vs)) for (const v of vs) this.forget(v);
        else this.forget(vs);
      }
    }
    if (this.head > 32 && this.head * 2 > list.length) {
      this.entries = list.slice(this.head);
      this.head = 0;
    }
    return dropped;
  }

  private forget(v: GroupKey): void {
    const d = this.distinct!;
    const n = d.get(v)! - 1;
    if (n <= 0) d.delete(v);
    else d.set(v, n);
  }

  distinctCount(): number {
    return this.distinct === null ? 0 : this.distinct.size;
  }

  /**
   * The events that complete the sequence over the current window, or null.
   * `ns`/`ops` are the step counts; `ordered` is `sequence` vs `all`.
   *
   * A match is a *run* from a start event: ordered, the start fills the first
   * step, and each later event (in (time, arrival) order) moves the run to
   * the next step when the current step's count holds and the event matches
   * the next step, else counts for the current step if it matches it, else is
   * passed over; `all`, every event from the start goes to the first step it
   * matches whose count does not hold yet, else to the first step it
   * matches. The sequence holds at the first event where some run has every
   * count holding (ordered: it is in the last step and that count holds);
   * of the runs complete there, the earliest start gives the alert's events.
   * Every event of the window may start a run, so `count == 2` holds over
   * fail, fail, fail, success (from the second failure). With `>=` / `>`
   * counts only, the earliest start completes first (its counts dominate any
   * later start's), so one run is all it takes.
   */
  matchSequence(ordered: boolean, ops: readonly CompareOp[], ns: readonly number[]): WindowEntry[] | null {
    let monotone = true;
    for (const op of ops) if (op !== ">=" && op !== ">") monotone = false;
    if (monotone) return this.runFrom(this.head, ordered, ops, ns, this.entries.length);
    const end = this.firstCompletion(ordered, ops, ns);
    return end === null ? null : this.runFrom(end.start, ordered, ops, ns, end.at + 1);
  }

  /** The run from `start` (ordered: from the first event of the first step at or after it) over entries before `end`. */
  private runFrom(start: number, ordered: boolean, ops: readonly CompareOp[], ns: readonly number[], end: number): WindowEntry[] | null {
    const k = ops.length;
    const counts = new Array<number>(k).fill(0);
    const ok = (i: number) => counts[i]! >= 1 && holds(ops[i]!, counts[i]!, ns[i]!);
    const used: WindowEntry[] = [];
    const list = this.entries;
    if (ordered) {
      let i = 0;
      for (let j = start; j < end; j++) {
        const e = list[j]!;
        const m = e.steps;
        if (i + 1 < k && ok(i) && (m >> (i + 1)) & 1) {
          i++;
          counts[i] = 1;
          used.push(e);
        } else if ((m >> i) & 1) {
          counts[i]!++;
          used.push(e);
        } else continue;
        if (i === k - 1 && ok(i)) return used;
      }
      return null;
    }
    for (let j = start; j < end; j++) {
      const e = list[j]!;
      const s = allStep(e.steps, k, ok);
      if (s < 0) continue;
      counts[s]!++;
      used.push(e);
      let all = true;
      for (let q = 0; q < k && all; q++) all = ok(q);
      if (all) return used;
    }
    return null;
  }

  /**
   * Every run at once: runs whose states agree (step and counts, each count
   * capped at N + 1, past which no comparison changes) behave alike from
   * then on, so only the earliest start of each state is kept, and one pass
   * over the window costs its length times the number of live states.
   */
  private firstCompletion(ordered: boolean, ops: readonly CompareOp[], ns: readonly number[]): { start: number; at: number } | null {
    const k = ops.length;
    const caps = ns.map((n) => Math.max(1, Math.floor(n) + 1));
    const okAt = (i: number, c: number) => c >= 1 && holds(ops[i]!, c, ns[i]!);
    // A run: its start and state; ordered: [step, count]; all: the counts.
    let runs = new Map<string, { start: number; state: number[] }>();
    const list = this.entries;
    for (let j = this.head; j < list.length; j++) {
      const m = list[j]!.steps;
      const next = new Map<string, { start: number; state: number[] }>();
      const keep = (start: number, state: number[]) => {
        const key = state.join(",");
        const had = next.get(key);
        if (had === undefined || start < had.start) next.set(key, { start, state });
      };
      for (const r of runs.values()) keep(r.start, ordered ? stepOrdered(r.state, m, k, caps, okAt) : stepAll(r.state, m, k, caps, okAt));
      if (ordered ? m & 1 : m !== 0) keep(j, ordered ? [0, 1] : stepAll(new Array<number>(k).fill(0), m, k, caps, okAt));
      let best = -1;
      for (const r of next.values()) {
        const done = ordered ? r.state[0] === k - 1 && okAt(k - 1, r.state[1]!) : r.state.every((c, i) => okAt(i, c));
        if (done && (best < 0 || r.start < best)) best = r.start;
      }
      if (best >= 0) return { start: best, at: j };
      runs = next;
    }
    return null;
  }
}

/** `all`: the step an event with step bits `m` goes to, or -1. */
function allStep(m: number, k: number, ok: (i: number) => boolean): number {
  let pick = -1;
  for (let s = 0; s < k; s++) {
    if (!((m >> s) & 1)) continue;
    if (pick < 0) pick = s;
    if (!ok(s)) return s;
  }
  return pick;
}

/** An ordered run's state [step, count] after an event with step bits `m`. */
function stepOrdered(state: number[], m: number, k: number, caps: readonly number[], okAt: (i: number, c: number) => boolean): number[] {
  const [i, c] = state as [number, number];
  if (i + 1 < k && okAt(i, c) && (m >> (i + 1)) & 1) return [i + 1, 1];
  if ((m >> i) & 1) return [i, Math.min(c + 1, caps[i]!)];
  return state;
}

/** An `all` run's counts after an event with step bits `m`. */
function stepAll(counts: number[], m: number, k: number, caps: readonly number[], okAt: (i: number, c: number) => boolean): number[] {
  const s = allStep(m, k, (i) => okAt(i, counts[i]!));
  if (s < 0) return counts;
  const out = counts.slice();
  out[s] = Math.min(out[s]! + 1, caps[s]!);
  return out;
}
