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
 *
 * Roles, the third dimension. If the conjunct right after those tests is a
 * role test on `principal.roles`:
 *
 *   principal.roles contains "r"    principal.roles contains_any ["r", "s"]
 *   "r" in principal.roles          (or a disjunction of them)
 *
 * it cannot error when the request's `principal.roles` is a list, and when
 * every element is a string its value is "some request role is in R". Only
 * for such requests are the candidates narrowed further to the rules whose R
 * meets the request's roles (plus rules without a role test). Any other
 * `principal.roles` (absent, not a list, a non-string element) keeps the
 * action/type candidates, so the role test runs and errors as it should.
 */
import type { Expr, AccessRule } from "../parser/ast.js";

import { EvalError, Special, type Result } from "./values.js";
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
  /** The role test right after them, as the set of roles that satisfy it; null: none. */
  roles: Set<string> | null;
}

/** How the index reads constants: the folded value, or null when not constant. */
export type ConstOf = (e: Expr) => { readonly value: Result } | null;

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

function isRolesPath(e: Expr): boolean {
  e = unparen(e);
  let prop: string | null = null;
  if (e.kind === "Member") prop = e.property;
  else if (e.kind === "Index" && unparen(e.index).kind === "String") prop = (unparen(e.index) as { value: string }).value;
  if (prop !== "roles") return false;
  const base = unparen((e as { object: Expr }).object);
  return base.kind === "Name" && base.name === "principal";
}

/**
 * The roles a role test admits, or null when `e` is not a role test that is
 * error-free for a list of roles.
 */
