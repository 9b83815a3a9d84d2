/**
 * One rule's live groups and their sliding windows (spec/LANGUAGE.md section
 * 7, issue #6 "Bounded memory"), as numbers in typed arrays rather than an
 * object per group and per event.
 *
 * Why: settled, a rule set holds hundreds of thousands of groups, and an
 * object per window entry, per group and per group's list made every event
 * touch several objects scattered over a large heap (a cache miss each) and
 * promote them to the old generation. Here a group is a slot: its numbers
 * (newest time, first and last entry, size, update stamp, oldest time) sit
 * side by side in one Float64Array; a window entry is a slot in a pool whose
 * numbers (time, arrival, step bits, links) sit side by side in another.
 * The only objects left per entry are the event itself (kept for the alert)
 * and, for `having distinct`, its value keys. Distinct values are counted by
 * looking through the window while it is small (most are: a few events per
 * group), and by a Map of counts once it has held more than SMALL_WINDOW.
 *
 * Group keys are interned once for every rule (GroupKeys): rules that group
 * by the same field look the same key up in one Map, whose entry the first
 * lookup of an event has brought into the cache, and find their own group by
 * the key's number in a small Int32Array.
 *
 * Windows are doubly linked lists of entries in (time, arrival) order. An
 * event at or after the group's newest time is appended (the common case); an
 * out-of-order one (within the allowed lateness) is placed by walking back.
 * Entries leave from the front: older than the window behind the newest, or
 * over the per-group cap.
 *
 * Update order (for the cap on live groups and the idle sweep) is a queue of
 * (group, stamp) appended on every update; an entry is current when its stamp
 * is still the group's, and stale entries are skipped when met and dropped
 * when the queue outgrows twice the live groups.
 */
import type { ObjectValue, Value } from "../../evaluator/values.js";
import { MAX_DEPTH } from "./nesting.js";
import type { Runs, SequencePlan } from "./window.js";

/**
 * A group's key in its rule's Map. One `by` field: the value itself when a
 * string, number, boolean or null (a Map keeps 1 and "1" apart); a list or
 * an object as \x01 + its JSON with object keys sorted (canonicalJson: key
 * order does not matter, as to `==`), and a string that starts with \x01
 * gets a second one, so the two never meet. Several fields: their list's
 * canonical JSON.
 */
export type GroupKey = string | number | boolean | null;

/** `having distinct`: the key (or keys, from a list) of the values one event carries. */
export type DistinctValues = GroupKey | GroupKey[] | undefined;

// A group's numbers, G per group.
const G = 8;
const G_NEWEST = 0; // newest event time (the window ends there); -Infinity when new
const G_HEAD = 1; // first entry (-1: none)
const G_TAIL = 2; // last entry
const G_SIZE = 3;
const G_STAMP = 4; // update stamp; GONE when the slot is free
const G_OLDEST = 5; // time of the first entry
const G_DISTINCT = 6; // distinct values in the window
const G_ID = 7; // the group key's number (GroupKeys)

// An entry's numbers, E per entry.
const E = 5;
const E_T = 0;
const E_SEQ = 1;
const E_STEPS = 2;
const E_PREV = 3;
const E_NEXT = 4; // also links the free list

const NONE = -1;
/** Up to this many events, each with at most this many values, a window's distinct values are counted by looking through it. */
const SMALL_WINDOW = 16;
/** A free group slot's stamp: no queue entry is current for it. */
const GONE = -1;

/** The events a fired condition used: how many, the earliest time, the first few events. */
export interface UsedEvents {
  count: number;
  first: number;
  events: ObjectValue[];
}

/**
 * Every rule's group keys, each with a number while some rule holds a group
 * of it (counted references; a number no group holds is reused).
 */
export class GroupKeys {
  private readonly ids = new Map<GroupKey, number>();
  private keys: GroupKey[] = [];
  private refs: number[] = [];
  private free: number[] = [];

  /** The number of `key`; a new one has no references yet (the caller's group takes one at once). */
  intern(key: GroupKey): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.free.pop();
      if (id === undefined) {
        id = this.keys.length;
        this.keys.push(key);
        this.refs.push(0);
      } else {
        this.keys[id] = key;
        this.refs[id] = 0;
      }
      this.ids.set(key, id);
    }
    return id;
  }

  ref(id: number): void {
    this.refs[id]!++;
  }

  unref(id: number): void {
    if (--this.refs[id]! > 0) return;
    this.ids.delete(this.keys[id]!);
    this.keys[id] = null;
    this.free.push(id);
  }

  /** Keys with a number now. */
  get size(): number {
    return this.ids.size;
  }
}

