/**
 * Pass: attribute paths against declared schemas. Every path a rule reads is
 * walked through the schema of its input kind: a property the schema rules
 * out is SP2009 (with the nearest allowed name as a hint), and a literal
 * compared with an attribute whose schema type differs is SP2010.
 *
 * Input roots: access `{principal, action, resource, context, time}`,
 * encryption `{data, time}`, mesh `{node, time}`; in detect, event field
 * paths walk the event schema from the event's root.
 */
import type { BinaryExpr, Expr, SchemaKind } from "../parser/ast.js";
import type { Span } from "../parser/span.js";
import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.js";
import { didYouMean } from "../diagnostics/suggest.js";
import { constValueOf, lookupConst, report, type CheckContext } from "./context.js";
import { fold, NOT_CONSTANT } from "./fold.js";
import { BLOCK_ROOTS, type BlockKind } from "./scopes.js";
import { attributePath, isNode, pathText, unparen, walkExpr, type AttributePath, type ExprSite, type PathSegment } from "./sites.js";
import { elementSchema, schemaTypes, walkSchema, type SchemaAt } from "./schema-walk.js";
import { displayValue, typeOfValue, type ConstValue } from "./values.js";

const KIND_OF_BLOCK: Partial<Record<BlockKind, SchemaKind>> = { access: "access", encryption: "encryption", mesh: "mesh", detect: "event" };
const COMPARE_OPS = new Set(["==", "!=", "<", "<=", ">", ">="]);

export function checkSchemaPaths(ctx: CheckContext): void {
  if (ctx.schemas.size === 0) return;
  for (const site of ctx.sites) {
    const kind = KIND_OF_BLOCK[site.block];
    const schema = kind && ctx.schemas.get(kind);
    if (!kind || !schema) continue;
    new SiteWalker(ctx, site, kind, schema.schema).scan(site.expr);
  }
  checkImplicitPaths(ctx);
}

/** Paths the clauses read without spelling them: `require mfa`, mesh `require key_age`. */
function checkImplicitPaths(ctx: CheckContext): void {
  for (const file of ctx.files) {
    for (const item of Array.isArray(file?.items) ? file.items : []) {
      if (!isNode(item) || (item.kind !== "AccessRule" && item.kind !== "Mesh")) continue;
      const kind: SchemaKind = item.kind === "AccessRule" ? "access" : "mesh";
      const schema = ctx.schemas.get(kind);
      if (!schema) continue;
      for (const c of Array.isArray(item.clauses) ? item.clauses : []) {
        if (!isNode(c)) continue;
        let names: string[] | undefined;
        if (c.kind === "RequireMfa") names = ["context", "mfa", "verified_at"];
        else if (c.kind === "RequireKeyAge" && kind === "mesh") names = ["node", "key_created_at"];
        if (!names) continue;
        const segs: PathSegment[] = names.map((name) => ({ kind: "prop", name, span: c.span }));
        const r = walkSchema(schema.schema, segs);
        if (r.kind === "denied") {
          const text = names.slice(0, r.at + 1).join(".");
          report(ctx, diagnostic("SP2009", c.span, { path: text, kind }, { hint: `this clause reads \`${names.join(".")}\`; allow it in the schema` }));
        }
      }
    }
  }
}

class SiteWalker {
  constructor(
    private readonly ctx: CheckContext,
    private readonly site: ExprSite,
    private readonly kind: SchemaKind,
    private readonly root: unknown,
  ) {}

  /** An input path of this block (not a const, not `now`), as schema segments from the input root. */
  private inputPath(e: Expr): { path: AttributePath; segments: PathSegment[] } | undefined {
    const p = attributePath(e);
    if (!p) return undefined;
    const name = p.root.name;
    if (this.site.block === "detect") {
      if (name === "now" || lookupConst(this.ctx, this.site.file, name)) return undefined;
    } else if (!BLOCK_ROOTS[this.site.block].includes(name) || name === "now") {
      return undefined;
    }
    return { path: p, segments: [{ kind: "prop", name, span: p.root.span }, ...p.segments] };
  }

