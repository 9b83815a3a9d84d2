/**
 * The detect rule index: which rules an event must run (issue #6, "Engine").
 * With hundreds of rules (an imported Sigma corpus), an event must not run
 * hundreds of conditions; and the index must never change an alert or a
 * count (test/runtime/siem/rule-index.test.ts checks it against the naive
 * detector on random rules and streams).
 *
 * How. Each rule's key (index-condition.ts) is chains of literal tests on
 * event paths. The index reads each keyed path of the event once and maps
 * its value to a *slot*: a literal some rule tests, another primitive, a
 * list (with the literals it holds), an object or null, missing, a type
 * error, or "unknown" (a non-JSON value pushed by a caller). A rule is a
 * candidate unless its chain is decided false, without an error, by the
 * slots: exactly the events on which running it would have no effect. The
 * candidate list for a combination of slots is computed once, in load order
 * (so `then risk` written by one rule and read by a later one's `risk()`
 * happen in the same order), and cached in a trie keyed by the slots.
 *
 * Bounds: at most MAX_PATHS paths are read per event (the ones most rules
 * test; a conjunct on another path ends its chain, which only makes the rule
 * a candidate more often), and the cache is dropped when it outgrows
 * MAX_CACHED combinations.
 */
import type { EvalContext } from "../../evaluator/context.js";
import { EvalError, Special } from "../../evaluator/values.js";
import type { Eval } from "../../evaluator/compile-expr.js";
import type { IndexConjunct, IndexKey, RuleIndexKey } from "./index-condition.js";

const MAX_PATHS = 8;
const MAX_CACHED = 4096;
const MAX_LIST_SLOTS = 1024;

type SlotKind = "key" | "other" | "list" | "nonlist" | "missing" | "error" | "unknown";

interface Slot {
  kind: SlotKind;
  /** kind "key": the primitive. */
  key?: IndexKey;
  /** kind "list": the literals of the path the list holds. */
  hits?: ReadonlySet<IndexKey>;
}

const OTHER: Slot = { kind: "other" };
const NONLIST: Slot = { kind: "nonlist" };
const MISSING: Slot = { kind: "missing" };
const ERROR: Slot = { kind: "error" };
const UNKNOWN: Slot = { kind: "unknown" };
const EMPTY_LIST: Slot = { kind: "list", hits: new Set() };

/** One path the index reads. */
class IndexedPath {
  private readonly keySlots = new Map<IndexKey, Slot>();
  /** Literals of `has` tests: the only ones a list value is searched for. */
  private readonly hasKeys = new Set<IndexKey>();
  private readonly listSlots = new Map<string, Slot>();

  constructor(readonly read: Eval) {}

  addTest(kind: "eq" | "has", keys: ReadonlySet<IndexKey>): void {
    for (const k of keys) {
      if (!this.keySlots.has(k)) this.keySlots.set(k, { kind: "key", key: k });
      if (kind === "has") this.hasKeys.add(k);
    }
  }

  slot(ctx: EvalContext): Slot {
    const v = this.read(ctx);
    switch (typeof v) {
      case "string":
      case "number":
      case "boolean":
        return this.keySlots.get(v) ?? OTHER;
      case "object":
        if (v === null) return NONLIST;
        if (v instanceof EvalError) return v.missing ? MISSING : ERROR;
        if (Array.isArray(v)) return this.listSlot(v);
        // A duration, ip or time (only from a JavaScript caller) has its own `==`.
        return v instanceof Special ? UNKNOWN : NONLIST;
      default:
        return UNKNOWN;
    }
  }

  private listSlot(list: readonly unknown[]): Slot {
    let hits: IndexKey[] | null = null;
    for (const x of list) {
      if (x instanceof Special) return UNKNOWN;
      if ((typeof x === "string" || typeof x === "number" || typeof x === "boolean") && this.hasKeys.has(x)) (hits ??= []).push(x);
    }
    if (hits === null) return EMPTY_LIST;
    const name = JSON.stringify([...new Set(hits)].map((h) => [typeof h, h]).sort());
    let s = this.listSlots.get(name);
    if (s === undefined) {
      s = { kind: "list", hits: new Set(hits) };
      if (this.listSlots.size < MAX_LIST_SLOTS) this.listSlots.set(name, s);
    }
    return s;
  }
}

type Outcome = "true" | "false" | "error" | "missing";