export class GroupTable {
  /** Group slot by key number (-1: none). */
  private slotOf = new Int32Array(0);
  private live = 0;
  private g: Float64Array<ArrayBuffer> = new Float64Array(G * 16);
  private byValues: Value[] = [];
  private distinct: (Map<GroupKey, number> | null)[] = [];
  /** A sequence rule's live runs per group (window.ts SequenceRuns, OrderedRuns). */
  private runs: (Runs | null)[] = [];
  private freeGroups: number[] = [];
  private groupSlots = 0;

  private e: Float64Array<ArrayBuffer> = new Float64Array(E * 16);
  private events: (ObjectValue | undefined)[] = [];
  private values: DistinctValues[] = [];
  private freeEntry = NONE;
  private entrySlots = 0;

  /** Update order, oldest first from `first`: group slots and their stamps at the update. */
  private queue: number[] = [];
  private stamps: number[] = [];
  private first = 0;
  private clock = 0;

  /** Scratch for sequence matching: the window's step bits and entries in order. */
  private scratchSteps: number[] = [];
  private scratchEntries: number[] = [];

  constructor(
    private readonly groupKeys: GroupKeys,
    private readonly withinMs: number,
    /** At most this many events in a window; beyond it the oldest go (counted by the caller). */
    private readonly maxEvents: number,
  ) {}

  get size(): number {
    return this.live;
  }

  /** The group of key number `id` (GroupKeys.intern), or -1. */
  find(id: number): number {
    return id < this.slotOf.length ? this.slotOf[id]! : NONE;
  }

  /** A new, empty group for key number `id`, as the most recently updated. */
  create(id: number, byValues: Value): number {
    if (id >= this.slotOf.length) {
      const bigger = new Int32Array(Math.max(64, 2 * this.slotOf.length, id + 1)).fill(NONE);
      bigger.set(this.slotOf);
      this.slotOf = bigger;
    }
    let s = this.freeGroups.pop();
    if (s === undefined) {
      s = this.groupSlots++;
      if (s * G >= this.g.length) this.g = grow(this.g);
      this.byValues.push(null);
      this.distinct.push(null);
      this.runs.push(null);
    }
    const o = s * G;
    const g = this.g;
    g[o + G_NEWEST] = -Infinity;
    g[o + G_HEAD] = NONE;
    g[o + G_TAIL] = NONE;
    g[o + G_SIZE] = 0;
    g[o + G_OLDEST] = Infinity;
    g[o + G_DISTINCT] = 0;
    g[o + G_ID] = id;
    this.byValues[s] = byValues;
    this.runs[s] = null;
    this.slotOf[id] = s;
    this.groupKeys.ref(id);
    this.live++;
    this.enqueue(s);
    return s;
  }

  /** `s` was just updated: it becomes the most recently updated. */
  touch(s: number): void {
    const last = this.queue.length - 1;
    // Already the newest queue entry, and current.
    if (last >= this.first && this.queue[last] === s && this.stamps[last] === this.g[s * G + G_STAMP]) return;
    this.enqueue(s);
  }

  newest(s: number): number {
    return this.g[s * G + G_NEWEST]!;
  }

  count(s: number): number {
    return this.g[s * G + G_SIZE]!;
  }

  /** The `by` values: one value, or a list for several fields. */
  groupValues(s: number): Value {
    return this.byValues[s]!;
  }

  distinctCount(s: number): number {
    return this.g[s * G + G_DISTINCT]!;
  }