  scan(expr: Expr): void {
    walkExpr(expr, (e) => {
      if (e.kind === "Name" || e.kind === "Member" || e.kind === "Index") {
        const ip = this.inputPath(e);
        if (!ip) return true;
        this.checkPath(ip.path, ip.segments);
        // still look inside computed indexes: a["x"][y.z]
        for (let cur: Expr = e; isNode(cur) && (cur.kind === "Member" || cur.kind === "Index" || cur.kind === "Paren"); ) {
          if (cur.kind === "Index" && isNode(cur.index)) this.scan(cur.index);
          cur = cur.kind === "Paren" ? cur.expr : cur.object;
        }
        return false;
      }
      if (e.kind === "Has") this.checkHas(e.object, e.name, e.nameSpan ?? e.span);
      if (e.kind === "Binary") this.checkComparison(e);
      return true;
    });
  }

  private checkPath(path: AttributePath, segments: PathSegment[], onlyLast = false): void {
    const r = walkSchema(this.root, segments);
    if (r.kind !== "denied" || (onlyLast && r.at !== segments.length - 1)) return;
    const seg = segments[r.at]!;
    const text = pathTextFrom(path, segments, r.at + 1);
    let hint: string | undefined;
    if (r.reason === "type") {
      hint = `\`${pathTextFrom(path, segments, r.at)}\` is ${r.type} in the schema`;
    } else if (seg.kind === "prop") {
      hint = didYouMean(seg.name, r.allowed) ?? (r.allowed.length > 0 && r.allowed.length <= 12 ? `allowed here: ${r.allowed.join(", ")}` : undefined);
    }
    report(this.ctx, diagnostic("SP2009", seg.span, { path: text, kind: this.kind }, hint ? { hint } : {}));
  }

  private checkHas(object: Expr, name: string, span: Span): void {
    const ip = isNode(object) ? this.inputPath(object) : undefined;
    if (!ip) return;
    this.checkPath(ip.path, [...ip.segments, { kind: "prop", name, span }], true);
  }

  private constant(e: Expr): ConstValue | undefined {
    const { ctx, site } = this;
    const v = fold(e, { name: (n) => (BLOCK_ROOTS[site.block].includes(n) ? NOT_CONSTANT : (constValueOf(ctx, site.file, n) ?? NOT_CONSTANT)) });
    return v === NOT_CONSTANT ? undefined : v;
  }

  /** The schema node at an input path, when the walk follows it to the end. */
  private schemaAt(e: Expr): { at: SchemaAt; text: string } | undefined {
    const ip = this.inputPath(unparen(e));
    if (!ip) return undefined;
    const r = walkSchema(this.root, ip.segments);
    return r.kind === "ok" ? { at: r.at, text: pathTextFrom(ip.path, ip.segments, ip.segments.length) } : undefined;
  }

  private checkComparison(e: BinaryExpr): void {
    if (!isNode(e.left) || !isNode(e.right)) return;
    if (COMPARE_OPS.has(e.op)) {
      // == and != with a value the schema never allows are always false (or true); < and > only need the type
      const exact = e.op === "==" || e.op === "!=";
      const l = this.schemaAt(e.left);
      if (l) this.compareValue(l.at, l.text, e.right, exact);
      else {
        const r = this.schemaAt(e.right);
        if (r) this.compareValue(r.at, r.text, e.left, exact);
      }
      return;
    }
    if (e.op === "in") {
      // attr in [literals]: each literal against the attribute
      const l = this.schemaAt(e.left);
      if (l) this.compareEach(l.at, l.text, e.right, false);
      // literal in attr: the literal against the attribute's items
      const r = this.schemaAt(e.right);
      if (r) {
        const item = elementSchema(r.at);
        if (item !== undefined) this.compareValue(item, `${r.text}[...]`, e.left, true);
      }
      return;
    }
    if (e.op === "contains" || e.op === "contains_any" || e.op === "contains_all") {
      const l = this.schemaAt(e.left);
      const item = l ? elementSchema(l.at) : undefined;
      if (!l || item === undefined) return;
      if (e.op === "contains") this.compareValue(item, `${l.text}[...]`, e.right, true);
      else this.compareEach(item, `${l.text}[...]`, e.right, e.op === "contains_all");
    }
  }

