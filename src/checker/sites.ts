/**
 * Where expressions sit: every pass that looks at expressions starts from the
 * list of "sites" (a top-level expression of a clause, with the block kind
 * that binds its names), and walks down from there.
 *
 * The walkers are defensive: an AST built by error recovery may lack a node
 * where the types promise one, and the checker must never throw on it.
 */
import type { Expr, Item, NameRef, PolicyFile, StringLit } from "../parser/ast.js";
import type { Span } from "../parser/span.js";
import type { BlockKind } from "./scopes.js";

export type SiteRole =
  | "when"
  | "unless"
  | "require"
  | "where"
  | "by"
  | "having-field"
  | "having-value"
  | "step"
  | "step-count"
  | "risk-target"
  | "risk-amount"
  | "quarantine-target"
  | "const"
  | "test-input"
  | "expect";

export interface ExprSite {
  expr: Expr;
  block: BlockKind;
  role: SiteRole;
  file: PolicyFile;
  item: Item;
  /** For constant positions: what must be constant ("const `x`", "a test input"). */
  constant?: string;
  /** Constant positions inside `detect` (their bare names would be event fields). */
  inDetect?: boolean;
}

export function isNode(x: unknown): x is { kind: string; span: Span } {
  return typeof x === "object" && x !== null && typeof (x as { kind?: unknown }).kind === "string";
}

/** A string literal node whose value really is a string (recovery can leave holes). */
export function isStringLit(x: unknown): x is StringLit {
  return isNode(x) && x.kind === "String" && typeof (x as { value?: unknown }).value === "string";
}

function arr<T>(x: T[] | null | undefined): T[] {
  return Array.isArray(x) ? x : [];
}

/** Every expression site of one file, in source order. */
export function fileSites(file: PolicyFile): ExprSite[] {
  const out: ExprSite[] = [];
  const push = (expr: unknown, item: Item, block: BlockKind, role: SiteRole, extra: Partial<ExprSite> = {}) => {
    if (isNode(expr)) out.push({ expr: expr as Expr, item, block, role, file, ...extra });
  };
  for (const item of arr(file?.items)) {
    if (!isNode(item)) continue;
    switch (item.kind) {
      case "Const":
        push(item.value, item, "constant", "const", { constant: `const \`${item.name}\`` });
        break;
      case "AccessRule":
      case "EncryptionRule":
      case "Mesh": {
        const block: BlockKind = item.kind === "AccessRule" ? "access" : item.kind === "EncryptionRule" ? "encryption" : "mesh";
        for (const c of arr(item.clauses as { kind: string; expr?: Expr; span: Span }[])) {
          if (!isNode(c)) continue;
          if (c.kind === "When") push(c.expr, item, block, "when");
          else if (c.kind === "Unless") push(c.expr, item, block, "unless");
          else if (c.kind === "Require") push(c.expr, item, block, "require");
        }
        break;
      }
      case "Detect":
        for (const c of arr(item.clauses)) {
          if (!isNode(c)) continue;
          switch (c.kind) {
            case "Where":
              push(c.expr, item, "detect", "where");
              break;
            case "By":
              for (const f of arr(c.fields)) push(f, item, "detect", "by");
              break;
            case "Having":
              push(c.field, item, "detect", "having-field");
              push(c.value, item, "constant", "having-value", { constant: "the `having` threshold", inDetect: true });
              break;
            case "Sequence":
              for (const s of arr(c.steps)) {
                if (!isNode(s)) continue;
                push(s.expr, item, "detect", "step");
                if (s.count) push(s.count.value, item, "constant", "step-count", { constant: "a step count", inDetect: true });
              }
              break;
            case "ThenRisk":
              push(c.target, item, "detect", "risk-target");
              push(c.amount, item, "constant", "risk-amount", { constant: "the risk amount", inDetect: true });
              break;
            case "ThenQuarantine":
              push(c.target, item, "detect", "quarantine-target");
              break;
            default:
              break;
          }
        }
        break;
      case "Test":
        if (item.input && isNode(item.input)) push(item.input.value, item, "constant", "test-input", { constant: "a test input" });
        for (const e of arr(item.expects)) {
          if (isNode(e) && e.kind === "ExpectExpr") push(e.expr, item, "expect", "expect");
        }
        break;
      default:
        break;
    }
  }
  return out;
}

