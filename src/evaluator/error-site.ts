/**
 * The errors one source position can raise, built on first need and then
 * shared: compiling 10,000 rules must not build 10,000s of error messages
 * that are never shown, and a failing request must not allocate a new
 * error for the same position every time.
 */
import type { Expr } from "../parser/ast.js";
import { exprText } from "./expr-text.js";
import { msg } from "./messages.js";
import { EvalError, typeName, type ErrorSpan, type TypeName, type Value } from "./values.js";

export const enum SiteKind {
  /** `a.b` (missing `b`, or `a` not an object). */
  Member = 0,
  /** `a["b"]` / `a[i]`. */
  Index = 1,
  /** An input root (`principal`). */
  Root = 2,
  /** `not x`, `-x`, `x and y`, `x or y`: operand type errors. */
  Not = 3,
  Neg = 4,
  And = 5,
  Or = 6,
}

export class ErrorSite {
  private spanCache: ErrorSpan | null = null;
  private missingError: EvalError | null = null;
  private readonly byType = new Map<TypeName, EvalError>();

  constructor(
    readonly kind: SiteKind,
    readonly node: Expr,
  ) {}

  get span(): ErrorSpan {
    const s = this.node.span;
    return (this.spanCache ??= Object.freeze({ file: s.file, line: s.line, column: s.column }));
  }

  /** "missing attribute `principal.x`" for this position (shared instance). */
  missing(): EvalError {
    if (this.missingError === null) {
      const n = this.node;
      const text = n.kind === "Name" ? n.name : exprText(n);
      this.missingError = new EvalError(msg.missingAttribute(text), this.span, true);
    }
    return this.missingError;
  }

  /** The type error for an operand of type typeName(v) (shared per type). */
  typeError(v: unknown): EvalError {
    const t = typeName(v);
    let e = this.byType.get(t);
    if (e === undefined) {
      e = new EvalError(this.message(t), this.span);
      this.byType.set(t, e);
    }
    return e;
  }

  /** Reading an attribute of `v`, which is not an object: missing through null, else a type error. */
  bad(v: unknown): EvalError {
    return v === null ? this.missing() : this.typeError(v);
  }

  /** `o[i]` with a key of the wrong type for `o`. */
  badIndex(o: Value, i: Value): EvalError {
    const n = this.node as Extract<Expr, { kind: "Index" }>;
    return new EvalError(msg.badIndex(exprText(n.object), typeName(o), typeName(i)), this.span);
  }

  private message(t: TypeName): string {
    const n = this.node;
    switch (this.kind) {
      case SiteKind.Member: {
        const m = n as Extract<Expr, { kind: "Member" }>;
        return msg.notAnObject(m.property, exprText(m.object), t);
      }
      case SiteKind.Index:
        return msg.badIndex(exprText((n as Extract<Expr, { kind: "Index" }>).object), t, "string");
      case SiteKind.Not:
        return msg.operand("not", "a boolean", t);
      case SiteKind.Neg:
        return msg.operand("-", "a number or a duration", t);
      case SiteKind.And:
        return msg.operand("and", "booleans", t);
      case SiteKind.Or:
        return msg.operand("or", "booleans", t);
      case SiteKind.Root:
        return msg.missingAttribute((n as Extract<Expr, { kind: "Name" }>).name);
    }
  }
}
