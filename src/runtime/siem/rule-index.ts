/**
 * The detect rule index: which rules an event must run (issue #6, "Engine").
 * With hundreds of rules (an imported Sigma corpus), an event must not run
 * hundreds of conditions; and the index must never change an alert or a
 * count (test/runtime/siem/rule-index.test.ts checks it against the naive
 * detector on random rules and streams).
 *
 * How. Each rule's key (index-condition.ts) is chains of literal tests on
 * event paths. The index reads a keyed path of the event and maps its value
 * to a *slot*: a literal some rule tests, another primitive, a list (with
 * the literals it holds), an object or null, missing, a type error, or
 * "unknown" (a non-JSON value pushed by a caller). A rule is a candidate
 * unless its chain is decided false, without an error, by the slots:
 * exactly the events on which running it would have no effect. A `where`
 * whose chain is decided to read a missing field (its conjuncts before
 * that one true) need not run either: all it would do is count the missing
 * field, which the caller does for it.
 *
 * The index is a decision tree built lazily from the events: a node knows
 * the slots read on the way to it; if some rule is still undecided, the node
 * reads the path most undecided rules test next, and has a child per slot
 * seen; otherwise it is a leaf holding the candidates, in load order (so
 * `then risk` written by one rule and read by a later rule's `risk()`
 * happen in the same order). An event reads only the paths that matter for
 * its own category and action, and a node is built once.
 *
 * The walk every event makes keeps nothing: it reads a path, finds the
 * child, and moves on; only when a child is missing does it walk again from
 * the root keeping the slots, which building needs. A node whose undecided
 * rules test its path against a few literals compares the value with those
 * (`===`) rather than looking it up, and sends every other primitive where
 * OTHER goes: none of those rules can tell such a value from OTHER, and
 * the rules already decided stay decided below the node.
 *
 * Bounds: at most MAX_PATHS distinct paths are indexed (the ones most rules
 * test; a conjunct on another path ends its chain, which only makes the rule
 * a candidate more often), and the tree is dropped and regrown from the
 * events that come next when it outgrows MAX_NODES.
 */
import type { EvalContext } from "../../evaluator/context.js";
import { EvalError, Special, type Result } from "../../evaluator/values.js";
import type { Eval } from "../../evaluator/compile-expr.js";
import type { IndexConjunct, IndexKey, IndexTest, RuleIndexKey } from "./index-condition.js";

const MAX_PATHS = 16;
const MAX_NODES = 16_384;
const MAX_LIST_SLOTS = 1024;

type SlotKind = "key" | "other" | "list" | "nonlist" | "missing" | "error" | "unknown";

interface Slot {
  kind: SlotKind;
  /** Its place in a node's children: the shared slots first, then per path in order made; -1: not kept (a list past MAX_LIST_SLOTS). */
  id: number;
  /** kind "key": the primitive. */
  key?: IndexKey;
  /** kind "list": the literals of the path the list holds. */
  hits?: ReadonlySet<IndexKey>;
}

const OTHER: Slot = { kind: "other", id: 0 };
const NONLIST: Slot = { kind: "nonlist", id: 1 };
const MISSING: Slot = { kind: "missing", id: 2 };
const ERROR: Slot = { kind: "error", id: 3 };
const UNKNOWN: Slot = { kind: "unknown", id: 4 };
const EMPTY_LIST: Slot = { kind: "list", id: 5, hits: new Set() };
const SHARED_SLOTS = 6;

/** One path the index reads. */
class IndexedPath {
  private readonly keySlots = new Map<IndexKey, Slot>();
  /** Literals of `has` tests: the only ones a list value is searched for. */
  private readonly hasKeys = new Set<IndexKey>();
  private readonly listSlots = new Map<string, Slot>();
  private ids = SHARED_SLOTS;

  constructor(readonly read: Eval) {}

  addTest(kind: IndexTest["kind"], keys: ReadonlySet<IndexKey>): void {
    for (const k of keys) {
      if (!this.keySlots.has(k)) this.keySlots.set(k, { kind: "key", id: this.ids++, key: k });
      if (kind === "has") this.hasKeys.add(k);
    }
  }

  /** The slot of `v`, a value this path's reader returned. */
  slotOf(v: Result): Slot {
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

  /** The slot of a literal some rule tests on this path. */
  keySlot(k: IndexKey): Slot {
    return this.keySlots.get(k)!;
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
      const kept = this.listSlots.size < MAX_LIST_SLOTS;
      s = { kind: "list", id: kept ? this.ids++ : -1, hits: new Set(hits) };
      if (kept) this.listSlots.set(name, s);
    }
    return s;
  }
}