  /** Adds an event to `s`'s window; returns how many of the oldest were dropped for the event cap. */
  add(s: number, t: number, seq: number, event: ObjectValue, values: DistinctValues, steps: number): number {
    const g = this.g;
    const o = s * G;
    let x = this.freeEntry;
    if (x === NONE) {
      x = this.entrySlots++;
      if (x * E >= this.e.length) this.e = grow(this.e);
      this.events.push(undefined);
      this.values.push(undefined);
    } else this.freeEntry = this.e[x * E + E_NEXT]!;
    const e = this.e;
    const xo = x * E;
    e[xo + E_T] = t;
    e[xo + E_SEQ] = seq;
    e[xo + E_STEPS] = steps;
    this.events[x] = event;
    this.values[x] = values;
    // Place by (time, arrival): after the last entry not later than t (arrival breaks ties, and
    // this event arrived last).
    let prev = g[o + G_TAIL]!;
    let next = NONE;
    if (t < g[o + G_NEWEST]!) {
      while (prev !== NONE && e[prev * E + E_T]! > t) prev = e[prev * E + E_PREV]!;
      next = prev === NONE ? g[o + G_HEAD]! : e[prev * E + E_NEXT]!;
    }
    e[xo + E_PREV] = prev;
    e[xo + E_NEXT] = next;
    if (prev === NONE) {
      g[o + G_HEAD] = x;
      g[o + G_OLDEST] = t;
    } else e[prev * E + E_NEXT] = x;
    if (next === NONE) g[o + G_TAIL] = x;
    else e[next * E + E_PREV] = x;
    g[o + G_SIZE]!++;
    if (values !== undefined) this.countIn(s, x, values);
    if (t > g[o + G_NEWEST]!) g[o + G_NEWEST] = t;
    return this.evict(s);
  }

  /** Drop entries more than D before the newest event (inclusive window), then any over the cap. */
  private evict(s: number): number {
    const g = this.g;
    const o = s * G;
    const from = g[o + G_NEWEST]! - this.withinMs;
    if (g[o + G_OLDEST]! >= from && g[o + G_SIZE]! <= this.maxEvents) return 0;
    const e = this.e;
    let dropped = 0;
    let x = g[o + G_HEAD]!;
    while (x !== NONE) {
      const t = e[x * E + E_T]!;
      const over = g[o + G_SIZE]! > this.maxEvents;
      if (t >= from && !over) break;
      if (t >= from) dropped++;
      // Unlinked first: counting distinct values out looks through what is left.
      const next = e[x * E + E_NEXT]!;
      g[o + G_HEAD] = next;
      if (next === NONE) g[o + G_TAIL] = NONE;
      else e[next * E + E_PREV] = NONE;
      g[o + G_SIZE]!--;
      const vs = this.values[x];
      if (vs !== undefined) this.countOut(s, vs);
      this.release(x);
      x = next;
    }
    g[o + G_OLDEST] = x === NONE ? Infinity : e[x * E + E_T]!;
    return dropped;
  }

  /** Every event of the window, for a `having` that holds. */
  takeAll(s: number, maxSample: number): UsedEvents {
    const g = this.g;
    const o = s * G;
    const events: ObjectValue[] = [];
    for (let x = g[o + G_HEAD]!; x !== NONE && events.length < maxSample; x = this.e[x * E + E_NEXT]!) events.push(this.events[x]!);
    return { count: g[o + G_SIZE]!, first: g[o + G_OLDEST]!, events };
  }

  /** The events that complete the sequence over `s`'s window (window.ts matchSequence), or null. */
  sequence(s: number, match: (steps: readonly number[], n: number) => number[] | null, maxSample: number): UsedEvents | null {
    const steps = this.scratchSteps;
    const entries = this.scratchEntries;
    let n = 0;
    for (let x = this.g[s * G + G_HEAD]!; x !== NONE; x = this.e[x * E + E_NEXT]!) {
      steps[n] = this.e[x * E + E_STEPS]!;
      entries[n++] = x;
    }
    const used = match(steps, n);
    if (used === null) return null;
    const events: ObjectValue[] = [];
    for (let i = 0; i < used.length && i < maxSample; i++) events.push(this.events[entries[used[i]!]!]!);
    // Window order is time order: the first used event is the earliest.
    return { count: used.length, first: this.e[entries[used[0]!]! * E + E_T]!, events };
  }

  /**
   * Advances `s`'s sequence runs by the entry just appended in order at
   * (t, seq) with step bits `steps`; true when some run is complete (then
   * `sequence` names the events). Each event costs the live run states, not
   * a pass over the window.
   */
  advanceRuns(s: number, plan: SequencePlan, steps: number, t: number, seq: number): boolean {
    const runs = this.runs[s];
    if (runs === null || runs === undefined) return this.rebuildRuns(s, plan);
    const head = this.g[s * G + G_HEAD]!;
    return runs.push(steps, t, seq, this.e[head * E + E_T]!, this.e[head * E + E_SEQ]!);
  }

