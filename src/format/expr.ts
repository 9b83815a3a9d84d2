/**
 * Expressions to Docs (spec/LANGUAGE.md section 3).
 *
 * The printer writes the tree as parsed: parentheses the author wrote are
 * ParenExpr nodes and are kept; it adds parentheses only where a tree built
 * by a program (not the parser) would otherwise read back differently.
 * Long `and`/`or` chains break before the operator; lists, objects and call
 * arguments break one element per line, without a trailing comma.
 */
import type { BinaryExpr, BinaryOp, Expr, ObjectEntry } from "../parser/ast.js";
import type { CommentQueue } from "./comments.js";
import { group, indent, line, softline, type Doc } from "./doc.js";

export interface PrintContext {
  comments: CommentQueue;
}

/** Binding strength, loosest first (section 3). */
const PREC_OR = 1;
const PREC_AND = 2;
const PREC_NOT = 3;
const PREC_COMPARE = 4;
const PREC_COALESCE = 5;
const PREC_UNARY_MINUS = 8;
const PREC_POSTFIX = 9;
const PREC_PRIMARY = 10;

const BINARY_PREC: Record<BinaryOp, number> = {
  or: PREC_OR,
  and: PREC_AND,
  "==": PREC_COMPARE,
  "!=": PREC_COMPARE,
  "<": PREC_COMPARE,
  "<=": PREC_COMPARE,
  ">": PREC_COMPARE,
  ">=": PREC_COMPARE,
  in: PREC_COMPARE,
  contains: PREC_COMPARE,
  contains_any: PREC_COMPARE,
  contains_all: PREC_COMPARE,
  like: PREC_COMPARE,
  starts_with: PREC_COMPARE,
  ends_with: PREC_COMPARE,
  matches: PREC_COMPARE,
  "??": PREC_COALESCE,
  "+": 6,
  "-": 6,
  "*": 7,
  "/": 7,
};

/**
 * What the grammar's `operand` reads (unary minus, an atom, postfix): the
 * paths of `by`, `having distinct` and `then`, which may be `-x` unparenthesised.
 */
const PREC_OPERAND = PREC_UNARY_MINUS;

export { PREC_OPERAND };

export function precedence(e: Expr): number {
  switch (e.kind) {
    case "Binary":
      return BINARY_PREC[e.op];
    case "Unary":
      return e.op === "not" ? PREC_NOT : PREC_UNARY_MINUS;
    case "Has":
      return PREC_COMPARE;
    case "Member":
    case "Index":
    case "Call":
      return PREC_POSTFIX;
    case "Number":
      // The parser folds `-3` into the literal; it binds like unary minus.
      return e.raw.startsWith("-") ? PREC_UNARY_MINUS : PREC_PRIMARY;
    default:
      return PREC_PRIMARY;
  }
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Characters JSON.stringify leaves raw that show as nothing or as a blank:
 * DEL and the C1 controls, format characters (bidi overrides and isolates,
 * zero-width spaces and joiners, the BOM, tag characters), line and
 * paragraph separators, and spaces other than U+0020. Written raw, `"admin"`
 * and `"admin\u200b"` would look alike to the person reviewing the
 * formatted policy, and a bidi override would reorder what they see.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]|(?! )\p{Zs}/gu;

/** `\uXXXX` escapes of `c` (a surrogate pair beyond the BMP, as JSON writes it). */
function escapeChar(c: string): string {
  let out = "";
  for (let i = 0; i < c.length; i++) out += "\\u" + c.charCodeAt(i).toString(16).padStart(4, "0");
  return out;
}

/**
 * A string literal with minimal JSON escaping, plus `\uXXXX` for every
 * character that would not show (INVISIBLE), so the text shows what the
 * string holds.
 */
export function quote(value: string): string {
  return JSON.stringify(value).replace(INVISIBLE, escapeChar);
}

/**
 * A key or `has` name: bare when it is spelled like an identifier (the
 * grammar takes any word there, keywords included), quoted otherwise.
 */
export function keyText(name: string): string {
  return IDENT.test(name) ? name : quote(name);
}

/**
 * `body` preceded by the comments that start before `pos`. A comment ends
 * its line, so the rest of the construct continues on the next, indented.
 */
export function withComments(ctx: PrintContext, pos: number, body: () => Doc): Doc {
  const { docs, broken } = ctx.comments.inline(pos);
  if (!broken) return body();
  return indent([docs, body()]);
}

/** Print `e`, parenthesised if it binds looser than `minPrec`. */
export function printExpr(ctx: PrintContext, e: Expr, minPrec = 0): Doc {
  if (ctx.comments.hasBefore(e.span.start)) {
    return withComments(ctx, e.span.start, () => printExprHere(ctx, e, minPrec));
  }
  return printExprHere(ctx, e, minPrec);
}

function printExprHere(ctx: PrintContext, e: Expr, minPrec: number): Doc {
  const doc = printBody(ctx, e);
  // Laid out as the Paren node the parser makes of them, so that formatting
  // the output again gives the same text.
  return precedence(e) < minPrec ? ["(", indent(doc), ")"] : doc;
}

