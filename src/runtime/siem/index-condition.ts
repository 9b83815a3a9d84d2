/**
 * What the rule index may know about a detect rule before running it: the
 * literal tests of event fields at the head of its condition. The index
 * (rule-index.ts) uses them to skip rules an event cannot match.
 *
 * The one invariant: a rule may be skipped only when running it would have
 * found its condition false *without any side effect*. A condition that
 * errors is counted in the rule's stats (a `where` counts missing fields and
 * type errors; a sequence step counts type errors only), so it must run.
 * That is why only LEADING conjuncts count: in `A and B`, `A` runs first and,
 * when false, `B` is never read; when `A` errors, the error is what the rule
 * sees, whatever `B` says. A chain stops at the first conjunct that is not a
 * recognised test.
 *
 * Recognised tests, P an event field path from an event root through `.name`
 * or `["name"]` steps, k a constant (literal or const) that is a string, a
 * finite number or a boolean:
 *
 *   P == k, k == P, P in [k, ...]     "eq": true when P's value is one of the k
 *                                     (a list, an object or null is never
 *                                     equal to a primitive: false, no error)
 *   P contains k, k in P,             "has": true when P is a list holding a k;
 *   P contains_any [k, ...]           an error (counted) when P is no list
 *   X or Y                            X and Y recognised on the same P, kept
 *                                     in order: `or` stops at the first true
 *                                     or the first error
 *
 *   any other condition C             "bool": C itself, read once per event
 *                                     by the index and shared by every rule
 *                                     whose chain holds the same C (same
 *                                     package, same text): true when C is
 *                                     true, false when false; any other value
 *                                     or an error runs the rule
 *
 * A "bool" condition must not read the risk store (`risk()`,
 * `quarantined()`): a rule's `then risk` can change it while the same event
 * runs the rules after it, and the index reads before any rule runs. Such a
 * condition, or a constant, ends the chain.
 */
import type { DetectRule, Expr } from "../../parser/ast.js";
import type { Eval, ExprCompiler } from "../../evaluator/compile-expr.js";
import { EvalError } from "../../evaluator/values.js";
import { builtin } from "../../evaluator/builtins.js";
import { exprText } from "../../evaluator/expr-text.js";
import { walkExpr } from "../../checker/sites.js";

/** A value an index can look up: what `===` and a Map agree on. */
export type IndexKey = string | number | boolean;

export interface IndexTest {
  kind: "eq" | "has" | "bool";
  /** "bool": true and false, the two values the index tells apart. */
  keys: ReadonlySet<IndexKey>;
}

/** The builtins that read the risk store (see above). */
const STORE_READERS: ReadonlySet<string> = new Set(["risk", "quarantined"]);
const BOOL_KEYS: ReadonlySet<IndexKey> = new Set([true, false]);

/** One leading conjunct: tests of one path, joined by `or`, in evaluation order. */
export interface IndexConjunct {
  /** The path as root and properties joined by NUL, or for "bool" \x02 package \x02 text: equal keys read equally. */
  path: string;
  /** The rule's own compiled reader of the path. */
  read: Eval;
  tests: IndexTest[];
}

/**
 * A rule's index key. `where`: one chain, the leading conjuncts of the
 * rule's `where` clauses in source order. `steps` (a sequence without
 * `where`, where every step runs on every event): one chain per step; a
 * missing field in a step is not counted, so it counts as false there.
 */
export interface RuleIndexKey {
  mode: "where" | "steps";
  chains: IndexConjunct[][];
}

/** Chains longer than this add little and cost a path read per event. */
const MAX_CHAIN = 4;

export function isIndexKey(v: unknown): v is IndexKey {
  return typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));
}

function unparen(e: Expr): Expr {
  while (e.kind === "Paren") e = e.expr;
  return e;
}

/** The event path `e` reads, NUL-joined, or null when `e` is no plain path from an event root. */
function pathOf(e: Expr, roots: ReadonlySet<string>): string | null {
  const props: string[] = [];
  let cur = unparen(e);
  // Exactly the shapes the expression compiler reads as one path loop.
  while (cur.kind === "Member" || (cur.kind === "Index" && cur.index.kind === "String")) {
    props.push(cur.kind === "Member" ? cur.property : (cur.index as { value: string }).value);
    cur = cur.object;
  }
  if (cur.kind !== "Name" || cur.name === "now" || !roots.has(cur.name) || props.length === 0) return null;
  return [cur.name, ...props.reverse()].join("\0");
}

function constKeys(e: Expr, compiler: ExprCompiler, list: boolean): IndexKey[] | null {
  const c = compiler.constantOf(e);
  if (c === null || c.value instanceof EvalError) return null;
  const v = c.value;
  if (!list) return isIndexKey(v) ? [v] : null;
  // A list holding ip(), null or nested values is compared by other rules than ===.
  return Array.isArray(v) && v.every(isIndexKey) ? (v as IndexKey[]) : null;
}

