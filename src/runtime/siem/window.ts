/**
 * The conditions over one group's sliding window of event time
 * (spec/LANGUAGE.md section 7): `having` comparisons, `sequence` and `all`.
 * Pure functions over the window's step bits in (time, arrival) order; the
 * windows themselves are kept by group-table.ts.
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

/**
 * The positions (in window order) of the events that complete the sequence
 * over a window whose events match the steps `steps[0..n)` (bit i for step
 * i), or null. `ns`/`ops` are the step counts; `ordered` is `sequence` vs
 * `all`.
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
export function matchSequence(steps: ArrayLike<number>, n: number, ordered: boolean, ops: readonly CompareOp[], ns: readonly number[]): number[] | null {
  let monotone = true;
  for (let i = 0; i < ops.length; i++) if (ops[i] !== ">=" && ops[i] !== ">") monotone = false;
  if (monotone) return runFrom(steps, 0, n, ordered, ops, ns);
  const end = firstCompletion(steps, n, ordered, ops, ns);
  return end === null ? null : runFrom(steps, end.start, end.at + 1, ordered, ops, ns);
}

/** The run from `start` (ordered: from the first event of the first step at or after it) over the positions before `end`. */
function runFrom(steps: ArrayLike<number>, start: number, end: number, ordered: boolean, ops: readonly CompareOp[], ns: readonly number[]): number[] | null {
  const k = ops.length;
  // Called for every event of a sequence's last step: plain loops, no closure per call.
  const counts = new Array<number>(k).fill(0);
  const used: number[] = [];
  if (ordered) {
    let i = 0;
    for (let j = start; j < end; j++) {
      const m = steps[j]!;
      if (i + 1 < k && countHolds(ops, ns, i, counts[i]!) && (m >> (i + 1)) & 1) {
        i++;
        counts[i] = 1;
        used.push(j);
      } else if ((m >> i) & 1) {
        counts[i]!++;
        used.push(j);
      } else continue;
      if (i === k - 1 && countHolds(ops, ns, i, counts[i]!)) return used;
    }
    return null;
  }
  for (let j = start; j < end; j++) {
    const s = allStepOf(steps[j]!, k, ops, ns, counts);
    if (s < 0) continue;
    counts[s]!++;
    used.push(j);
    let all = true;
    for (let q = 0; q < k && all; q++) all = countHolds(ops, ns, q, counts[q]!);
    if (all) return used;
  }
  return null;
}

/** Whether step `i`'s count `c` holds (a step needs at least one event). */
function countHolds(ops: readonly CompareOp[], ns: readonly number[], i: number, c: number): boolean {
  return c >= 1 && holds(ops[i]!, c, ns[i]!);
}

/**
 * `all`: the step an event with step bits `m` goes to given the run's
 * `counts` (the first step it matches whose count does not hold yet, else
 * the first it matches), or -1.
 */
function allStepOf(m: number, k: number, ops: readonly CompareOp[], ns: readonly number[], counts: readonly number[]): number {
  let pick = -1;
  for (let s = 0; s < k; s++) {
    if (!((m >> s) & 1)) continue;
    if (pick < 0) pick = s;
    if (!countHolds(ops, ns, s, counts[s]!)) return s;
  }
  return pick;
}

/**
 * Every run at once: runs whose states agree (step and counts, each count
 * capped at N + 1, past which no comparison changes) behave alike from
 * then on, so only the earliest start of each state is kept, and one pass
 * over the window costs its length times the number of live states.
 */
