/**
 * Lint SP3013: an expression in a rule that reads no input (no attribute,
 * clock or store) and yet cannot be evaluated: a division by zero
 * (`context.age > 5m / 0`), a string that is not an address tested against
 * an IP range (`"prod" in ip("10.0.0.0/8")`). `check` passes such a rule, and
 * every request that reaches it gets an evaluation error: a deny rule denies
 * (fail closed), an allow rule never allows, a detect rule never fires. Only
 * this says the rule is broken.
 *
 * A const gets SP2033, an error: the spec folds consts when policies load.
 * Inside a rule the spec makes it an evaluation error, so here it is a
 * warning (`lint --strict` fails on it) and the rule still loads.
 *
 * The expression is folded as the compiler folds it (ExprCompiler, over the
 * consts as ConstTable folds them), so the reason is the evaluator's; only a
 * set without errors is folded (an ill-typed tree is not). The innermost
 * failing expression is named once; one that fails because a const does is
 * left to SP2033, and a missing attribute (`{a: 1}.b`) to `??`, which
 * replaces exactly that.
 */
import type { Expr, PolicyFile } from "../parser/ast.js";
import { diagnostic } from "../diagnostics/diagnostic.js";
import { ConstTable } from "../evaluator/compile.js";
import { ExprCompiler } from "../evaluator/compile-expr.js";
import { exprText } from "../evaluator/expr-text.js";
import { EvalError } from "../evaluator/values.js";
import { report, type CheckContext } from "./context.js";
import { ruleName } from "./rule-ids.js";
import { BLOCK_ROOTS } from "./scopes.js";
import { isNode, walkExpr, type ExprSite } from "./sites.js";

const RULE_BLOCKS = new Set(["access", "encryption", "mesh", "detect"]);

export function lintEvaluationErrors(ctx: CheckContext): void {
  // The compiler takes a tree the checker passed; a recovered or hand-built one (with holes) is not folded.
  if (ctx.errors.length > 0 || !ctx.files.every(wellFormed)) return;
  const table = new ConstTable(ctx.files);
  for (const site of ctx.sites) {
    if (!RULE_BLOCKS.has(site.block) || site.constant !== undefined) continue;
    const compiler = new ExprCompiler(table.scope(ctx.pkgOf(site.file), rootsOf(site, table, ctx.pkgOf(site.file))));
    const failing: { e: Expr; err: EvalError }[] = [];
    try {
      walkExpr(site.expr, (e) => {
        if (!isNode(e)) return false;
        const c = compiler.constantOf(e);
        if (c === null) return true;
        if (c.value instanceof EvalError && !c.value.missing) failing.push({ e, err: c.value });
        return true;
      });
    } catch {
      // A tree the checker let through but the compiler cannot take (only hand-built ones, with holes
      // where nodes belong): no warning; loading compiles the same tree and fails closed on it.
      continue;
    }
    for (const { e, err } of failing) {
      if (e.kind === "Name") continue; // a const: SP2033
      const inner = failing.some((o) => o.e !== e && o.e.span.start >= e.span.start && o.e.span.end <= e.span.end);
      if (inner) continue;
      const rule = site.item.kind === "AccessRule" || site.item.kind === "EncryptionRule" || site.item.kind === "Mesh" || site.item.kind === "Detect" ? ruleName(site.item) : "?";
      report(ctx, diagnostic("SP3013", e.span, { name: rule, expr: exprText(e, 60), reason: err.message }));
    }
  }
}

function wellFormed(f: PolicyFile): boolean {
  return isNode(f) && Array.isArray(f.items) && f.items.every(isNode);
}

/** The names bound to input where the site is: the block's roots; in a detect rule every bare name that is no const (an event field). */
function rootsOf(site: ExprSite, table: ConstTable, pkg: string): ReadonlySet<string> {
  const roots = new Set<string>(BLOCK_ROOTS[site.block]);
  if (site.block === "detect") {
    walkExpr(site.expr, (e) => {
      if (e.kind === "Name" && e.name !== "now" && table.value(pkg, e.name) === undefined) roots.add(e.name);
    });
  }
  return roots;
}
