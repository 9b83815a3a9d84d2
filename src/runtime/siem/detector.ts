/**
 * The correlation engine's pure core (spec/LANGUAGE.md section 7): events in,
 * alerts out, risk and quarantine written to the injected store. No I/O; the
 * CLI and services feed it.
 *
 * Choices where the spec is silent:
 * - An event must be a JSON object with an RFC 3339 `@timestamp`; anything
 *   else is malformed: counted, reported (by its push number) and skipped.
 * - A condition that errors does not match. An error about a missing
 *   attribute counts as "lacks a field" for that rule; other errors (types)
 *   are counted apart. An event lacking a `by` field (absent or null:
 *   nothing is grouped under null), or the `distinct` field, takes no part
 *   in the rule and is counted. A `by` or `distinct`
 *   value nested too deep to key (nesting.ts), or a rule that throws (a
 *   comparison of two such values overflows the stack), counts as the rule's
 *   error; push still never throws.
 * - Alerts are raised as events arrive; `flush()` ends the stream (drops
 *   every window) and has nothing pending to return, because no condition
 *   waits for a window to close.
 * - `group` keys are the `by` fields' source text (`"user.name"`); `rule` is
 *   the rule's name as written (tests name alerts that way); times in the
 *   alert are RFC 3339 UTC with milliseconds.
 * - `then risk` / `then quarantine` run at the alert's `last_seen` (event
 *   time), so expiry is in event time, and read their target from the event
 *   that completed the alert. A target that is not a string or number is
 *   counted as an error and skipped.
 * - Memory: windows evict by event time; groups idle for longer than their
 *   window are swept; at most `maxGroupsPerRule` live groups per rule, the
 *   least recently updated evicted first (counted); at most
 *   `maxEventsPerGroup` events in a group's window, the oldest dropped first
 *   (counted). A `having count OP N` window always keeps N + 1, which is all
 *   it can need, so only `distinct` and sequences can lose events to the cap,
 *   and only in groups that see that many events within one window (or in a
 *   sequence without `by ... within`, whose window is unbounded).
 */
import type { PolicyFile, Severity } from "../../parser/ast.js";
import { EvalContext } from "../../evaluator/context.js";
import type { Eval } from "../../evaluator/compile-expr.js";
import { MemoryRiskStore, type RiskStore } from "../../evaluator/stores.js";
import { formatInstant } from "../../evaluator/time.js";
import { eventTimeMs } from "./event-time.js";
import { EvalError, isObject, toJson, type ObjectValue, type Result, type Value } from "../../evaluator/values.js";
import { compileDetectRules, type CompiledDetectRule } from "./compile-detect.js";
import { holds, matchSequence, SequencePlan } from "./window.js";
import { DetectRuleIndex, type Candidates } from "./rule-index.js";
import { GroupKeys, GroupTable, canonicalJson, singleKey, type DistinctValues, type GroupKey, type UsedEvents } from "./group-table.js";
import { refuseUnknownOptions } from "../option-keys.js";

/** An alert (spec section 7). */
export interface Alert {
  rule: string;
  severity: Severity;
  group: Record<string, unknown>;
  first_seen: string;
  last_seen: string;
  count: number;
  /** The first events of the alert, at most 10. */
  events: unknown[];
  tags: string[];
}

/** What `then risk` / `then quarantine` write to (MemoryRiskStore is one). */
export interface RiskSink {
  raise(id: string, amount: number, now: number, forMs?: number): void;
  quarantine(id: string, now: number, forMs?: number): void;
}

export interface DetectorOptions {
  /** Read by `risk()` / `quarantined()` inside detect, written by `then`. Default: a new MemoryRiskStore. */
  risk?: RiskStore & RiskSink;
  /** How far (ms) behind the newest event time an event may arrive and still be grouped (default 0). */
  allowedLatenessMs?: number;
  /**
   * Refuse events dated more than this many ms after `clock()` (default: no limit, as a replay of
   * old logs needs). Such an event is malformed: it joins no window and does not move the
   * watermark, which would make every later event late and so keep it out of every
   * `by ... within` rule (one forged `@timestamp` would blind them). A live service sets it.
   */
  maxFutureMs?: number;
  /** Epoch ms, read per event only when `maxFutureMs` is set (default Date.now). */
  clock?: () => number;
  /** Cap on live groups per rule (default 100,000). */
  maxGroupsPerRule?: number;
  /** Cap on the events in one group's window (default 10,000; a `having count` rule keeps at least its threshold + 1). */
  maxEventsPerGroup?: number;
  /** Called for every malformed or late event (stats keep only the first 100), e.g. to name its input line. */
  onProblem?: (problem: StreamProblem) => void;
  /**
   * Run each event only against the rules that can match it (default true).
   * Never changes alerts or stats; false is the naive baseline for tests
   * and benchmarks.
   */
  index?: boolean;
}