interface PathTests {
  path: string;
  pathExpr: Expr;
  tests: IndexTest[];
}

function testsOf(e: Expr, compiler: ExprCompiler, roots: ReadonlySet<string>): PathTests | null {
  e = unparen(e);
  if (e.kind !== "Binary") return null;
  if (e.op === "or") {
    const l = testsOf(e.left, compiler, roots);
    const r = l && testsOf(e.right, compiler, roots);
    if (l === null || r === null || l.path !== r.path) return null;
    return { path: l.path, pathExpr: l.pathExpr, tests: [...l.tests, ...r.tests] };
  }
  let pathSide: Expr;
  let constSide: Expr;
  let kind: IndexTest["kind"];
  let list: boolean;
  switch (e.op) {
    case "==":
      [pathSide, constSide] = pathOf(e.left, roots) !== null ? [e.left, e.right] : [e.right, e.left];
      kind = "eq";
      list = false;
      break;
    case "in":
      // `P in [k...]` is membership of P; `k in P` is P holding k.
      if (pathOf(e.left, roots) !== null) [pathSide, constSide, kind, list] = [e.left, e.right, "eq", true];
      else [pathSide, constSide, kind, list] = [e.right, e.left, "has", false];
      break;
    case "contains":
      [pathSide, constSide, kind, list] = [e.left, e.right, "has", false];
      break;
    case "contains_any":
      [pathSide, constSide, kind, list] = [e.left, e.right, "has", true];
      break;
    default:
      return null;
  }
  const path = pathOf(pathSide, roots);
  if (path === null) return null;
  const keys = constKeys(constSide, compiler, list);
  if (keys === null) return null;
  return { path, pathExpr: unparen(pathSide), tests: [{ kind, keys: new Set(keys) }] };
}

/** The conjuncts of `e` in evaluation order (through `and` and parentheses). */
export function flattenAnd(e: Expr, out: Expr[]): void {
  e = unparen(e);
  if (e.kind === "Binary" && e.op === "and") {
    flattenAnd(e.left, out);
    flattenAnd(e.right, out);
  } else out.push(e);
}

/** Whether `e` calls a builtin that reads the risk store (or something that is no builtin). */
function readsStore(e: Expr): boolean {
  let found = false;
  walkExpr(e, (n) => {
    if (n.kind === "Call" && (STORE_READERS.has(n.callee) || builtin(n.callee) === undefined)) found = true;
  });
  return found;
}

/** The recognised leading conjuncts of `exprs` (evaluated one after another, `and`-wise). */
function chainOf(exprs: Expr[], compiler: ExprCompiler, roots: ReadonlySet<string>, pkg: string): IndexConjunct[] {
  const conjuncts: Expr[] = [];
  for (const e of exprs) flattenAnd(e, conjuncts);
  const chain: IndexConjunct[] = [];
  for (const c of conjuncts) {
    if (chain.length === MAX_CHAIN) break;
    const t = testsOf(c, compiler, roots);
    if (t !== null) {
      chain.push({ path: t.path, read: compiler.compile(t.pathExpr).fn, tests: t.tests });
      continue;
    }
    if (readsStore(c) || compiler.constantOf(c) !== null) break;
    // Whole text (no `...` cut): two conditions share a reading only when they say the same.
    chain.push({ path: `\x02${pkg}\x02${exprText(c, Infinity)}`, read: compiler.compile(c).fn, tests: [{ kind: "bool", keys: BOOL_KEYS }] });
  }
  return chain;
}

/**
 * The rule's index key, or null when it must run on every event. `compiler`
 * and `roots` are the ones the rule was compiled with, so the index reads a
 * path exactly as the rule does.
 */
export function indexKeyOf(rule: DetectRule, compiler: ExprCompiler, roots: ReadonlySet<string>, pkg: string): RuleIndexKey | null {
  const wheres: Expr[] = [];
  let sequence: Extract<DetectRule["clauses"][number], { kind: "Sequence" }> | null = null;
  for (const c of rule.clauses) {
    if (c.kind === "Where") wheres.push(c.expr);
    // The compiled rule keeps the last sequence clause; so does the key.
    else if (c.kind === "Sequence") sequence = c;
  }
  if (wheres.length > 0) {
    const chain = chainOf(wheres, compiler, roots, pkg);
    return chain.length === 0 ? null : { mode: "where", chains: [chain] };
  }
  if (sequence === null || sequence.steps.length === 0) return null;
  const chains = sequence.steps.map((s) => chainOf([s.expr], compiler, roots, pkg));
  return chains.some((c) => c.length === 0) ? null : { mode: "steps", chains };
}