  /** Starts `s`'s sequence runs over from its whole window (an event was placed before others); true when some run is complete at the window's end. */
  rebuildRuns(s: number, plan: SequencePlan): boolean {
    const runs = plan.newRuns();
    this.runs[s] = runs;
    const e = this.e;
    const head = this.g[s * G + G_HEAD]!;
    if (head === NONE) return false;
    const ht = e[head * E + E_T]!;
    const hseq = e[head * E + E_SEQ]!;
    let done = false;
    for (let x = head; x !== NONE; x = e[x * E + E_NEXT]!) done = runs.push(e[x * E + E_STEPS]!, e[x * E + E_T]!, e[x * E + E_SEQ]!, ht, hseq);
    return done;
  }

  /** Live sequence run states of group `s` (0 before its first event). */
  runStates(s: number): number {
    return this.runs[s]?.size ?? 0;
  }

  /** Drops group `s` and its window. */
  delete(s: number): void {
    const o = s * G;
    for (let x = this.g[o + G_HEAD]!; x !== NONE; ) {
      const next = this.e[x * E + E_NEXT]!;
      this.release(x);
      x = next;
    }
    const id = this.g[o + G_ID]!;
    this.slotOf[id] = NONE;
    this.groupKeys.unref(id);
    this.live--;
    this.byValues[s] = null;
    this.distinct[s] = null;
    this.runs[s] = null;
    this.g[o + G_STAMP] = GONE;
    this.freeGroups.push(s);
  }

  /** Drops the least recently updated group. */
  evictOldest(): void {
    const s = this.oldest();
    if (s !== NONE) this.delete(s);
  }

  /** Drops groups, least recently updated first, while their newest event is before `limit`. */
  sweep(limit: number): void {
    for (let s = this.oldest(); s !== NONE && this.g[s * G + G_NEWEST]! < limit; s = this.oldest()) this.delete(s);
  }

  /** Drops every group; the arrays shrink back. */
  clear(): void {
    for (let s = 0; s < this.groupSlots; s++) if (this.g[s * G + G_STAMP] !== GONE) this.groupKeys.unref(this.g[s * G + G_ID]!);
    this.live = 0;
    this.slotOf = new Int32Array(0);
    this.g = new Float64Array(G * 16);
    this.byValues = [];
    this.distinct = [];
    this.runs = [];
    this.freeGroups = [];
    this.groupSlots = 0;
    this.e = new Float64Array(E * 16);
    this.events = [];
    this.values = [];
    this.freeEntry = NONE;
    this.entrySlots = 0;
    this.queue = [];
    this.stamps = [];
    this.first = 0;
  }

  /** Entry `x` (in the window) brings distinct values `vs`. */
  private countIn(s: number, x: number, vs: GroupKey | GroupKey[]): void {
    const o = s * G;
    let d = this.distinct[s];
    if ((d === null || d === undefined) && (this.g[o + G_SIZE]! > SMALL_WINDOW || (Array.isArray(vs) && vs.length > SMALL_WINDOW))) {
      // Too many to look through: counts of every value in the window (x included) from now on.
      // A long list counts too: looking through for each of its values was quadratic in its length
      // (16 events of 4,000 ports each took 3 s).
      this.distinct[s] = d = new Map();
      for (let y = this.g[o + G_HEAD]!; y !== NONE; y = this.e[y * E + E_NEXT]!) {
        const ws = this.values[y];
        if (Array.isArray(ws)) for (const v of ws) d.set(v, (d.get(v) ?? 0) + 1);
        else if (ws !== undefined) d.set(ws, (d.get(ws) ?? 0) + 1);
      }
      this.g[o + G_DISTINCT] = d.size;
      return;
    }
    if (d !== null && d !== undefined) {
      if (Array.isArray(vs)) for (const v of vs) d.set(v, (d.get(v) ?? 0) + 1);
      else d.set(vs, (d.get(vs) ?? 0) + 1);
      this.g[o + G_DISTINCT] = d.size;
      return;
    }
    let n = this.g[o + G_DISTINCT]!;
    if (Array.isArray(vs)) {
      for (const v of vs) if (!this.elsewhere(s, x, v)) n++;
    } else if (!this.elsewhere(s, x, vs)) n++;
    this.g[o + G_DISTINCT] = n;
  }

  /** An entry carrying distinct values `vs` has left `s`'s window. */
  private countOut(s: number, vs: GroupKey | GroupKey[]): void {
    const o = s * G;
    const d = this.distinct[s];
    if (d !== null && d !== undefined) {
      if (Array.isArray(vs)) for (const v of vs) forgetOne(d, v);
      else forgetOne(d, vs);
      this.g[o + G_DISTINCT] = d.size;
      return;
    }
    let n = this.g[o + G_DISTINCT]!;
    if (Array.isArray(vs)) {
      for (const v of vs) if (!this.elsewhere(s, NONE, v)) n--;
    } else if (!this.elsewhere(s, NONE, vs)) n--;
    this.g[o + G_DISTINCT] = n;
  }