/** The names DetectorOptions has: any other is a TypeError (a misspelt `risk` would write alerts' raises where no decision reads them). */
const DETECTOR_OPTION_KEYS: readonly (keyof DetectorOptions)[] = [
  "risk",
  "allowedLatenessMs",
  "maxFutureMs",
  "clock",
  "maxGroupsPerRule",
  "maxEventsPerGroup",
  "onProblem",
  "index",
];

export interface RuleStats {
  matched: number;
  /** Events that lacked a field the rule reads (where, by, distinct). */
  missingField: number;
  /** Conditions that errored for another reason (a type error). */
  errors: number;
  /** Groups evicted by the cap. */
  evictedGroups: number;
  /** Events dropped from a window by the per-group event cap. */
  evictedEvents: number;
  alerts: number;
  /** Groups holding a window now (at the `stats()` call). */
  liveGroups: number;
}

export interface StreamProblem {
  /** 1-based number of the push that brought the event. */
  index: number;
  kind: "malformed" | "late";
  message: string;
}

export interface DetectorStats {
  events: number;
  malformed: number;
  late: number;
  alerts: number;
  rules: Record<string, RuleStats>;
  /** The first problems (at most 100); the counts above are complete. */
  problems: StreamProblem[];
  /** Rules that cannot run (a non-constant threshold, ...), by id. */
  ruleProblems: Record<string, string[]>;
}

export interface Detector {
  /** Feed one event; the alerts it completes. Never throws. */
  push(event: unknown): Alert[];
  /** End of stream: drops all windows. */
  flush(): Alert[];
  stats(): DetectorStats;
}

const MAX_PROBLEMS = 100;
const NO_CLOCK = (): number => NaN;
const MAX_ALERT_EVENTS = 10;
const SWEEP_EVERY = 1024;
/**
 * An ordered sequence with monotone counts keeps its runs (window.ts SequenceRuns: an event costs
 * the live run states) up to this many states; past it, only its last step's events take a pass
 * over the window, and the rest cost nothing.
 */
const MAX_MONOTONE_RUN_STATES = 64;
/** What push reads in place of `@timestamp` from an event that is not an object, or cannot be read. */
const NOT_AN_OBJECT = Symbol("not an object");

interface RuleState {
  rule: CompiledDetectRule;
  stats: RuleStats;
  groups: GroupTable;
  /** Needs windows (having or sequence). */
  correlates: boolean;
  /** Keeps late events out: a correlation over `by ... within` windows (one without has an unbounded window, which a late event still fits). */
  dropsLate: boolean;
  stepFns: Eval[];
  /** The rule's sequence over a window's step bits (window.ts matchSequence). */
  match: (steps: readonly number[], n: number) => number[] | null;
  /** Ordered, every step count `>=` / `>`, many run states: only an event of the last step can complete the sequence. */
  lastStepOnly: boolean;
  /** Any other sequence: its runs are advanced event by event (window.ts SequenceRuns). */
  plan: SequencePlan | null;
}

class CorrelationDetector implements Detector {
  private readonly states: RuleState[];
  private readonly index: DetectRuleIndex<RuleState> | null;
  /** Without the index: every rule, nothing known. */
  private readonly everyRule: Candidates<RuleState>;
  private readonly store: RiskStore & RiskSink;
  private readonly onProblem: ((problem: StreamProblem) => void) | null;
  private readonly lateness: number;
  private readonly maxFutureMs: number;
  private readonly clock: () => number;
  private readonly cap: number;
  private readonly st: DetectorStats;
  private watermark = -Infinity;
  private seq = 0;
  /** Reset for each event (nothing keeps it past push). The context's time is the event's, so its clock is never read. */
  private readonly ctx: EvalContext;
  /** Group keys, numbered once for every rule. */
  private readonly groupKeys = new GroupKeys();

