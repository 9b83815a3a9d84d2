/**
 * Lint SP3007: two rules of the same kind and effect whose conditions are
 * identical (one of them is redundant, or a copy-paste lost its edit).
 * Conditions are compared as ASTs without spans, parentheses or the
 * spelling of literals (`60m` equals `1h`), and clause order does not
 * matter. Each rule is hashed once to a canonical string, so this is linear
 * in the number of rules.
 *
 * An allow rule's `require`s are conditions too: two allow rules with one
 * `when` and different requirements are alternatives (either one grants),
 * which no single rule can say. A mesh's identity includes its network and
 * requirements: two meshes admitting alike are still two meshes. A const
 * name stands for its package's const, so the same spelling in two
 * packages is not the same condition.
 */
import type { DetectRule, Expr, NamedRule, PolicyFile } from "../parser/ast.js";
import { diagnostic } from "../diagnostics/diagnostic.js";
import { lookupConst, report, type CheckContext } from "./context.js";
import { allRules, ruleName } from "./rule-ids.js";
import { BLOCK_ROOTS, type BlockKind } from "./scopes.js";
import { isNode } from "./sites.js";

/** The canonical text of a bare name (a const is qualified by its package). */
type NameKey = (name: string) => string;
const plainName: NameKey = (n) => n;

/**
 * A canonical text of an expression: equal iff the ASTs are equal ignoring
 * spans and parentheses. Strings are length-prefixed, so no string content
 * can imitate structure. Plain concatenation: this runs over every rule.
 */
export function canonicalExpr(e: Expr, depth = 0, nameKey: NameKey = plainName): string {
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
      return "[" + canonicalList(e.items, d, nameKey) + "]";
    case "Object": {
      let out = "{";
      if (Array.isArray(e.entries)) for (const en of e.entries) out += en ? "s" + String(en.key).length + ":" + en.key + "=" + canonicalExpr(en.value, d, nameKey) + "," : "?,";
      return out + "}";
    }
    case "Name":
      return "$" + nameKey(String(e.name));
    case "Member":
      return canonicalExpr(e.object, d, nameKey) + "." + e.property;
    case "Index":
      return canonicalExpr(e.object, d, nameKey) + "[" + canonicalExpr(e.index, d, nameKey) + "]";
    case "Call":
      return e.callee + "(" + canonicalList(e.args, d, nameKey) + ")";
    case "Unary":
      return "(" + e.op + " " + canonicalExpr(e.operand, d, nameKey) + ")";
    case "Binary":
      return "(" + canonicalExpr(e.left, d, nameKey) + " " + e.op + " " + canonicalExpr(e.right, d, nameKey) + ")";
    case "Has":
      return "(" + canonicalExpr(e.object, d, nameKey) + " has s" + String(e.name).length + ":" + e.name + ")";
    case "Paren":
      return canonicalExpr(e.expr, d, nameKey);
    default:
      return "?";
  }
}

function canonicalList(items: Expr[] | undefined, depth: number, nameKey: NameKey): string {
  if (!Array.isArray(items)) return "";
  let out = "";
  for (const x of items) out += canonicalExpr(x, depth, nameKey) + ",";
  return out;
}

function sortedClauses(rule: NamedRule, kind: string, nameKey: NameKey): string {
  const out: string[] = [];
  for (const cl of Array.isArray(rule.clauses) ? rule.clauses : []) {
    if (isNode(cl) && cl.kind === kind) out.push(canonicalExpr((cl as { expr: Expr }).expr, 0, nameKey));
  }
  return out.sort().join("&");
}

/** An allow rule's or a mesh's requirements, in any order (`require mfa` and `require key_age` by their windows). */
function requirements(rule: NamedRule, nameKey: NameKey): string {
  const out: string[] = [];
  for (const cl of Array.isArray(rule.clauses) ? rule.clauses : []) {
    if (!isNode(cl)) continue;
    if (cl.kind === "Require") out.push(`R:${canonicalExpr(cl.expr, 0, nameKey)}`);
    else if (cl.kind === "RequireMfa") out.push(`M:${isNode(cl.within) ? cl.within.ms : "any"}`);
    else if (cl.kind === "RequireKeyAge") out.push(`K:${isNode(cl.within) ? cl.within.ms : "?"}`);
  }
  return out.sort().join("&");
}

function meshNetwork(rule: NamedRule): string {
  for (const cl of Array.isArray(rule.clauses) ? rule.clauses : []) {
    if (isNode(cl) && cl.kind === "Network" && isNode(cl.cidr)) return String(cl.cidr.value);
  }
  return "";
}

function detectConditions(rule: DetectRule, nameKey: NameKey): string {
  const c = (e: Expr) => canonicalExpr(e, 0, nameKey);
  const parts: string[] = [];
  for (const cl of Array.isArray(rule.clauses) ? rule.clauses : []) {
    if (!isNode(cl)) continue;
    switch (cl.kind) {
      case "Where":
        parts.push(`W:${c(cl.expr)}`);
        break;
      case "By":
        parts.push(`B:${(Array.isArray(cl.fields) ? cl.fields : []).map((f) => c(f)).join(",")}/${cl.within?.ms}`);
        break;
      case "Having":
        parts.push(`H:${cl.aggregate}:${cl.field ? c(cl.field) : ""}${cl.op}${c(cl.value)}`);
        break;
      case "Sequence":
        parts.push(
          `S:${cl.ordered}:${(Array.isArray(cl.steps) ? cl.steps : [])
            .map((s) => `${c(s?.expr)}${s?.count ? `${s.count.op}${c(s.count.value)}` : ""}`)
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
function conditionKey(rule: NamedRule, nameKey: NameKey): string | undefined {
  const when = () => `${sortedClauses(rule, "When", nameKey)}|${sortedClauses(rule, "Unless", nameKey)}`;
  switch (rule.kind) {
    case "AccessRule":
      return `access:${rule.effect}|${when()}|${requirements(rule, nameKey)}`;
    case "EncryptionRule":
      return rule.name === null ? undefined : `encryption|${when()}`;
    case "Mesh":
      return `mesh|${when()}|${requirements(rule, nameKey)}|s${meshNetwork(rule).length}:${meshNetwork(rule)}`;
    case "Detect":
      return `detect|${detectConditions(rule, nameKey)}`;
    default:
      return undefined;
  }
}

/** Names in `rule`: a root bound by its block stays bare; a const of the package is qualified by it. */
function nameKeyFor(ctx: CheckContext, rule: NamedRule, file: PolicyFile): NameKey {
  const block: BlockKind =
    rule.kind === "AccessRule" ? "access" : rule.kind === "EncryptionRule" ? "encryption" : rule.kind === "Mesh" ? "mesh" : "detect";
  const roots = BLOCK_ROOTS[block];
  const pkg = String(ctx.pkgOf(file)); // a mangled AST may have no package name
  return (n) => (!roots.includes(n) && lookupConst(ctx, file, n) !== undefined ? `${pkg.length}:${pkg}/${n}` : n);
}

export function lintDuplicateConditions(ctx: CheckContext): void {
  const seen = new Map<string, { rule: NamedRule; file: PolicyFile }>();
  for (const { rule, file } of allRules(ctx)) {
    const key = conditionKey(rule, nameKeyFor(ctx, rule, file));
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
