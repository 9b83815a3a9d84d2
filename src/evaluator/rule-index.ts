/**
 * The access rule index: which rules a request can touch, by `action` and
 * `resource.type` (issue #3). With 10,000 rules, a request must not scan
 * 10,000; and the index must never change a decision.
 *
 * Why it is safe. A rule may be skipped only when evaluating it could not
 * have done anything but "not applicable": an errored deny rule denies, an
 * errored allow rule shows in `errors`. So a rule is keyed only by literal
 * tests in its LEADING conjuncts (in evaluation order: clauses in source
 * order, `and` left to right), and only tests that cannot error once the
 * request's `action` and `resource.type` are strings:
 *
 *   action == "x"      "x" == action      action in ["x", "y"]
 *   resource.type == "t"   resource["type"] in [...]   (either side, consts folded)
 *   a disjunction of such tests on one field: action == "x" or action == "y"
 *
 * The key stops at the first conjunct that is anything else (it could
 * error, and it runs before the tests after it). A rule whose leading tests
 * say action is in A (and type in T) is evaluated only for requests whose
 * action is in A (and type in T); other rules are always candidates. When
 * the request's `action` or `resource.type` is not a string (or absent), the
 * index is not used: every rule is evaluated. Candidates keep load order.
 */
import type { Expr, AccessRule } from "../parser/ast.js";
import type { CompiledExpr } from "./compile-expr.js";
import { EvalError, Special } from "./values.js";
import type { CompiledAccessRule } from "./access.js";

export type Field = "action" | "type";

export interface IndexKey {
  /** Null: no constraint. An empty set: never applies to a string action. */
  actions: Set<string> | null;
  types: Set<string> | null;
  /**
   * The leading tests the key came from: true for every request the index
   * lets through to this rule, so generated code may skip them.
   */
  tests: Expr[];
}

/** How the index reads constants: the folded value, or null when not constant. */
export type ConstOf = (e: Expr) => CompiledExpr | null;

function unparen(e: Expr): Expr {
  while (e.kind === "Paren") e = e.expr;
  return e;
}

function fieldOf(e: Expr): Field | null {
  e = unparen(e);
  if (e.kind === "Name" && e.name === "action") return "action";
  const base = e.kind === "Member" || e.kind === "Index" ? unparen(e.object) : null;
  if (base === null || base.kind !== "Name" || base.name !== "resource") return null;
  if (e.kind === "Member" && e.property === "type") return "type";
  if (e.kind === "Index" && unparen(e.index).kind === "String" && (unparen(e.index) as { value: string }).value === "type") return "type";
  return null;
}

/**
 * The values a test admits for its field, or null when `e` is not an
 * error-free literal test.
 */
function literalTest(e: Expr, constOf: ConstOf): { field: Field; values: Set<string> } | null {
  e = unparen(e);
  if (e.kind !== "Binary") return null;
  if (e.op === "or") {
    const a = literalTest(e.left, constOf);
    const b = literalTest(e.right, constOf);
    if (a === null || b === null || a.field !== b.field) return null;
    return { field: a.field, values: new Set([...a.values, ...b.values]) };
  }
  if (e.op === "==") {
    let field = fieldOf(e.left);
    let other = e.right;
    if (field === null) {
      field = fieldOf(e.right);
      other = e.left;
    }
    if (field === null) return null;
    const k = constOf(other);
    if (k === null || k.value instanceof EvalError) return null;
    // A string field never equals a non-string constant (a list, an IP, a number).
    return { field, values: new Set(typeof k.value === "string" ? [k.value] : []) };
  }
  if (e.op === "in") {
    const field = fieldOf(e.left);
    if (field === null) return null;
    const k = constOf(e.right);
    if (k === null || !Array.isArray(k.value)) return null;
    // An ip() element makes `in` parse the left side as an address: that can error.
    if (k.value.some((x) => x instanceof Special)) return null;
    return { field, values: new Set(k.value.filter((x): x is string => typeof x === "string")) };
  }
  return null;
}

function flattenAnd(e: Expr, out: Expr[]): void {
  e = unparen(e);
  if (e.kind === "Binary" && e.op === "and") {
    flattenAnd(e.left, out);
    flattenAnd(e.right, out);
  } else {
    out.push(e);
  }
}

