/**
 * Pass: detect rules (spec section 7). A rule needs a condition (`where` or
 * `sequence`/`all`, SP2029); `having` needs `by ... within` (SP2017); step
 * counts are positive integers (SP2018); steps in one sequence have distinct
 * names (SP2021); severities are the four levels (SP2024); grouping fields,
 * the distinct field and `then` targets are event field paths, thresholds
 * and risk amounts are numbers of at least 0 (SP2028).
 */
import type { DetectRule, Expr, PolicyFile } from "../parser/ast.js";
import { diagnostic } from "../diagnostics/diagnostic.js";
import { didYouMean } from "../diagnostics/suggest.js";
import { constValueOf, report, type CheckContext } from "./context.js";
import { fold, NOT_CONSTANT } from "./fold.js";
import { attributePath, isNode } from "./sites.js";
import { displayValue } from "./values.js";

const SEVERITIES = ["low", "medium", "high", "critical"];

export function checkDetect(ctx: CheckContext): void {
  for (const file of ctx.files) {
    for (const item of Array.isArray(file?.items) ? file.items : []) {
      if (isNode(item) && item.kind === "Detect") checkRule(ctx, file, item);
    }
  }
}

function checkRule(ctx: CheckContext, file: PolicyFile, rule: DetectRule): void {
  const clauses = Array.isArray(rule.clauses) ? rule.clauses.filter(isNode) : [];
  const hasBy = clauses.some((c) => c.kind === "By");
  const hasCondition = clauses.some((c) => c.kind === "Where" || c.kind === "Sequence");
  if (!hasCondition) {
    report(
      ctx,
      diagnostic("SP2029", rule.nameSpan ?? rule.span, { block: `detect \`${rule.name}\``, clause: "where` or `sequence" }, {
        hint: "add `where EXPR` to say which events the rule looks at",
      }),
    );
  }
  const constant = (e: Expr) => fold(e, { name: (n) => constValueOf(ctx, file, n) ?? NOT_CONSTANT });

  for (const c of clauses) {
    switch (c.kind) {
      case "Severity":
        if (!SEVERITIES.includes(c.level)) {
          const hint = didYouMean(String(c.level), SEVERITIES);
          report(ctx, diagnostic("SP2024", c.levelSpan ?? c.span, { level: String(c.level) }, hint ? { hint } : {}));
        }
        break;
      case "By":
        for (const f of Array.isArray(c.fields) ? c.fields : []) fieldPath(ctx, f, "a `by` field");
        break;
      case "Having": {
        if (!hasBy) report(ctx, diagnostic("SP2017", c.span, {}, { hint: "add `by FIELD within DURATION` to group the events it counts" }));
        if (c.aggregate === "distinct" && c.field) fieldPath(ctx, c.field, "the `distinct` field");
        const v = isNode(c.value) ? constant(c.value) : NOT_CONSTANT;
        if (v !== NOT_CONSTANT && (typeof v !== "number" || v < 0)) {
          report(ctx, diagnostic("SP2028", c.value.span, { what: "the `having` threshold", expected: "a number of at least 0" }));
        }
        break;
      }
      case "Sequence": {
        const seen = new Map<string, boolean>();
        for (const s of Array.isArray(c.steps) ? c.steps : []) {
          if (!isNode(s)) continue;
          if (seen.has(s.name)) {
            report(ctx, diagnostic("SP2021", s.nameSpan ?? s.span, { what: "step", name: s.name }, { hint: "give each step of a sequence its own name" }));
          }
          seen.set(s.name, true);
          if (s.count && isNode(s.count.value)) stepCount(ctx, s.count.value, constant(s.count.value));
        }
        break;
      }
      case "ThenRisk": {
        fieldPath(ctx, c.target, "the risk target");
        const v = isNode(c.amount) ? constant(c.amount) : NOT_CONSTANT;
        if (v !== NOT_CONSTANT && typeof v !== "number") {
          report(ctx, diagnostic("SP2028", c.amount.span, { what: "the risk amount", expected: "a number" }));
        } else if (typeof v === "number" && !(v >= 0)) {
          // `then risk` raises (spec section 7): a negative amount would let one alert cancel another's raise.
          report(ctx, diagnostic("SP2028", c.amount.span, { what: "the risk amount", expected: "a number of at least 0" }));
        }
        break;
      }
      case "ThenQuarantine":
        fieldPath(ctx, c.target, "the quarantine target");
        break;
      default:
        break;
    }
  }
}

function fieldPath(ctx: CheckContext, e: Expr, what: string): void {
  if (!isNode(e)) return;
  const p = attributePath(e);
  if (p && !p.segments.some((s) => s.kind === "dynamic")) return;
  report(ctx, diagnostic("SP2028", e.span, { what, expected: "an event field path such as `user.name`" }));
}

function stepCount(ctx: CheckContext, e: Expr, v: ReturnType<typeof fold>): void {
  // A count that reads the event is SP2015 (names pass); here: a constant of the wrong kind.
  if (v === NOT_CONSTANT) {
    if (e.kind === "Number") report(ctx, diagnostic("SP2018", e.span, { value: e.raw }));
    return;
  }
  if (typeof v === "number" && Number.isInteger(v) && v > 0) return;
  report(ctx, diagnostic("SP2018", e.span, { value: typeof v === "number" ? String(v) : displayValue(v) }, { hint: "write how many matching events the step needs, e.g. `count >= 5`" }));
}