/** What one conjunct evaluates to, given its path's slot (null: the path is not read). */
function outcomeOf(c: IndexConjunct, slot: Slot | null): Outcome {
  if (slot === null) return "error"; // unknown: the rule must run
  switch (slot.kind) {
    case "missing":
      return "missing";
    case "error":
    case "unknown":
      return "error";
    case "list":
      // `==` / `in [..]` of a list and a primitive: false. `contains` and friends search it.
      for (const t of c.tests) if (t.kind === "has") for (const k of t.keys) if (slot.hits!.has(k)) return "true";
      return "false";
    default:
      // A primitive, an object or null: `==` compares, `contains` on a non-list errors.
      for (const t of c.tests) {
        if (t.kind === "has") return "error";
        if (slot.kind === "key" && t.keys.has(slot.key!)) return "true";
      }
      return "false";
  }
}

/** Whether a chain may do anything: false only when decided false without a counted error. */
function chainMayRun(chain: IndexConjunct[], slots: (p: string) => Slot | null, missingCounts: boolean): boolean {
  for (const c of chain) {
    const o = outcomeOf(c, slots(c.path));
    if (o === "true") continue;
    if (o === "false") return false;
    return o === "error" || missingCounts;
  }
  return true;
}

interface Trie<R> {
  next: Map<Slot, Trie<R>>;
  rules: R[] | null;
}

export class DetectRuleIndex<R> {
  private readonly paths: IndexedPath[] = [];
  private readonly pathNames: string[] = [];
  private trie: Trie<R> = { next: new Map(), rules: null };
  /** Leaves in the trie. */
  private cached = 0;
  /** Scratch for candidates(): not re-entered. */
  private readonly slots: Slot[] = [];
  /** Rules with a key on at least one read path. */
  readonly keyed: number;

  constructor(
    private readonly rules: readonly R[],
    private readonly keys: readonly (RuleIndexKey | null)[],
  ) {
    // The paths most rules test first.
    const uses = new Map<string, { n: number; read: Eval }>();
    for (const k of keys) {
      for (const chain of k?.chains ?? []) {
        for (const c of chain) {
          const u = uses.get(c.path);
          if (u) u.n++;
          else uses.set(c.path, { n: 1, read: c.read });
        }
      }
    }
    const chosen = [...uses].sort((a, b) => b[1].n - a[1].n || (a[0] < b[0] ? -1 : 1)).slice(0, MAX_PATHS);
    for (const [name, u] of chosen) {
      this.pathNames.push(name);
      this.paths.push(new IndexedPath(u.read));
    }
    for (const k of keys) {
      for (const chain of k?.chains ?? []) {
        for (const c of chain) {
          const i = this.pathNames.indexOf(c.path);
          if (i >= 0) for (const t of c.tests) this.paths[i]!.addTest(t.kind, t.keys);
        }
      }
    }
    this.keyed = keys.filter((k) => k !== null && k.chains.every((ch) => this.pathNames.includes(ch[0]!.path))).length;
  }

  /** The rules `ctx`'s event must run, in load order. */
  candidates(ctx: EvalContext): R[] {
    const n = this.paths.length;
    if (n === 0) return this.rules as R[];
    const slots = this.slots;
    let node = this.trie;
    for (let i = 0; i < n; i++) {
      const s = this.paths[i]!.slot(ctx);
      slots[i] = s;
      let child = node.next.get(s);
      if (child === undefined) {
        child = { next: new Map(), rules: null };
        node.next.set(s, child);
      }
      node = child;
    }
    if (node.rules === null) {
      node.rules = this.compute(slots);
      if (++this.cached >= MAX_CACHED) {
        // Rebuilt from the events that come next: the hot combinations return first.
        this.trie = { next: new Map(), rules: null };
        this.cached = 0;
      }
    }
    return node.rules;
  }

  /** The candidates for one combination of slots (one per read path). */
  private compute(slots: readonly Slot[]): R[] {
    const slotOf = (p: string): Slot | null => {
      const i = this.pathNames.indexOf(p);
      return i < 0 ? null : slots[i]!;
    };
    const out: R[] = [];
    this.rules.forEach((r, i) => {
      const key = this.keys[i];
      if (key === null || key === undefined) out.push(r);
      else if (key.mode === "where" ? chainMayRun(key.chains[0]!, slotOf, true) : key.chains.some((ch) => chainMayRun(ch, slotOf, false))) out.push(r);
    });
    return out;
  }
}