/**
 * Pre-order walk; `visit` returning false skips that node's children.
 * Recursive without allocating: the parser caps AST depth (SP1013), so the
 * stack is bounded, and this runs over every expression several times.
 */
export function walkExpr(e: Expr, visit: (e: Expr) => boolean | void): void {
  if (!isNode(e) || visit(e) === false) return;
  switch (e.kind) {
    case "List":
      if (Array.isArray(e.items)) for (const x of e.items) walkExpr(x, visit);
      return;
    case "Object":
      if (Array.isArray(e.entries)) for (const en of e.entries) if (en) walkExpr(en.value, visit);
      return;
    case "Member":
    case "Has":
      walkExpr(e.object, visit);
      return;
    case "Index":
      walkExpr(e.object, visit);
      walkExpr(e.index, visit);
      return;
    case "Call":
      if (Array.isArray(e.args)) for (const x of e.args) walkExpr(x, visit);
      return;
    case "Unary":
      walkExpr(e.operand, visit);
      return;
    case "Binary":
      walkExpr(e.left, visit);
      walkExpr(e.right, visit);
      return;
    case "Paren":
      walkExpr(e.expr, visit);
      return;
    default:
      return;
  }
}

/** `(x)` -> `x`, through any depth of parentheses. */
export function unparen(e: Expr): Expr {
  let cur = e;
  while (isNode(cur) && cur.kind === "Paren" && isNode(cur.expr)) cur = cur.expr;
  return cur;
}

export type PathSegment =
  | { kind: "prop"; name: string; span: Span }
  | { kind: "index"; index: number; span: Span }
  | { kind: "dynamic"; span: Span };

export interface AttributePath {
  root: NameRef;
  segments: PathSegment[];
  span: Span;
}

/**
 * `principal.roles`, `a["x-y"][0]`: a chain of members and indexes over a
 * bare name. Undefined for anything else (a call, a literal, ...).
 */
export function attributePath(e: Expr): AttributePath | undefined {
  const segments: PathSegment[] = [];
  let cur: Expr = e;
  for (let depth = 0; depth < 10_000; depth++) {
    if (!isNode(cur)) return undefined;
    if (cur.kind === "Member") {
      segments.push({ kind: "prop", name: String(cur.property), span: cur.propertySpan ?? cur.span });
      cur = cur.object;
    } else if (cur.kind === "Index") {
      const ix = isNode(cur.index) ? unparen(cur.index) : undefined;
      if (ix && ix.kind === "String") segments.push({ kind: "prop", name: ix.value, span: ix.span });
      else if (ix && ix.kind === "Number" && Number.isInteger(ix.value) && ix.value >= 0) segments.push({ kind: "index", index: ix.value, span: ix.span });
      else segments.push({ kind: "dynamic", span: cur.span });
      cur = cur.object;
    } else if (cur.kind === "Paren") {
      cur = cur.expr;
    } else if (cur.kind === "Name") {
      return { root: cur, segments: segments.reverse(), span: e.span };
    } else {
      return undefined;
    }
  }
  return undefined;
}

/** `principal.roles[0]["x-y"]` as text. */
export function pathText(p: AttributePath, upTo = p.segments.length): string {
  let out = p.root.name;
  for (const s of p.segments.slice(0, upTo)) {
    if (s.kind === "prop") out += /^[A-Za-z_][A-Za-z0-9_]*$/.test(s.name) ? `.${s.name}` : `[${JSON.stringify(s.name)}]`;
    else if (s.kind === "index") out += `[${s.index}]`;
    else out += "[...]";
  }
  return out;
}
