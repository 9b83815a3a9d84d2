/**
 * Lint SP3007: two rules of the same kind and effect whose conditions are
 * identical (one of them is redundant, or a copy-paste lost its edit).
 * Conditions are compared as ASTs without spans, parentheses or the
 * spelling of literals (`60m` equals `1h`), and clause order does not
 * matter. Each rule is hashed once to a canonical string, so this is linear
 * in the number of rules.
 */
import type { DetectRule, Expr, NamedRule, PolicyFile } from "../parser/ast.js";
import { diagnostic } from "../diagnostics/diagnostic.js";
import { report, type CheckContext } from "./context.js";
import { allRules, ruleName } from "./rule-ids.js";
import { isNode } from "./sites.js";

/**
 * A canonical text of an expression: equal iff the ASTs are equal ignoring
 * spans and parentheses. Strings are length-prefixed, so no string content
 * can imitate structure. Plain concatenation: this runs over every rule.
 */
export function canonicalExpr(e: Expr, depth = 0): string {
  if (!isNode(e)) return "?";
  if (depth > 3000) return "…";
  const d = depth + 1;
  switch (e.kind) {
    case "String":
      return "s" + String(e.value).length + ":" + e.value;
    case "Number":
      return "#" + e.value;
    case "Bool":
      return e.value ? "T" : "F";
    case "Duration":
      return e.ms + "ms";
    case "List":
      return "[" + canonicalList(e.items, d) + "]";
    case "Object": {
      let out = "{";
      if (Array.isArray(e.entries)) for (const en of e.entries) out += en ? "s" + String(en.key).length + ":" + en.key + "=" + canonicalExpr(en.value, d) + "," : "?,";
      return out + "}";
    }
    case "Name":
      return "$" + e.name;
    case "Member":
      return canonicalExpr(e.object, d) + "." + e.property;
    case "Index":
      return canonicalExpr(e.object, d) + "[" + canonicalExpr(e.index, d) + "]";
    case "Call":
      return e.callee + "(" + canonicalList(e.args, d) + ")";
    case "Unary":
      return "(" + e.op + " " + canonicalExpr(e.operand, d) + ")";
    case "Binary":
      return "(" + canonicalExpr(e.left, d) + " " + e.op + " " + canonicalExpr(e.right, d) + ")";
    case "Has":
      return "(" + canonicalExpr(e.object, d) + " has s" + String(e.name).length + ":" + e.name + ")";
    case "Paren":
      return canonicalExpr(e.expr, d);
    default:
      return "?";
  }
}

function canonicalList(items: Expr[] | undefined, depth: number): string {
  if (!Array.isArray(items)) return "";
  let out = "";
  for (const x of items) out += canonicalExpr(x, depth) + ",";
  return out;
}

function sortedClauses(rule: NamedRule, kind: string): string {
  const out: string[] = [];
  for (const cl of Array.isArray(rule.clauses) ? rule.clauses : []) {
    if (isNode(cl) && cl.kind === kind) out.push(canonicalExpr((cl as { expr: Expr }).expr));
  }
  return out.sort().join("&");
}

function detectConditions(rule: DetectRule): string {
  const parts: string[] = [];
  for (const cl of Array.isArray(rule.clauses) ? rule.clauses : []) {
    if (!isNode(cl)) continue;
    switch (cl.kind) {
      case "Where":
        parts.push(`W:${canonicalExpr(cl.expr)}`);
        break;
      case "By":
        parts.push(`B:${(Array.isArray(cl.fields) ? cl.fields : []).map((f) => canonicalExpr(f)).join(",")}/${cl.within?.ms}`);
        break;
      case "Having":
        parts.push(`H:${cl.aggregate}:${cl.field ? canonicalExpr(cl.field) : ""}${cl.op}${canonicalExpr(cl.value)}`);
        break;
      case "Sequence":
        parts.push(
          `S:${cl.ordered}:${(Array.isArray(cl.steps) ? cl.steps : [])
            .map((s) => `${canonicalExpr(s?.expr)}${s?.count ? `${s.count.op}${canonicalExpr(s.count.value)}` : ""}`)
            .join(";")}`,
        );
        break;
      default:
        break;
    }
  }
  return parts.sort().join("|");
}

/** The key two rules share exactly when they are of one kind and effect with identical conditions. */
function conditionKey(rule: NamedRule): string | undefined {
  switch (rule.kind) {
    case "AccessRule":
      return `access:${rule.effect}|${sortedClauses(rule, "When")}|${sortedClauses(rule, "Unless")}`;
    case "EncryptionRule":
      return rule.name === null ? undefined : `encryption|${sortedClauses(rule, "When")}|${sortedClauses(rule, "Unless")}`;
    case "Mesh":
      return `mesh|${sortedClauses(rule, "When")}|${sortedClauses(rule, "Unless")}`;
    case "Detect":
      return `detect|${detectConditions(rule)}`;
    default:
      return undefined;
  }
}

export function lintDuplicateConditions(ctx: CheckContext): void {
  const seen = new Map<string, { rule: NamedRule; file: PolicyFile }>();
  for (const { rule, file } of allRules(ctx)) {
    const key = conditionKey(rule);
    if (key === undefined) continue;
    const first = seen.get(key);
    if (!first) {
      seen.set(key, { rule, file });
      continue;
    }
    const samePackage = ctx.pkgOf(first.file) === ctx.pkgOf(file);
    const other = samePackage ? ruleName(first.rule) : `${ctx.pkgOf(first.file)}/${ruleName(first.rule)}`;
    report(
      ctx,
      diagnostic("SP3007", rule.nameSpan ?? rule.span, { name: ruleName(rule), other }, {
        hint: "merge the two rules, or make their conditions differ",
        related: [{ message: "the first rule", span: first.rule.nameSpan ?? first.rule.span }],
      }),
    );
  }
}