  /** Whether an entry of `s`'s window other than `x` carries `v` (SameValueZero, as a Map). */
  private elsewhere(s: number, x: number, v: GroupKey): boolean {
    for (let y = this.g[s * G + G_HEAD]!; y !== NONE; y = this.e[y * E + E_NEXT]!) {
      if (y === x) continue;
      const ws = this.values[y];
      if (Array.isArray(ws) ? ws.includes(v) : ws === v || (ws !== ws && v !== v)) return true;
    }
    return false;
  }

  /** Entry slot `x` back to the free list (the event is let go). */
  private release(x: number): void {
    this.events[x] = undefined;
    this.values[x] = undefined;
    this.e[x * E + E_NEXT] = this.freeEntry;
    this.freeEntry = x;
  }

  /** The least recently updated live group; stale entries in front of it are dropped. */
  private oldest(): number {
    const q = this.queue;
    const st = this.stamps;
    let i = this.first;
    while (i < q.length && st[i] !== this.g[q[i]! * G + G_STAMP]) i++;
    this.first = i;
    return i < q.length ? q[i]! : NONE;
  }

  private enqueue(s: number): void {
    const stamp = ++this.clock;
    this.g[s * G + G_STAMP] = stamp;
    this.queue.push(s);
    this.stamps.push(stamp);
    // Stale entries past twice the live groups, or a dropped front past half the array.
    const n = this.queue.length;
    if (n - this.first > 2 * this.live + 64 || (this.first > 1024 && 2 * this.first > n)) this.compact();
  }

  /** Keeps the current entries only, in order, from index 0 (amortized O(1) an update: each time, the queue has grown by at least half). */
  private compact(): void {
    const q = this.queue;
    const st = this.stamps;
    let n = 0;
    for (let i = this.first; i < q.length; i++) {
      const s = q[i]!;
      if (st[i] !== this.g[s * G + G_STAMP]) continue;
      q[n] = s;
      st[n++] = st[i]!;
    }
    q.length = n;
    st.length = n;
    this.first = 0;
  }
}

function forgetOne(d: Map<GroupKey, number>, v: GroupKey): void {
  const n = d.get(v)! - 1;
  if (n <= 0) d.delete(v);
  else d.set(v, n);
}

function grow(a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}

const ESCAPE = "\x01";

/** The key of one `by` value (see GroupKey); undefined for a value nested deeper than MAX_DEPTH (nesting.ts). */
export function singleKey(v: unknown): GroupKey | undefined {
  switch (typeof v) {
    case "string":
      return v.charCodeAt(0) === 1 ? ESCAPE + v : v;
    case "number":
    case "boolean":
      return v;
    default: {
      if (v === null) return null;
      const text = canonicalJson(v, 0);
      return text === undefined ? undefined : ESCAPE + text;
    }
  }
}

/**
 * JSON text of `v` as JSON.stringify writes it, except that every object's
 * keys are in sorted order: values the language calls equal (key order does
 * not matter to `==`) get one text, so they share a group and count as one
 * distinct value. Undefined when nested deeper than MAX_DEPTH.
 */
export function canonicalJson(v: unknown, depth: number): string | undefined {
  if (typeof v !== "object" || v === null) return JSON.stringify(v) ?? "null";
  if (depth >= MAX_DEPTH) return undefined;
  const toJSON = (v as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") return canonicalJson(toJSON.call(v), depth);
  let text: string;
  if (Array.isArray(v)) {
    text = "[";
    for (let i = 0; i < v.length; i++) {
      const item = canonicalJson(v[i], depth + 1);
      if (item === undefined) return undefined;
      text += (i === 0 ? "" : ",") + item;
    }
    return text + "]";
  }
  const o = v as Record<string, unknown>;
  text = "{";
  let first = true;
  for (const k of Object.keys(o).sort()) {
    const x = o[k];
    if (x === undefined || typeof x === "function" || typeof x === "symbol") continue;
    const item = canonicalJson(x, depth + 1);
    if (item === undefined) return undefined;
    text += (first ? "" : ",") + JSON.stringify(k) + ":" + item;
    first = false;
  }
  return text + "}";
}