  constructor(rules: readonly CompiledDetectRule[], options: DetectorOptions) {
    refuseUnknownOptions("detector", options, DETECTOR_OPTION_KEYS);
    this.store = options.risk ?? new MemoryRiskStore();
    this.ctx = new EvalContext({}, NaN, NO_CLOCK, this.store);
    this.onProblem = options.onProblem ?? null;
    this.lateness = Math.max(0, options.allowedLatenessMs ?? 0);
    this.maxFutureMs = options.maxFutureMs ?? Infinity;
    this.clock = options.clock ?? Date.now;
    this.cap = Math.max(1, options.maxGroupsPerRule ?? 100_000);
    const maxEvents = Math.max(1, options.maxEventsPerGroup ?? 10_000);
    this.st = { events: 0, malformed: 0, late: 0, alerts: 0, rules: {}, problems: [], ruleProblems: {} };
    this.states = [];
    for (const rule of rules) {
      const stats: RuleStats = { matched: 0, missingField: 0, errors: 0, evictedGroups: 0, evictedEvents: 0, alerts: 0, liveGroups: 0 };
      this.st.rules[rule.id] = stats;
      if (rule.problems.length > 0) {
        this.st.ruleProblems[rule.id] = rule.problems;
        continue;
      }
      const steps = rule.sequence?.steps ?? [];
      // `count OP N` never needs more than N + 1 events.
      const cap = rule.having?.aggregate === "count" && Number.isFinite(rule.having.n) ? Math.max(maxEvents, rule.having.n + 1) : maxEvents;
      const ops = steps.map((s) => s.op);
      const ns = steps.map((s) => s.n);
      const ordered = rule.sequence?.ordered ?? true;
      // Ordered with monotone counts and many run states (`count >= 1000`): only an event of the last
      // step can complete it, and only those take a pass over the window; any other sequence keeps its runs.
      const lastStepOnly =
        rule.sequence !== null &&
        rule.sequence.ordered &&
        steps.every((s) => s.op === ">=" || s.op === ">") &&
        ns.reduce((sum, n) => sum + Math.max(1, Math.floor(n) + 1), 0) > MAX_MONOTONE_RUN_STATES;
      this.states.push({
        rule,
        stats,
        groups: new GroupTable(this.groupKeys, rule.withinMs, cap),
        correlates: rule.having !== null || rule.sequence !== null,
        dropsLate: (rule.having !== null || rule.sequence !== null) && rule.withinMs !== Infinity,
        stepFns: steps.map((s) => s.fn),
        match: (bits, n) => matchSequence(bits, n, ordered, ops, ns),
        lastStepOnly,
        plan: rule.sequence !== null && !lastStepOnly ? new SequencePlan(ordered, ops, ns) : null,
      });
    }
    this.index = options.index === false ? null : new DetectRuleIndex(this.states, this.states.map((s) => s.rule.index));
    this.everyRule = { rules: this.states, known: this.states.map(() => 0), missing: [] };
  }

  stats(): DetectorStats {
    for (const s of this.states) s.stats.liveGroups = s.groups.size;
    return this.st;
  }

  private problem(kind: StreamProblem["kind"], message: () => string): void {
    // Built only when someone will read it: a replayed log can make every event late.
    if (this.st.problems.length >= MAX_PROBLEMS && this.onProblem === null) return;
    const p: StreamProblem = { index: this.seq, kind, message: message() };
    if (this.st.problems.length < MAX_PROBLEMS) this.st.problems.push(p);
    this.onProblem?.(p);
  }

