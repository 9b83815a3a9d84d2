/**
 * Operator precedence (spec/LANGUAGE.md section 3), loosest first:
 * `or` · `and` · `not` · comparison · `??` · `+ -` · `* /`.
 *
 * The grammar reads an expression flat, `not* operand (op not* operand)*`,
 * in one rule, and this module builds the tree by precedence climbing. One
 * rule instead of one per level keeps the parser fast (a chevrotain rule
 * call is the unit of cost) and its recursion shallow.
 */
import type { IToken } from "chevrotain";
import type * as A from "./ast.js";
import { joinSpans, type Span } from "./span.js";
import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.js";
import * as T from "./tokens.js";

/** What the grammar collects: operands, operator tokens, `not` tokens, and the name after `has`. */
export type Entry = A.Expr | IToken;

const OR = 1;
const AND = 2;
/** `not` binds looser than comparison: `not a == b` is `not (a == b)`. */
const NOT_OPERAND = 4;
const COMPARE = 4;
const COALESCE = 5;
const ADD = 6;
const MUL = 7;

function precedence(t: IToken): number {
  const type = t.tokenType;
  if (type === T.Or) return OR;
  if (type === T.And) return AND;
  if (type === T.Coalesce) return COALESCE;
  if (type === T.Plus || type === T.Minus) return ADD;
  if (type === T.Star || type === T.Slash) return MUL;
  return COMPARE; // the RelOp family and `has`
}

function isToken(e: Entry | undefined): e is IToken {
  return e !== undefined && (e as IToken).tokenType !== undefined;
}

export interface ClimbContext {
  span(t: IToken): Span;
  report(d: Diagnostic): void;
  /** The decoded value of a string token. */
  stringValue(t: IToken): string;
}

/** Build the tree of `entries[from..]`. */
export function climb(entries: Entry[], from: number, ctx: ClimbContext): A.Expr {
  let i = from;

  // One unit: an operand, or a run of `not` and what it negates.
  const unit = (minPrec: number): A.Expr => {
    const start = i;
    while (isToken(entries[i]) && (entries[i] as IToken).tokenType === T.Not) i++;
    if (i === start) return entries[i++] as A.Expr;
    let operand: A.Expr;
    if (minPrec > NOT_OPERAND) {
      // `a == not b`: `not` is looser than the comparison around it.
      const first = entries[start] as IToken;
      ctx.report(
        diagnostic("SP1005", ctx.span(first), { expected: "an expression", found: "`not`" }, { hint: "add parentheses: `(not ...)`" }),
      );
      operand = seq(minPrec);
    } else operand = seq(NOT_OPERAND);
    return wrapNots(entries, start, operand, ctx);
  };

  const seq = (minPrec: number): A.Expr => {
    let left = unit(minPrec);
    let compared = false;
    while (i < entries.length) {
      const op = entries[i] as IToken;
      const prec = precedence(op);
      if (prec < minPrec) break;
      i++;
      if (prec === COMPARE) {
        if (compared) ctx.report(diagnostic("SP1007", ctx.span(op)));
        compared = true;
      }
      if (op.tokenType === T.Has) {
        const nameTok = entries[i++] as IToken;
        const nameSpan = ctx.span(nameTok);
        const quoted = nameTok.tokenType === T.StringLiteral || nameTok.tokenType === T.UnterminatedString;
        left = {
          kind: "Has",
          object: left,
          name: quoted ? ctx.stringValue(nameTok) : nameTok.image,
          nameSpan,
          span: joinSpans(left.span, nameSpan),
        };
        continue;
      }
      const right = seq(prec + 1);
      left = { kind: "Binary", op: op.image as A.BinaryOp, opSpan: ctx.span(op), left, right, span: joinSpans(left.span, right.span) };
    }
    return left;
  };

  return seq(OR);
}

/** Wrap `operand` in the run of `not` tokens that starts at entries[start]. */
function wrapNots(entries: Entry[], start: number, operand: A.Expr, ctx: ClimbContext): A.Expr {
  let end = start;
  while (isToken(entries[end]) && (entries[end] as IToken).tokenType === T.Not) end++;
  let e = operand;
  for (let k = end - 1; k >= start; k--) {
    const t = entries[k] as IToken;
    e = { kind: "Unary", op: "not", operand: e, span: joinSpans(ctx.span(t), e.span) };
  }
  return e;
}
