/**
 * `detect` blocks (spec/LANGUAGE.md section 7) to compiled rules, once per
 * load. Expressions go through the evaluator's own ExprCompiler, so a
 * `where` means exactly what a `when` means in an access rule.
 *
 * Inside `detect`, every bare name that is not a const of the package is an
 * event field root (`user.name`, `event.category`); `now` is the event's
 * `@timestamp` (the detector passes it as the context's time). The roots are
 * collected from the rule's own expressions, so the compiler needs no change.
 *
 * Choices where the spec is silent:
 * - A rule without `severity` has severity "medium" (the checker accepts it).
 * - A step without `count` needs one event (`count >= 1`).
 * - `having` or `sequence` without `by ... within` correlates over one
 *   group with an unbounded window (the checker reports `having` without
 *   `by`, SP2017; a bare `sequence` is allowed).
 */
import type { CompareOp, DetectRule, Expr, PolicyFile, Severity, Span } from "../../parser/ast.js";
import { packageOf, ruleId } from "../../parser/ast.js";
import { walkExpr } from "../../checker/sites.js";
import { ConstTable } from "../../evaluator/compile.js";
import { ExprCompiler, type Eval } from "../../evaluator/compile-expr.js";
import { exprText } from "../../evaluator/expr-text.js";
import { flattenAnd, indexKeyOf, type RuleIndexKey } from "./index-condition.js";

export interface CompiledStep {
  name: string;
  fn: Eval;
  op: CompareOp;
  n: number;
}

export interface CompiledDetectRule {
  /** `package/name` */
  id: string;
  name: string;
  severity: Severity;
  tags: string[];
  where: Eval | null;
  /** Grouping fields: their source text (keys of the alert's `group`) and readers. */
  by: { text: string; fn: Eval }[];
  /** Window length in ms; Infinity without `by ... within`. */
  withinMs: number;
  having: { aggregate: "count" | "distinct"; field: Eval | null; op: CompareOp; n: number } | null;
  sequence: { ordered: boolean; steps: CompiledStep[] } | null;
  risk: { target: Eval; amount: number; forMs: number | undefined }[];
  quarantine: { target: Eval; forMs: number | undefined }[];
  /** Problems found compiling (a non-constant threshold, ...): the rule never fires. */
  problems: string[];
  /** What the rule index knows (index-condition.ts); null: run on every event. */
  index: RuleIndexKey | null;
  /**
   * `whereFrom[k]`: the `where` clauses without their first k conjuncts, for an
   * event the index has shown those conjuncts true of (`whereFrom[0]` is `where`).
   */
  whereFrom: (Eval | null)[];
}

export const MAX_STEPS = 30;

const SEVERITIES: readonly string[] = ["low", "medium", "high", "critical"];

function exprsOf(rule: DetectRule): Expr[] {
  const out: Expr[] = [];
  for (const c of rule.clauses) {
    switch (c.kind) {
      case "Where":
        out.push(c.expr);
        break;
      case "By":
        out.push(...c.fields);
        break;
      case "Having":
        if (c.field) out.push(c.field);
        out.push(c.value);
        break;
      case "Sequence":
        for (const s of c.steps) {
          out.push(s.expr);
          if (s.count) out.push(s.count.value);
        }
        break;
      case "ThenRisk":
        out.push(c.target, c.amount);
        break;
      case "ThenQuarantine":
        out.push(c.target);
        break;
      default:
        break;
    }
  }
  return out;
}

/** Every bare name in the rule that is not a const: the event roots, plus `now`. */
function eventRoots(rule: DetectRule, isConst: (name: string) => boolean): Set<string> {
  const roots = new Set<string>(["now"]);
  for (const e of exprsOf(rule)) {
    walkExpr(e, (n) => {
      if (n.kind === "Name" && !isConst(n.name)) roots.add(n.name);
    });
  }
  return roots;
}