function roleTest(e: Expr, constOf: ConstOf): Set<string> | null {
  e = unparen(e);
  if (e.kind !== "Binary") return null;
  if (e.op === "or") {
    const a = roleTest(e.left, constOf);
    const b = roleTest(e.right, constOf);
    return a === null || b === null ? null : new Set([...a, ...b]);
  }
  const strings = (v: unknown): Set<string> => new Set(typeof v === "string" ? [v] : []);
  if (e.op === "contains" && isRolesPath(e.left)) {
    const k = constOf(e.right);
    return k === null || k.value instanceof EvalError ? null : strings(k.value);
  }
  if (e.op === "in" && isRolesPath(e.right)) {
    const k = constOf(e.left);
    return k === null || k.value instanceof EvalError ? null : strings(k.value);
  }
  if (e.op === "contains_any" && isRolesPath(e.left)) {
    const k = constOf(e.right);
    if (k === null || !Array.isArray(k.value)) return null; // a non-list right side errors
    return new Set(k.value.filter((x): x is string => typeof x === "string"));
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
  const key: IndexKey = { actions: null, types: null, tests: [], roles: null };
  for (const cl of rule.clauses) {
    if (cl.kind === "Tags") continue;
    if (cl.kind !== "When") return key;
    const conjuncts: Expr[] = [];
    flattenAnd(cl.expr, conjuncts);
    for (const c of conjuncts) {
      const t = literalTest(c, constOf);
      if (t === null) {
        key.roles = roleTest(c, constOf);
        return key;
      }
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
  /** The role refinement of these candidates (built on first use; null when no rule has a role key). */
  roleSplit?: RoleSplit | null;
}

/** One action/type bucket split by role key. */
interface RoleSplit {
  /** Rules without a role key: candidates whatever the roles. */
  free: CompiledAccessRule[];
  byRole: Map<string, CompiledAccessRule[]>;
  /** Candidates for requests with none of the keyed roles. */
  none: Candidates;
  /** Role combination (sorted, "\n"-joined) -> candidates. */
  cache: Map<string, Candidates>;
}

const OTHER = Symbol("other");
type Slot = string | typeof OTHER;
/**
 * What the candidate caches may hold, in rule references (a list slot, 8 bytes): every cached
 * list's rules, plus ENTRY_COST per entry and a role key's length / 8. Role combinations come
 * from requests, and one entry can hold most of the rules; a cap on entries (it was 50,000) let
 * 2,000 rules keyed by 40 roles hold 515 MB. Past the budget the caches are emptied (counted in
 * `cacheStats.resets`) and fill again with what requests ask for.
 */
export const CANDIDATE_CACHE_BUDGET = 2_000_000;
const ENTRY_COST = 16;

function split_(rules: CompiledAccessRule[], indexed: boolean): Candidates {
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
  /** Rule references the caches hold (see CANDIDATE_CACHE_BUDGET). */
  private cachedCost = 0;
  private cachedEntries = 0;
  private cacheResets = 0;
  private readonly cacheBudget: number;
  /** Role keys by rule order (null: no role test). */
  private readonly roleKeys: (Set<string> | null)[];
  /** Rules keyed by at least one field (for tests and the benchmark). */
  readonly keyed: number;

  /** `cacheBudget`: see CANDIDATE_CACHE_BUDGET (tests give a small one). */
  constructor(rules: CompiledAccessRule[], keys: IndexKey[], cacheBudget = CANDIDATE_CACHE_BUDGET) {
    this.cacheBudget = cacheBudget;
    this.all = split_(rules, false);
    this.roleKeys = keys.map((k) => k.roles);
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

  /**
   * The rules a request must evaluate, in load order. `roles` is the
   * request's `principal.roles` (anything; only a list of strings narrows).
   */
  candidates(action: unknown, type: unknown, roles?: unknown): Candidates {
    if (typeof action !== "string" || typeof type !== "string") return this.all;
    // Emptied before a lookup, never between a bucket's lookup and its role split's, so an entry
    // is always added to a cache that is kept: held at most the budget plus one entry.
    if (this.cachedCost > this.cacheBudget) this.resetCaches();
    const base = this.bucket(action, type);
    if (!Array.isArray(roles)) return base;
    let split = base.roleSplit;
    if (split === undefined) {
      split = base.roleSplit = this.splitByRole(base);
      if (split !== null) {
        let refs = 2 * split.free.length;
        for (const l of split.byRole.values()) refs += l.length + ENTRY_COST;
        this.cachedCost += refs;
      }
    }
    if (split === null) return base;
    let first: string | null = null;
    let several = false;
    for (let i = 0; i < roles.length; i++) {
      const r: unknown = roles[i];
      if (typeof r !== "string") return base;
      if (split.byRole.has(r)) {
        if (first === null) first = r;
        else if (r !== first) several = true;
      }
    }
    if (first === null) return split.none;
    const key = several ? [...new Set(roles.filter((r: string) => split!.byRole.has(r)))].sort().join("\n") : first;
    let hit = split.cache.get(key);
    if (hit === undefined) {
      const lists = [split.free, ...key.split("\n").map((r) => split!.byRole.get(r)!)];
      hit = split_(mergeUnique(lists), true);
      split.cache.set(key, hit);
      this.cachedCost += costOf(hit) + Math.ceil(key.length / 8);
      this.cachedEntries++;
    }
    return hit;
  }

  /** What the candidate caches hold now, and how often they were emptied to stay within their budget. */
  get cacheStats(): { entries: number; cost: number; resets: number } {
    return { entries: this.cachedEntries, cost: this.cachedCost, resets: this.cacheResets };
  }

  /** Empties the caches (the role splits hang on the buckets' entries, so they go too). */
  private resetCaches(): void {
    this.cache.clear();
    this.cachedCost = 0;
    this.cachedEntries = 0;
    this.cacheResets++;
  }

  private splitByRole(c: Candidates): RoleSplit | null {
    const rules = mergeUnique([c.deny, c.allow]);
    if (!rules.some((r) => this.roleKeys[r.order] !== null)) return null;
    const free: CompiledAccessRule[] = [];
    const byRole = new Map<string, CompiledAccessRule[]>();
    for (const r of rules) {
      const key = this.roleKeys[r.order];
      if (key === null) free.push(r);
      else
        for (const role of key!) {
          const l = byRole.get(role);
          if (l) l.push(r);
          else byRole.set(role, [r]);
        }
    }
    return { free, byRole, none: split_(free, true), cache: new Map() };
  }

  private bucket(action: string, type: string): Candidates {
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
    const out = split_(mergeUnique(lists), true);
    if (!row) this.cache.set(a, (row = new Map()));
    row.set(t, out);
    this.cachedCost += costOf(out);
    this.cachedEntries++;
    return out;
  }
}

/** A cached entry's cost in rule references (see CANDIDATE_CACHE_BUDGET). */
function costOf(c: Candidates): number {
  return c.deny.length + c.allow.length + ENTRY_COST;
}

/** The rules of several lists, each once, in load order. */
function mergeUnique(lists: CompiledAccessRule[][]): CompiledAccessRule[] {
  return [...new Set(lists.flat())].sort((p, q) => p.order - q.order);
}