  push(raw: unknown): Alert[] {
    this.seq++;
    this.st.events++;
    let ts: unknown;
    try {
      // A JavaScript caller's Proxy or getter can throw here, outside the rules' own catch.
      ts = isObject(raw) ? raw["@timestamp"] : NOT_AN_OBJECT;
    } catch {
      ts = NOT_AN_OBJECT;
    }
    if (ts === NOT_AN_OBJECT) {
      this.st.malformed++;
      this.problem("malformed", () => "an event must be a JSON object");
      return [];
    }
    const event = raw as ObjectValue;
    const t = typeof ts === "string" ? eventTimeMs(ts) : NaN;
    if (t !== t) {
      this.st.malformed++;
      this.problem("malformed", () => (ts === undefined ? "the event has no `@timestamp`" : "`@timestamp` is not an RFC 3339 time"));
      return [];
    }
    if (this.maxFutureMs !== Infinity) {
      const now = this.clock();
      // A clock that answers NaN refuses nothing: the stream is better judged than dropped.
      if (t - this.maxFutureMs > now) {
        this.st.malformed++;
        this.problem("malformed", () => `\`@timestamp\` is more than ${this.maxFutureMs} ms after the clock (${formatInstant(now)})`);
        return [];
      }
    }
    const late = t < this.watermark - this.lateness;
    if (late) {
      this.st.late++;
      this.problem("late", () => `event time ${formatInstant(t)} is behind the newest seen (${formatInstant(this.watermark)}) by more than the allowed lateness`);
    } else if (t > this.watermark) this.watermark = t;
    const ctx = this.ctx;
    ctx.reset(event, t);
    const alerts: Alert[] = [];
    const { rules, known, missing } = this.candidates(ctx);
    // What running these would do: their `where` reads a field the event lacks (no alert, no store).
    for (let i = 0; i < missing.length; i++) {
      const s = missing[i]!;
      if (!(late && s.dropsLate)) s.stats.missingField++;
    }
    for (let i = 0; i < rules.length; i++) {
      const s = rules[i]!;
      if (late && s.dropsLate) continue;
      let a: Alert | null;
      try {
        a = this.apply(s, known[i]!, ctx, event, t);
      } catch {
        // A value nested so deep that comparing it overflows the stack: that rule's error, never the stream's end.
        s.stats.errors++;
        continue;
      }
      if (a !== null) alerts.push(a);
    }
    if (this.seq % SWEEP_EVERY === 0) this.sweep();
    return alerts;
  }

  /** The rules to run on the event in `ctx`; every rule, unindexed, when the index's own reads throw (see apply's catch). */
  private candidates(ctx: EvalContext): Candidates<RuleState> {
    if (this.index === null) return this.everyRule;
    try {
      return this.index.candidates(ctx);
    } catch {
      return this.everyRule;
    }
  }

  flush(): Alert[] {
    for (const s of this.states) s.groups.clear();
    return [];
  }

  /** Whether `fn` holds; counts why not. */
  private test(fn: Eval, ctx: EvalContext, stats: RuleStats, countMissing: boolean): boolean {
    const v = fn(ctx);
    if (v === true) return true;
    if (v instanceof EvalError) {
      if (!v.missing) stats.errors++;
      else if (countMissing) stats.missingField++;
    }
    return false;
  }

  private read(fn: Eval, ctx: EvalContext, stats: RuleStats): Value | undefined {
    const v: Result = fn(ctx);
    if (v instanceof EvalError) {
      if (v.missing) stats.missingField++;
      else stats.errors++;
      return undefined;
    }
    return v;
  }

  /**
   * A `by` value; a null one lacks the field like an absent one ("not grouped under null",
   * spec section 7): shippers write absent fields as null, and unrelated events must not
   * correlate under it.
   */
  private readBy(fn: Eval, ctx: EvalContext, stats: RuleStats): Value | undefined {
    const v = this.read(fn, ctx, stats);
    if (v !== null) return v;
    stats.missingField++;
    return undefined;
  }