export function compileDetectRule(file: PolicyFile, rule: DetectRule, consts: ConstTable): CompiledDetectRule {
  const pkg = packageOf(file);
  const roots = eventRoots(rule, (n) => n !== "now" && consts.value(pkg, n) !== undefined);
  const compiler = new ExprCompiler(consts.scope(pkg, roots), { generatePaths: true });
  const problems: string[] = [];
  const constNumber = (e: Expr, what: string): number => {
    const c = compiler.compile(e);
    if (c.constant && typeof c.value === "number" && Number.isFinite(c.value)) return c.value;
    problems.push(`${what} \`${exprText(e)}\` is not a constant number`);
    return NaN;
  };
  // The checker refuses a negative amount (SP2028); a rule compiled without it never fires rather than lower a score.
  const riskAmount = (e: Expr): number => {
    const n = constNumber(e, "the risk amount");
    if (n >= 0) return n;
    if (n < 0) problems.push(`the risk amount \`${exprText(e)}\` is negative`);
    return NaN;
  };
  const whereFns: Eval[] = [];
  const out: CompiledDetectRule = {
    id: ruleId(file, rule),
    name: rule.name,
    severity: "medium",
    tags: [],
    where: null,
    by: [],
    withinMs: Infinity,
    having: null,
    sequence: null,
    risk: [],
    quarantine: [],
    problems,
    index: null,
    whereFrom: [],
  };
  for (const c of rule.clauses) {
    switch (c.kind) {
      case "Severity":
        if (SEVERITIES.includes(c.level)) out.severity = c.level as Severity;
        else problems.push(`unknown severity \`${c.level}\``);
        break;
      case "Tags":
        out.tags.push(...c.tags.map((t) => t.value));
        break;
      case "Where":
        whereFns.push(compiler.compile(c.expr).fn);
        break;
      case "By":
        out.by = c.fields.map((f) => ({ text: exprText(f), fn: compiler.compile(f).fn }));
        out.withinMs = c.within.ms;
        break;
      case "Having":
        out.having = {
          aggregate: c.aggregate,
          field: c.field ? compiler.compile(c.field).fn : null,
          op: c.op,
          n: constNumber(c.value, "the `having` threshold"),
        };
        break;
      case "Sequence":
        out.sequence = {
          ordered: c.ordered,
          steps: c.steps.map((s) => ({
            name: s.name,
            fn: compiler.compile(s.expr).fn,
            op: s.count ? s.count.op : ">=",
            n: s.count ? constNumber(s.count.value, `the count of step \`${s.name}\``) : 1,
          })),
        };
        break;
      case "ThenRisk":
        out.risk.push({
          target: compiler.compile(c.target).fn,
          amount: riskAmount(c.amount),
          forMs: c.duration ? c.duration.ms : undefined,
        });
        break;
      case "ThenQuarantine":
        out.quarantine.push({ target: compiler.compile(c.target).fn, forMs: c.duration ? c.duration.ms : undefined });
        break;
    }
  }
  out.where = clausesFrom(whereFns, 0);
  if (out.where === null && out.sequence === null) problems.push("the rule has no `where` and no `sequence`");
  // The detector keeps the steps an event matches as the bits of a number.
  if (out.sequence !== null && out.sequence.steps.length > MAX_STEPS) problems.push(`a sequence has more than ${MAX_STEPS} steps`);
  out.index = indexKeyOf(rule, compiler, roots, pkg);
  out.whereFrom = [out.where];
  if (out.index?.mode === "where") {
    // Each clause's conjuncts; k known true ones end inside clause j, or at its start.
    const clauses: Expr[][] = [];
    for (const c of rule.clauses) {
      if (c.kind !== "Where") continue;
      const conjuncts: Expr[] = [];
      flattenAnd(c.expr, conjuncts);
      clauses.push(conjuncts);
    }
    for (let k = 1; k <= out.index.chains[0]!.length; k++) {
      let j = 0;
      let skip = k;
      while (skip >= clauses[j]!.length && j < clauses.length - 1) skip -= clauses[j++]!.length;
      if (skip === clauses[j]!.length) {
        // The known conjuncts are every clause up to j: the rest are whole clauses.
        out.whereFrom.push(clausesFrom(whereFns, j + 1));
      } else if (skip === 0) {
        out.whereFrom.push(clausesFrom(whereFns, j));
      } else {
        const rest = compiler.compile(restOf(clauses[j]!.slice(skip), rule.span)).fn;
        out.whereFrom.push(clausesFrom([rest, ...whereFns.slice(j + 1)], 0));
      }
    }
  }
  return out;
}

/**
 * The `where` clauses from `from` on, run as the rule runs them: in source
 * order, each to be true for the next to run; the first value that is not
 * true is the result (a clause that is a lone non-boolean is just not true,
 * not an error). Null when none are left.
 */
function clausesFrom(fns: readonly Eval[], from: number): Eval | null {
  let out: Eval | null = null;
  for (let i = from; i < fns.length; i++) {
    const prev: Eval | null = out;
    const fn = fns[i]!;
    out = prev === null ? fn : (ctx) => {
      const a = prev(ctx);
      return a === true ? fn(ctx) : a;
    };
  }
  return out;
}

/**
 * `true and Ck and Ck+1 ...`: a clause's conjuncts left once the index has
 * shown its first k true. The leading `true` keeps `and`'s rule that a
 * conjunct must be a boolean (inside a clause `A and B`, a string B is an
 * error).
 */
function restOf(conjuncts: Expr[], span: Span): Expr {
  let e: Expr = { kind: "Bool", value: true, span };
  for (const c of conjuncts) e = { kind: "Binary", op: "and", opSpan: c.span, left: e, right: c, span: c.span };
  return e;
}

/** Every detect rule of `files`, in load order. */
export function compileDetectRules(files: readonly PolicyFile[]): CompiledDetectRule[] {
  const consts = new ConstTable(files);
  const out: CompiledDetectRule[] = [];
  for (const file of files) for (const item of file.items) if (item.kind === "Detect") out.push(compileDetectRule(file, item, consts));
  return out;
}