  /**
   * Each item of a constant list (a list literal item by item) against a
   * schema node: an item of a type the schema does not admit is an error.
   * Values outside the schema's `enum`/`const`: with `every` (contains_all)
   * any such item makes the test always false; otherwise (`in`,
   * contains_any) only a list none of whose items the schema lists does, so
   * a list may name values beyond the enum (an old value kept, a spelling
   * of tomorrow's) as long as one can match.
   */
  private compareEach(at: SchemaAt, text: string, listExpr: Expr, every: boolean): void {
    const lit = unparen(listExpr);
    const items: { v: ConstValue; span: Span }[] = [];
    if (lit.kind === "List") {
      for (const item of Array.isArray(lit.items) ? lit.items : []) {
        if (!isNode(item)) continue;
        const v = this.constant(item);
        if (v !== undefined) items.push({ v, span: item.span });
      }
    } else {
      const v = this.constant(listExpr);
      if (!Array.isArray(v)) return;
      for (const item of v) items.push({ v: item, span: listExpr.span });
    }
    const oneSpan = lit.kind !== "List";
    if (every) {
      for (const { v, span } of items) if (this.mismatch(at, text, v, span, true) && oneSpan) return;
      return;
    }
    const scalar = (v: ConstValue): v is string | number | boolean => typeof v === "string" || typeof v === "number" || typeof v === "boolean";
    let typed: { v: ConstValue; span: Span } | undefined;
    for (const it of items) {
      if (this.mismatch(at, text, it.v, it.span, false)) {
        if (oneSpan) return;
      } else if (scalar(it.v)) typed ??= it;
    }
    const values = schemaTypes(at)?.values;
    if (typed === undefined || values === undefined) return;
    // Only when no item can match: the first scalar of the right type carries the report.
    if (items.every(({ v }) => !scalar(v) || !values.includes(v))) this.mismatch(at, text, typed.v, typed.span, true);
  }

  private compareValue(at: SchemaAt, text: string, valueExpr: Expr, exact: boolean): void {
    const v = this.constant(valueExpr);
    if (v !== undefined) this.mismatch(at, text, v, valueExpr.span, exact);
  }

  /**
   * Reports and returns true when `v`'s type is not one the schema admits,
   * or (`exact`, for equality and membership) `v` is not one of the values
   * the schema's `enum`/`const` lists.
   */
  private mismatch(at: SchemaAt, text: string, v: ConstValue, span: Span, exact: boolean): boolean {
    const st = schemaTypes(at);
    if (!st) return false;
    const vt = typeOfValue(v);
    if (st.types.has(vt)) {
      if (!exact || st.values === undefined || (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") || st.values.includes(v)) return false;
      const near = typeof v === "string" ? didYouMean(v, st.values.filter((x): x is string => typeof x === "string")) : undefined;
      this.reportMismatch(diagnostic("SP2010", span, { path: text, actual: st.text, kind: this.kind, expected: `${vt} ${displayValue(v)}` }, near ? { hint: near } : {}));
      return true;
    }
    // an ip() range against a string attribute is how addresses are matched
    if (vt === "ip" && st.types.has("string")) return false;
    let hint = `the schema says \`${text}\` is ${st.text}`;
    const allowed = (x: string | number) => st.values === undefined || st.values.includes(x);
    if (st.types.has("string") && (vt === "number" || vt === "bool") && allowed(String(v))) hint = `did you mean \`"${String(v)}"\`?`;
    else if (st.types.has("number") && vt === "string" && typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v)) && allowed(Number(v))) hint = `did you mean \`${v}\`?`;
    this.reportMismatch(diagnostic("SP2010", span, { path: text, actual: st.text, kind: this.kind, expected: `${vt} ${displayValue(v)}` }, { hint }));
    return true;
  }

  /**
   * SP2010 says more than the types pass could about the same literal (`"3" < principal.clearance`
   * is SP2012 there, a string that is no time): one error per mistake, the schema's.
   */
  private reportMismatch(d: Diagnostic): void {
    const errors = this.ctx.errors;
    const same = errors.findIndex((e) => e.code === "SP2012" && e.span.file === d.span.file && e.span.start === d.span.start && e.span.end === d.span.end);
    if (same >= 0) errors.splice(same, 1);
    report(this.ctx, d);
  }
}

function pathTextFrom(path: AttributePath, segments: PathSegment[], upTo: number): string {
  // segments[0] is the root name itself
  return pathText({ ...path, segments: segments.slice(1) }, Math.max(0, upTo - 1));
}