  /** Runs one rule on one event; `known`: how many leading `where` conjuncts the index showed true. */
  private apply(s: RuleState, known: number, ctx: EvalContext, event: ObjectValue, t: number): Alert | null {
    const { rule, stats } = s;
    const where = rule.whereFrom[known]!;
    if (where !== null && !this.test(where, ctx, stats, true)) return null;
    let steps = 0;
    if (rule.sequence !== null) {
      const fns = s.stepFns;
      for (let i = 0; i < fns.length; i++) if (this.test(fns[i]!, ctx, stats, false)) steps |= 1 << i;
      if (steps === 0) return null;
    }
    if (!s.correlates) {
      stats.matched++;
      return this.fire(s, ctx, {}, { count: 1, first: t, events: [event] }, t);
    }
    let key: GroupKey | undefined;
    let groupValues: Value[] | Value;
    if (rule.by.length === 1) {
      const v = this.readBy(rule.by[0]!.fn, ctx, stats);
      if (v === undefined) return null;
      groupValues = v;
      key = singleKey(toJson(v));
    } else {
      const vs: Value[] = [];
      for (const b of rule.by) {
        const v = this.readBy(b.fn, ctx, stats);
        if (v === undefined) return null;
        vs.push(v);
      }
      groupValues = vs;
      key = canonicalJson(vs, 0);
    }
    // Nested too deep to key (nesting.ts).
    if (key === undefined) return this.tooDeep(stats);
    let values: DistinctValues;
    const having = rule.having;
    if (having !== null && having.aggregate === "distinct" && having.field !== null) {
      const v = this.read(having.field, ctx, stats);
      if (v === undefined) return null;
      // Keys as for groups: the string 22 and the number 22 are two values.
      if (Array.isArray(v)) {
        const keys = new Set<GroupKey>();
        for (const x of v) {
          const k = singleKey(toJson(x));
          if (k === undefined) return this.tooDeep(stats);
          keys.add(k);
        }
        values = [...keys];
      } else {
        values = singleKey(toJson(v));
        if (values === undefined) return this.tooDeep(stats);
      }
    }
    stats.matched++;
    const groups = s.groups;
    // From here the event joins a group of `key`: a new key's number is taken at once.
    const id = this.groupKeys.intern(key);
    let g = groups.find(id);
    if (g < 0) {
      if (groups.size >= this.cap) {
        groups.evictOldest();
        stats.evictedGroups++;
      }
      g = groups.create(id, groupValues);
    } else groups.touch(g);
    const inOrder = t >= groups.newest(g);
    stats.evictedEvents += groups.add(g, t, this.seq, event, values, steps);

    let used: UsedEvents | null = null;
    if (rule.sequence !== null) {
      if (s.plan !== null) {
        // Whether the sequence completes, from the runs kept up to date; a late event (placed
        // before others) takes a pass over the whole window, and the runs start over from it.
        if (!inOrder || groups.advanceRuns(g, s.plan, steps, t, this.seq)) used = groups.sequence(g, s.match, MAX_ALERT_EVENTS);
        if (used === null && !inOrder) groups.rebuildRuns(g, s.plan);
      } else if (!inOrder || (steps >> (s.stepFns.length - 1)) & 1) {
        // With monotone counts an ordered sequence can only complete on an event of its last step,
        // unless the event is placed before others (a late one, within the allowed lateness).
        used = groups.sequence(g, s.match, MAX_ALERT_EVENTS);
      }
    } else if (having !== null) {
      const n = having.aggregate === "count" ? groups.count(g) : groups.distinctCount(g);
      if (holds(having.op, n, having.n)) used = groups.takeAll(g, MAX_ALERT_EVENTS);
    }
    if (used === null) return null;
    const byValues = groups.groupValues(g);
    const last = groups.newest(g);
    groups.delete(g); // the group starts afresh
    const group: ObjectValue = {};
    if (rule.by.length === 1) group[rule.by[0]!.text] = byValues;
    else rule.by.forEach((b, i) => (group[b.text] = (byValues as Value[])[i]!));
    return this.fire(s, ctx, group, used, last);
  }

  private tooDeep(stats: RuleStats): null {
    stats.errors++;
    return null;
  }

  private fire(s: RuleState, ctx: EvalContext, group: ObjectValue, used: UsedEvents, last: number): Alert {
    const { rule, stats } = s;
    stats.alerts++;
    this.st.alerts++;
    for (const r of rule.risk) {
      const id = this.target(r.target, ctx, stats);
      if (id !== null) this.store.raise(id, r.amount, last, r.forMs);
    }
    for (const q of rule.quarantine) {
      const id = this.target(q.target, ctx, stats);
      if (id !== null) this.store.quarantine(id, last, q.forMs);
    }
    return {
      rule: rule.name,
      severity: rule.severity,
      group: toJson(group) as Record<string, unknown>,
      first_seen: formatInstant(used.first),
      last_seen: formatInstant(last),
      count: used.count,
      events: used.events,
      tags: [...rule.tags],
    };
  }

  private target(fn: Eval, ctx: EvalContext, stats: RuleStats): string | null {
    const v = fn(ctx);
    if (typeof v === "string") return v;
    if (typeof v === "number") return String(v);
    if (v instanceof EvalError && v.missing) stats.missingField++;
    else stats.errors++;
    return null;
  }

  /** Drop groups idle for longer than their window (oldest-updated first). */
  private sweep(): void {
    for (const s of this.states) {
      if (!s.correlates || s.rule.withinMs === Infinity) continue;
      s.groups.sweep(this.watermark - s.rule.withinMs - this.lateness);
    }
  }
}

/** Compile the detect rules of `files` into a streaming detector. */
export function compileDetectors(files: readonly PolicyFile[], options: DetectorOptions = {}): Detector {
  return new CorrelationDetector(compileDetectRules(files), options);
}

/** A detector over already compiled rules (one compile, many detectors: tests, services). */
export function createDetector(rules: readonly CompiledDetectRule[], options: DetectorOptions = {}): Detector {
  return new CorrelationDetector(rules, options);
}