function intersect(a: Set<string> | null, b: Set<string>): Set<string> {
  if (a === null) return b;
  return new Set([...a].filter((x) => b.has(x)));
}

/** The index key of a rule from its leading literal tests. */
export function indexKeyOf(rule: AccessRule, constOf: ConstOf): IndexKey {
  const key: IndexKey = { actions: null, types: null, tests: [] };
  for (const cl of rule.clauses) {
    if (cl.kind === "Tags") continue;
    if (cl.kind !== "When") return key;
    const conjuncts: Expr[] = [];
    flattenAnd(cl.expr, conjuncts);
    for (const c of conjuncts) {
      const t = literalTest(c, constOf);
      if (t === null) return key;
      if (t.field === "action") key.actions = intersect(key.actions, t.values);
      else key.types = intersect(key.types, t.values);
      key.tests.push(c);
    }
  }
  return key;
}

export interface Candidates {
  deny: CompiledAccessRule[];
  allow: CompiledAccessRule[];
  /** True when the index narrowed these (rules may skip their leading tests). */
  indexed: boolean;
}

const OTHER = Symbol("other");
type Slot = string | typeof OTHER;
/** Cached candidate lists are bounded by the policy's literals; cap them anyway. */
const CACHE_LIMIT = 50_000;

function split(rules: CompiledAccessRule[], indexed: boolean): Candidates {
  return { deny: rules.filter((r) => r.effect === "deny"), allow: rules.filter((r) => r.effect === "allow"), indexed };
}

export class RuleIndex {
  readonly all: Candidates;
  private readonly byBoth = new Map<string, Map<string, CompiledAccessRule[]>>();
  private readonly byAction = new Map<string, CompiledAccessRule[]>();
  private readonly byType = new Map<string, CompiledAccessRule[]>();
  private readonly always: CompiledAccessRule[] = [];
  private readonly knownActions = new Set<string>();
  private readonly knownTypes = new Set<string>();
  private readonly cache = new Map<Slot, Map<Slot, Candidates>>();
  private cached = 0;
  /** Rules keyed by at least one field (for tests and the benchmark). */
  readonly keyed: number;

  constructor(rules: CompiledAccessRule[], keys: IndexKey[]) {
    this.all = split(rules, false);
    let keyed = 0;
    const push = <K>(m: Map<K, CompiledAccessRule[]>, k: K, r: CompiledAccessRule) => {
      const l = m.get(k);
      if (l) l.push(r);
      else m.set(k, [r]);
    };
    rules.forEach((r, i) => {
      const { actions, types } = keys[i]!;
      if (actions !== null || types !== null) keyed++;
      for (const a of actions ?? []) this.knownActions.add(a);
      for (const t of types ?? []) this.knownTypes.add(t);
      if (actions === null && types === null) this.always.push(r);
      else if (types === null) for (const a of actions!) push(this.byAction, a, r);
      else if (actions === null) for (const t of types) push(this.byType, t, r);
      else
        for (const a of actions) {
          let m = this.byBoth.get(a);
          if (!m) this.byBoth.set(a, (m = new Map()));
          for (const t of types) push(m, t, r);
        }
    });
    this.keyed = keyed;
  }

  /** The rules a request must evaluate, in load order. */
  candidates(action: unknown, type: unknown): Candidates {
    if (typeof action !== "string" || typeof type !== "string") return this.all;
    const a: Slot = this.knownActions.has(action) ? action : OTHER;
    const t: Slot = this.knownTypes.has(type) ? type : OTHER;
    let row = this.cache.get(a);
    const hit = row?.get(t);
    if (hit !== undefined) return hit;
    const lists: CompiledAccessRule[][] = [this.always];
    if (a !== OTHER) {
      const x = this.byAction.get(a);
      if (x) lists.push(x);
      const y = t !== OTHER ? this.byBoth.get(a)?.get(t) : undefined;
      if (y) lists.push(y);
    }
    if (t !== OTHER) {
      const z = this.byType.get(t);
      if (z) lists.push(z);
    }
    const merged = lists.flat().sort((p, q) => p.order - q.order);
    const out = split(merged, true);
    if (this.cached < CACHE_LIMIT) {
      if (!row) this.cache.set(a, (row = new Map()));
      row.set(t, out);
      this.cached++;
    }
    return out;
  }
}