function firstCompletion(steps: ArrayLike<number>, n: number, ordered: boolean, ops: readonly CompareOp[], ns: readonly number[]): { start: number; at: number } | null {
  const k = ops.length;
  const caps = ns.map((n) => Math.max(1, Math.floor(n) + 1));
  const okAt = (i: number, c: number) => c >= 1 && holds(ops[i]!, c, ns[i]!);
  // A run: its start and state; ordered: [step, count]; all: the counts.
  let runs = new Map<string, { start: number; state: number[] }>();
  for (let j = 0; j < n; j++) {
    const m = steps[j]!;
    const next = new Map<string, { start: number; state: number[] }>();
    const keep = (start: number, state: number[]) => {
      const key = state.join(",");
      const had = next.get(key);
      if (had === undefined || start < had.start) next.set(key, { start, state });
    };
    for (const r of runs.values()) keep(r.start, ordered ? stepOrdered(r.state, m, k, caps, okAt) : stepAll(r.state, m, k, caps, ops, ns));
    if (ordered ? m & 1 : m !== 0) keep(j, ordered ? [0, 1] : stepAll(new Array<number>(k).fill(0), m, k, caps, ops, ns));
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

/** An ordered run's state [step, count] after an event with step bits `m`. */
function stepOrdered(state: number[], m: number, k: number, caps: readonly number[], okAt: (i: number, c: number) => boolean): number[] {
  const [i, c] = state as [number, number];
  if (i + 1 < k && okAt(i, c) && (m >> (i + 1)) & 1) return [i + 1, 1];
  if ((m >> i) & 1) return [i, Math.min(c + 1, caps[i]!)];
  return state;
}

/** An `all` run's counts after an event with step bits `m`. */
function stepAll(counts: number[], m: number, k: number, caps: readonly number[], ops: readonly CompareOp[], ns: readonly number[]): number[] {
  const s = allStepOf(m, k, ops, ns, counts);
  if (s < 0) return counts;
  const out = counts.slice();
  out[s] = Math.min(out[s]! + 1, caps[s]!);
  return out;
}

/** A rule's sequence, for SequenceRuns: the step counts and their caps, worked out once. */
export class SequencePlan {
  readonly k: number;
  readonly caps: number[];
  readonly okAt: (i: number, c: number) => boolean;

  constructor(
    readonly ordered: boolean,
    readonly ops: readonly CompareOp[],
    readonly ns: readonly number[],
  ) {
    this.k = ops.length;
    this.caps = ns.map((n) => Math.max(1, Math.floor(n) + 1));
    this.okAt = (i, c) => c >= 1 && holds(ops[i]!, c, ns[i]!);
  }

  /** A run's state after an event with step bits `m`. */
  step(state: number[], m: number): number[] {
    return this.ordered ? stepOrdered(state, m, this.k, this.caps, this.okAt) : stepAll(state, m, this.k, this.caps, this.ops, this.ns);
  }

  /** The state of a run that an event with step bits `m` starts, or null when it starts none. */
  start(m: number): number[] | null {
    if (this.ordered) return m & 1 ? [0, 1] : null;
    return m === 0 ? null : stepAll(new Array<number>(this.k).fill(0), m, this.k, this.caps, this.ops, this.ns);
  }

  complete(state: number[]): boolean {
    return this.ordered ? state[0] === this.k - 1 && this.okAt(this.k - 1, state[1]!) : state.every((c, i) => this.okAt(i, c));
  }

  /** Empty runs for one group's window: OrderedRuns for `sequence`, SequenceRuns for `all`. */
  newRuns(): Runs {
    return this.ordered ? new OrderedRuns(this) : new SequenceRuns(this);
  }
}

/** A group's live runs (SequenceRuns, OrderedRuns). */
export interface Runs {
  /**
   * An event with step bits `m` appended at window position (t, seq), the
   * window now starting at (headT, headSeq). True when some run is complete.
   */
  push(m: number, t: number, seq: number, headT: number, headSeq: number): boolean;
  /** Live run states (for tests: what an event costs). */
  readonly size: number;
}

/**
 * The live runs of one group's window (matchSequence), advanced as events
 * are appended, so an event costs the number of distinct run states (at
 * most the sum, for `all` the product, of the count caps, and at most the
 * window's length) instead of a pass over the whole window times that.
 * Runs in the same state behave alike from then on; of those, the one that
 * started last is kept, as it leaves the window last. A run whose start has
 * left the window (evicted from the front) is dropped. Whether some run is
 * complete is all this tells: which events the alert names is worked out
 * by matchSequence once, when it fires.
 *
 * Appends only: an event placed before others (late, within the allowed
 * lateness) changes every run after it, and the caller starts over with
 * `rebuild`.
 */
export class SequenceRuns implements Runs {
  /** State key → the run in that state that started last: its start's window position (time, arrival) and state. */
  private runs = new Map<string, { t: number; seq: number; state: number[] }>();

  constructor(private readonly plan: SequencePlan) {}

  /**
   * An event with step bits `m` appended at window position (t, seq), the
   * window now starting at (headT, headSeq). True when some run is complete.
   */
  push(m: number, t: number, seq: number, headT: number, headSeq: number): boolean {
    const plan = this.plan;
    const next = new Map<string, { t: number; seq: number; state: number[] }>();
    let done = false;
    const keep = (rt: number, rseq: number, state: number[]) => {
      const key = state.join(",");
      const had = next.get(key);
      if (had === undefined || rt > had.t || (rt === had.t && rseq > had.seq)) next.set(key, { t: rt, seq: rseq, state });
      if (!done && plan.complete(state)) done = true;
    };
    for (const r of this.runs.values()) {
      if (r.t < headT || (r.t === headT && r.seq < headSeq)) continue; // its start has left the window
      keep(r.t, r.seq, m === 0 ? r.state : plan.step(r.state, m));
    }
    const started = plan.start(m);
    if (started !== null) keep(t, seq, started);
    this.runs = next;
    return done;
  }

  /** Live run states (for tests: what an event costs). */
  get size(): number {
    return this.runs.size;
  }
}

/** Up to this many runs, OrderedRuns finds a run's state by looking through them; past it, by a Map. */
const LINEAR_RUNS = 16;
/** OrderedRuns keeps each run as four numbers: step, count, and its start's time and arrival. */
const R = 4;

/**
 * SequenceRuns for an ordered `sequence`, without an allocation per event
 * (most events of a sequence rule's stream reach it: one join per event):
 * a run is the numbers (step i, count c, start time, start arrival) in one
 * array, and the next runs are written over the old ones in place (each old
 * run gives at most one new one, so a write never passes the read). Same
 * runs, same answers as SequenceRuns over the plan's stepOrdered.
 */
export class OrderedRuns implements Runs {
  private runs: number[] = [];
  /** State key (c * k + i) → run index, for windows with many live runs. */
  private index: Map<number, number> | null = null;

  constructor(private readonly plan: SequencePlan) {}

  get size(): number {
    return this.runs.length / R;
  }

  push(m: number, t: number, seq: number, headT: number, headSeq: number): boolean {
    const { k, caps, okAt } = this.plan;
    const runs = this.runs;
    const n = runs.length;
    const index = n / R >= LINEAR_RUNS ? (this.index ??= new Map()) : null;
    index?.clear();
    let w = 0;
    for (let r = 0; r < n; r += R) {
      const rt = runs[r + 2]!;
      const rq = runs[r + 3]!;
      if (rt < headT || (rt === headT && rq < headSeq)) continue; // its start has left the window
      let i = runs[r]!;
      let c = runs[r + 1]!;
      if (i + 1 < k && okAt(i, c) && (m >> (i + 1)) & 1) {
        i++;
        c = 1;
      } else if ((m >> i) & 1) c = Math.min(c + 1, caps[i]!);
      w = this.keep(w, i, c, rt, rq, index);
    }
    if (m & 1) w = this.keep(w, 0, 1, t, seq, index);
    runs.length = w;
    for (let q = 0; q < w; q += R) if (runs[q] === k - 1 && okAt(k - 1, runs[q + 1]!)) return true;
    return false;
  }

  /** Keeps run (i, c) started at (rt, rq) among the `w` numbers written so far: of two in one state, the later start. */
  private keep(w: number, i: number, c: number, rt: number, rq: number, index: Map<number, number> | null): number {
    const runs = this.runs;
    let at = -1;
    if (index !== null) at = index.get(c * this.plan.k + i) ?? -1;
    else {
      for (let q = 0; q < w; q += R) {
        if (runs[q] === i && runs[q + 1] === c) {
          at = q;
          break;
        }
      }
    }
    if (at >= 0) {
      if (rt > runs[at + 2]! || (rt === runs[at + 2]! && rq > runs[at + 3]!)) {
        runs[at + 2] = rt;
        runs[at + 3] = rq;
      }
      return w;
    }
    runs[w] = i;
    runs[w + 1] = c;
    runs[w + 2] = rt;
    runs[w + 3] = rq;
    index?.set(c * this.plan.k + i, w);
    return w + R;
  }
}