function printBody(ctx: PrintContext, e: Expr): Doc {
  switch (e.kind) {
    case "String":
      return quote(e.value);
    case "Number":
      return e.raw || String(e.value);
    case "Duration":
      return e.raw || `${e.ms}ms`;
    case "Bool":
      return e.value ? "true" : "false";
    case "Name":
      return e.name;
    case "List":
      return printSequence(ctx, "[", "]", e.items, (x) => printExpr(ctx, x), e.span.end - 1, softline);
    case "Object":
      return printSequence(ctx, "{", "}", e.entries, (x) => printEntry(ctx, x), e.span.end - 1, line);
    case "Member":
      return [
        printExpr(ctx, e.object, PREC_POSTFIX),
        // `1.b` or `5m.b` would lex as one malformed number.
        e.object.kind === "Number" || e.object.kind === "Duration" ? " " : "",
        withComments(ctx, e.propertySpan.start, () => "." + e.property),
      ];
    case "Index":
      return [
        printExpr(ctx, e.object, PREC_POSTFIX),
        "[",
        printExpr(ctx, e.index),
        closing(ctx, e.span.end - 1),
        "]",
      ];
    case "Call": {
      // `f([...])`, `f({...})`: a lone list or object argument hugs the parentheses.
      const only = e.args.length === 1 ? e.args[0]! : null;
      if (only && (only.kind === "List" || only.kind === "Object") && !ctx.comments.hasBefore(only.span.start)) {
        return [e.callee, "(", printExpr(ctx, only), closing(ctx, e.span.end - 1), ")"];
      }
      return [e.callee, printSequence(ctx, "(", ")", e.args, (x) => printExpr(ctx, x), e.span.end - 1, softline)];
    }
    case "Unary":
      return e.op === "not"
        ? ["not ", printExpr(ctx, e.operand, PREC_NOT)]
        : ["-", printExpr(ctx, e.operand, PREC_UNARY_MINUS)];
    case "Has":
      return [
        printExpr(ctx, e.object, PREC_COMPARE + 1),
        " has ",
        withComments(ctx, e.nameSpan.start, () => keyText(e.name)),
      ];
    case "Paren":
      return ["(", indent(printExpr(ctx, e.expr)), closing(ctx, e.span.end - 1), ")"];
    case "Binary":
      return e.op === "and" || e.op === "or" ? printChain(ctx, e) : printBinary(ctx, e);
  }
}

function printBinary(ctx: PrintContext, e: BinaryExpr): Doc {
  const p = BINARY_PREC[e.op];
  const rest = (b: BinaryExpr): Doc => withComments(ctx, b.opSpan.start, () => [b.op, " ", printExpr(ctx, b.right, p + 1)]);
  // Comparisons do not chain, so neither side may be one.
  if (p === PREC_COMPARE) return [printExpr(ctx, e.left, p + 1), " ", rest(e)];
  // The others are left-associative: `a + b - c` is printed flat, however long.
  const ops: BinaryExpr[] = [];
  let cur: Expr = e;
  while (cur.kind === "Binary" && BINARY_PREC[cur.op] === p) {
    ops.push(cur);
    cur = cur.left;
  }
  const out: Doc[] = [printExpr(ctx, cur, p)];
  for (let i = ops.length - 1; i >= 0; i--) out.push(" ", rest(ops[i]!));
  return out;
}

/** `a and b and c`: one group, broken before each operator when too long. */
function printChain(ctx: PrintContext, e: BinaryExpr): Doc {
  const operands: Expr[] = [];
  const ops: BinaryExpr[] = [];
  let cur: Expr = e;
  while (cur.kind === "Binary" && cur.op === e.op) {
    ops.push(cur);
    cur = cur.left;
  }
  operands.push(cur);
  ops.reverse();
  for (const b of ops) operands.push(b.right);

  const breaks = ctx.comments.breaks;
  const min = BINARY_PREC[e.op] + 1;
  // A nested chain of the other operator in first place breaks one level
  // deeper than this chain's operators, as the later operands' chains do.
  const first = operands[0]!;
  const nested = first.kind === "Binary" && (first.op === "and" || first.op === "or");
  const head = nested ? indent(printExpr(ctx, first, min)) : printExpr(ctx, first, min);
  const tail: Doc[] = [];
  ops.forEach((b, i) => {
    tail.push(ctx.comments.beforeBreak(b.opSpan.start), line, ownLines(ctx, b.opSpan.start));
    tail.push(e.op, " ", printExpr(ctx, operands[i + 1]!, min));
  });
  return group([head, indent(tail)], ctx.comments.breaks !== breaks);
}

/** At the start of a fresh line: the comments before `pos`, each on its line. */
function ownLines(ctx: PrintContext, pos: number): Doc {
  return ctx.comments.afterBreak(pos);
}

/** Comments just before a closing bracket at `pos`, staying inside the construct. */
function closing(ctx: PrintContext, pos: number): Doc {
  return withComments(ctx, pos, () => "");
}

function printEntry(ctx: PrintContext, entry: ObjectEntry): Doc {
  return [
    withComments(ctx, entry.keySpan.start, () => keyText(entry.key)),
    ": ",
    printExpr(ctx, entry.value),
  ];
}

/**
 * `open items close` on one line when it fits (`[a, b]`, `{ k: v }`), else
 * one item per line, indented, with the closer alone on its line.
 * `pad` is the flat padding inside the brackets (a space for objects).
 */
export function printSequence<T extends { span: { start: number } }>(
  ctx: PrintContext,
  open: string,
  close: string,
  items: readonly T[],
  print: (item: T) => Doc,
  closePos: number | null,
  pad: typeof line | typeof softline,
): Doc {
  const breaks = ctx.comments.breaks;
  const inner: Doc[] = [];
  items.forEach((item, i) => {
    const pos = item.span.start;
    if (i > 0) inner.push(",");
    inner.push(ctx.comments.beforeBreak(pos), i === 0 ? pad : line, ownLines(ctx, pos), print(item));
  });
  if (closePos !== null && ctx.comments.hasBefore(closePos)) {
    inner.push(ctx.comments.beforeBreak(closePos), ownLines(ctx, closePos));
  }
  if (items.length === 0 && inner.length === 0) return open + close;
  return group([open, indent(inner), items.length === 0 ? softline : pad, close], ctx.comments.breaks !== breaks);
}
