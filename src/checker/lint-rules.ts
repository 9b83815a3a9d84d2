/**
 * Lint passes that look at one rule or one const at a time (warnings):
 *   SP3001 an allow rule without `when` grants every request;
 *   SP3010 so does one whose every `when` folds to true (`when true`, or a
 *          const switch left on: `when maintenance or ...`);
 *   SP3003 a const nobody reads;
 *   SP3004 `require mfa within` longer than a day;
 *   SP3006 an untagged rule in a file whose other rules map to controls;
 *   SP3014 a `when` or `unless` in `encryption default`, the baseline for all
 *          data: where it does not hold the default contributes nothing, and
 *          data no named rule covers needs no encryption at all.
 */
import type { Expr, PolicyFile } from "../parser/ast.js";
import { diagnostic } from "../diagnostics/diagnostic.js";
import { report, type CheckContext } from "./context.js";
import { foldCondition } from "./lint-never-applies.js";
import { allRules, isNamedRule, ruleName } from "./rule-ids.js";
import { isNode } from "./sites.js";

const DAY_MS = 24 * 3600_000;

export function lintAllowWithoutWhen(ctx: CheckContext): void {
  for (const { rule, file } of allRules(ctx)) {
    if (rule.kind !== "AccessRule" || rule.effect !== "allow") continue;
    const clauses = (Array.isArray(rule.clauses) ? rule.clauses : []).filter(isNode);
    const whens = clauses.filter((c) => c.kind === "When");
    if (whens.length === 0) {
      report(ctx, diagnostic("SP3001", rule.nameSpan ?? rule.span, { name: ruleName(rule) }));
      continue;
    }
    const always = (e: Expr, value: boolean) => isNode(e) && foldCondition(ctx, file, "access", e) === value;
    // A rule whose `unless` is always true never applies (SP3002 says so); it grants nothing.
    if (clauses.some((c) => c.kind === "Unless" && always(c.expr, true))) continue;
    const first = whens[0]!;
    if (whens.every((c) => c.kind === "When" && always(c.expr, true)) && first.kind === "When" && isNode(first.expr)) {
      report(ctx, diagnostic("SP3010", first.expr.span, { name: ruleName(rule) }));
    }
  }
}

export function lintConditionalDefault(ctx: CheckContext): void {
  for (const { rule } of allRules(ctx)) {
    if (rule.kind !== "EncryptionRule" || rule.name !== null) continue;
    for (const c of Array.isArray(rule.clauses) ? rule.clauses : []) {
      if (!isNode(c) || (c.kind !== "When" && c.kind !== "Unless") || !isNode(c.expr)) continue;
      report(ctx, diagnostic("SP3014", c.expr.span, { clause: c.kind === "When" ? "when" : "unless" }));
    }
  }
}

export function lintUnusedConsts(ctx: CheckContext): void {
  for (const table of ctx.consts.values()) {
    for (const { decl } of table.values()) {
      if (!ctx.usedConsts.has(decl)) {
        report(ctx, diagnostic("SP3003", decl.nameSpan ?? decl.span, { name: decl.name }, { hint: "remove it, or use it in a rule" }));
      }
    }
  }
}

export function lintMfaWindow(ctx: CheckContext): void {
  for (const { rule } of allRules(ctx)) {
    if (rule.kind !== "AccessRule") continue;
    for (const c of Array.isArray(rule.clauses) ? rule.clauses : []) {
      if (!isNode(c) || c.kind !== "RequireMfa" || !isNode(c.within)) continue;
      if (c.within.ms > DAY_MS) report(ctx, diagnostic("SP3004", c.within.span, { duration: c.within.raw }));
    }
  }
}

export function lintUntaggedRules(ctx: CheckContext): void {
  for (const file of ctx.files) lintUntaggedInFile(ctx, file);
}

function lintUntaggedInFile(ctx: CheckContext, file: PolicyFile): void {
  const rules = (Array.isArray(file?.items) ? file.items : []).filter(isNamedRule);
  const tagged = (r: (typeof rules)[number]) => (Array.isArray(r.clauses) ? r.clauses : []).some((c) => isNode(c) && c.kind === "Tags");
  if (!rules.some(tagged)) return;
  for (const r of rules) {
    if (!tagged(r)) {
      report(ctx, diagnostic("SP3006", r.nameSpan ?? r.span, { name: ruleName(r) }, { hint: 'add `tags [...]` naming the controls it implements, e.g. `tags ["ISO27001:A.8.2"]`' }));
    }
  }
}