type Outcome = "true" | "false" | "error" | "missing";

/** What one conjunct evaluates to, given its path's slot. */
function outcomeOf(c: IndexConjunct, slot: Slot): Outcome {
  if (c.tests[0]!.kind === "bool") {
    // The condition's own value: a boolean decides; anything else is an error or not (its place
    // in the rule says which), so the rule runs.
    if (slot.kind === "missing") return "missing";
    return slot.kind === "key" && typeof slot.key === "boolean" ? (slot.key ? "true" : "false") : "error";
  }
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

/** A conjunct with the number of its path (-1: not indexed). */
interface Link {
  p: number;
  c: IndexConjunct;
}

interface Key {
  /** A missing field counts (a `where`) or is just false (a sequence step). */
  missingCounts: boolean;
  chains: Link[][];
}

/**
 * A rule's fate at a node: IN (a candidate), OUT, LACKS (a `where` whose
 * leading conjuncts hold and whose next one reads a missing field: running
 * it would only count that), or the number of the path it needs read next.
 */
const IN = -1;
const OUT = -2;
const LACKS = -3;

function chainFate(chain: Link[], slots: readonly (Slot | undefined)[], missingCounts: boolean): number {
  for (const { p, c } of chain) {
    if (p < 0) return IN;
    const s = slots[p];
    if (s === undefined) return p;
    const o = outcomeOf(c, s);
    if (o === "true") continue;
    if (o === "false") return OUT;
    if (o === "error") return IN;
    return missingCounts ? LACKS : OUT;
  }
  return IN;
}

function ruleFate(key: Key | null, slots: readonly (Slot | undefined)[]): number {
  if (key === null) return IN;
  let fate = OUT;
  for (const chain of key.chains) {
    const f = chainFate(chain, slots, key.missingCounts);
    if (f === IN || f === LACKS) return f;
    if (fate === OUT) fate = f;
  }
  return fate;
}

/** How many leading conjuncts of a `where` chain the slots show true. */
function truePrefix(key: Key, slots: readonly (Slot | undefined)[]): number {
  if (!key.missingCounts) return 0;
  let n = 0;
  for (const { p, c } of key.chains[0]!) {
    const s = p < 0 ? undefined : slots[p];
    if (s === undefined || outcomeOf(c, s) !== "true") break;
    n++;
  }
  return n;
}

/**
 * The rules an event must run, in load order, and for each how many leading
 * `where` conjuncts are known true; and the rules that would only find a
 * field missing (the caller counts it for them instead of running them).
 */
export interface Candidates<R> {
  rules: R[];
  known: number[];
  missing: R[];
}

interface Node<R> {
  /** The path this node reads; -1 at a leaf. */
  read: number;
  /** Children by slot id (a lookup per level of the walk every event makes). */
  next: (Node<R> | undefined)[];
  /** At a leaf: the candidates. */
  leaf: Candidates<R> | null;
  /**
   * When the rules still undecided here test the path against at most
   * FEW_KEYS literals: those literals, and the slot id each leads to. Any
   * other primitive then leads where OTHER does (none of these rules can
   * tell it from OTHER), found by `===` instead of the path's Map.
   */
  few: IndexKey[] | null;
  fewIds: number[];
}

/** The most literals a node compares a primitive against before it looks the value up. */
const FEW_KEYS = 4;

function isPrimitive(v: Result): v is IndexKey {
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean";
}

/** The child of `node` that `v` (read from `path`) leads to, by slot id. */
function childId<R>(node: Node<R>, path: IndexedPath, v: Result): number {
  const few = node.few;
  if (few !== null && isPrimitive(v)) {
    for (let i = 0; i < few.length; i++) if (few[i] === v) return node.fewIds[i]!;
    return OTHER.id;
  }
  return path.slotOf(v).id;
}

export class DetectRuleIndex<R> {
  private readonly paths: IndexedPath[] = [];
  private readonly keys: (Key | null)[];
  private root: Node<R> | null = null;
  private readonly all: Candidates<R>;
  private nodes = 0;
  /** Slots read on the way to the node being built, by path (grow() fills and empties it). */
  private readonly slots: (Slot | undefined)[] = [];
  /** Walks that found a node missing and built it (tests: once the kinds of events repeat, this stops rising). */
  grown = 0;
  /** Rules with a key whose every chain starts on an indexed path. */
  readonly keyed: number;

  constructor(
    private readonly rules: readonly R[],
    keys: readonly (RuleIndexKey | null)[],
  ) {
    // The paths most rules test.
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
    const names = [...uses]
      .sort((a, b) => b[1].n - a[1].n || (a[0] < b[0] ? -1 : 1))
      .slice(0, MAX_PATHS)
      .map(([name, u]) => {
        this.paths.push(new IndexedPath(u.read));
        return name;
      });
    this.keys = keys.map((k) => {
      if (k === null) return null;
      const chains = k.chains.map((chain) =>
        chain.map((c) => {
          const p = names.indexOf(c.path);
          if (p >= 0) for (const t of c.tests) this.paths[p]!.addTest(t.kind, t.keys);
          return { p, c };
        }),
      );
      return { missingCounts: k.mode === "where", chains };
    });
    this.keyed = this.keys.filter((k) => k !== null && k.chains.every((ch) => ch[0]!.p >= 0)).length;
    this.all = { rules: [...rules], known: rules.map(() => 0), missing: [] };
  }

  /** The rules `ctx`'s event must run, in load order. */
  candidates(ctx: EvalContext): Candidates<R> {
    if (this.paths.length === 0) return this.all;
    let node: Node<R> = this.root ?? (this.root = this.build());
    while (node.leaf === null) {
      const path = this.paths[node.read]!;
      const id = childId(node, path, path.read(ctx));
      const child: Node<R> | undefined = id >= 0 ? node.next[id] : undefined;
      if (child === undefined) {
        node = this.grow(ctx);
        break;
      }
      node = child;
    }
    if (this.nodes > MAX_NODES) {
      // Regrown from the events that come next: the hot paths return first.
      this.root = null;
      this.nodes = 0;
    }
    return node.leaf!;
  }

  /**
   * The walk for `ctx` again from the root, this time keeping the slots read
   * (build() needs them) and building the nodes it lacks. The walk above keeps
   * nothing, as nearly every event finds its nodes built; reading a path twice
   * gives the same slot (the readers are pure: no risk store, no clock).
   */
  private grow(ctx: EvalContext): Node<R> {
    this.grown++;
    const slots = this.slots;
    let node = this.root!;
    while (node.leaf === null) {
      const path = this.paths[node.read]!;
      const v = path.read(ctx);
      const s = path.slotOf(v);
      slots[node.read] = s;
      // By the node's few literals when it has them, as the walk above goes; the slot is what
      // build() reads, and for the rules still undecided here it says the same.
      const id = node.few !== null && isPrimitive(v) ? childId(node, path, v) : s.id;
      let child: Node<R> | undefined = id >= 0 ? node.next[id] : undefined;
      if (child === undefined) {
        child = this.build();
        if (id >= 0) node.next[id] = child;
      }
      node = child;
    }
    slots.fill(undefined);
    return node;
  }

  /** The node for the slots read so far. */
  private build(): Node<R> {
    this.nodes++;
    const out: Candidates<R> = { rules: [], known: [], missing: [] };
    const need = new Map<number, number>();
    const undecided: Key[] = [];
    this.rules.forEach((r, i) => {
      const key = this.keys[i]!;
      const f = ruleFate(key, this.slots);
      if (f === IN) {
        out.rules.push(r);
        out.known.push(key === null ? 0 : truePrefix(key, this.slots));
      } else if (f === LACKS) out.missing.push(r);
      else if (f !== OUT) {
        need.set(f, (need.get(f) ?? 0) + 1);
        undecided.push(key!);
      }
    });
    if (need.size === 0) return { read: -1, next: [], leaf: out, few: null, fewIds: [] };
    let read = -1;
    let most = 0;
    for (const [p, n] of need) {
      if (n > most || (n === most && p < read)) [read, most] = [p, n];
    }
    // Every literal an undecided rule tests this path against, anywhere in its chains: the rest
    // of the tree below decides only those rules (the others are decided, and stay so).
    const literals = new Set<IndexKey>();
    for (const key of undecided) for (const chain of key.chains) for (const { p, c } of chain) if (p === read) for (const t of c.tests) for (const k of t.keys) literals.add(k);
    const path = this.paths[read]!;
    const few = literals.size <= FEW_KEYS ? [...literals] : null;
    return { read, next: [], leaf: null, few, fewIds: few === null ? [] : few.map((k) => path.keySlot(k).id) };
  }
}
