/**
 * Lint SP3002: a rule that can never apply. A `when` (or a detect `where`)
 * that folds to false, or an `unless` that folds to true, makes the whole
 * rule dead. Folding is partial here: `x and false` is false whatever `x` is,
 * which is exactly the leftover-debugging-switch case this lint exists for.
 */
import type { Expr, PolicyFile } from "../parser/ast.js";
import { diagnostic } from "../diagnostics/diagnostic.js";
import { constValueOf, report, type CheckContext } from "./context.js";
import { fold, NOT_CONSTANT } from "./fold.js";
import { allRules, ruleName } from "./rule-ids.js";
import { BLOCK_ROOTS, type BlockKind } from "./scopes.js";
import { isNode } from "./sites.js";

export function lintNeverApplies(ctx: CheckContext): void {
  for (const { rule, file } of allRules(ctx)) {
    const block: BlockKind =
      rule.kind === "AccessRule" ? "access" : rule.kind === "EncryptionRule" ? "encryption" : rule.kind === "Mesh" ? "mesh" : "detect";
    for (const c of Array.isArray(rule.clauses) ? rule.clauses : []) {
      if (!isNode(c)) continue;
      let dead: boolean | undefined;
      let expr: Expr | undefined;
      if (c.kind === "When" || c.kind === "Where") {
        expr = c.expr;
        dead = foldCondition(ctx, file, block, c.expr) === false;
      } else if (c.kind === "Unless") {
        expr = c.expr;
        dead = foldCondition(ctx, file, block, c.expr) === true;
      }
      if (!dead || !expr || !isNode(expr)) continue;
      const why = c.kind === "Unless" ? "its `unless` is always true" : `its \`${c.kind === "When" ? "when" : "where"}\` is always false`;
      report(ctx, diagnostic("SP3002", expr.span, { name: ruleName(rule), why }, { hint: "remove the rule, or fix the condition" }));
    }
  }
}

/** A condition folded as far as consts allow: true or false when constant whatever the input, else undefined. */
export function foldCondition(ctx: CheckContext, file: PolicyFile, block: BlockKind, e: Expr): boolean | undefined {
  if (!isNode(e)) return undefined;
  const roots = BLOCK_ROOTS[block];
  const v = fold(e, {
    partial: true,
    name: (n) => (roots.includes(n) ? NOT_CONSTANT : (constValueOf(ctx, file, n) ?? NOT_CONSTANT)),
  });
  return typeof v === "boolean" ? v : undefined;
}
