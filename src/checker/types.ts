/**
 * Pass: types, where they are known (literals, consts, builtin results).
 * Attribute paths are `unknown` here (the schema pass compares literals with
 * schema types), so nothing is reported on a guess.
 *
 * Reports: a string operator on a non-string (SP2012), ordering between
 * different types (SP2013), arithmetic on non-numbers, set tests on
 * non-lists, `matches` outside detect (SP2014), bad regex (SP2019) and bad
 * `ip()` literals (SP2020).
 */
import type { BinaryExpr, CallExpr, Expr } from "../parser/ast.js";
import { diagnostic } from "../diagnostics/diagnostic.js";
import { constValueOf, report, type CheckContext } from "./context.js";
import { fold, NOT_CONSTANT, type Folded } from "./fold.js";
import { IpValue, parseIpLiteral } from "./ip-value.js";
import { compileRegex } from "./patterns.js";
import { ambiguousRepeat } from "./regex-repeats.js";
import { BLOCK_ROOTS, BUILTINS, isBuiltin } from "./scopes.js";
import { isNode, type ExprSite } from "./sites.js";
import { parseRfc3339, typeOfValue, type ValueType } from "./values.js";

const STRING_OPS = new Set(["like", "starts_with", "ends_with", "matches"]);
const ORDER_OPS = new Set(["<", "<=", ">", ">="]);
const ARITH_OPS = new Set(["+", "-", "*", "/"]);
/** The range of a JavaScript Date, which is what the evaluator takes as a time. */
const MAX_TIME_MS = 8.64e15;

/**
 * What arithmetic accepts: [left, right, result], the same table as the
 * evaluator's `arithOp` (src/evaluator/operators.ts), so the checker rejects
 * exactly what evaluation would.
 */
const ARITH_TABLE: Record<string, readonly (readonly [ValueType, ValueType, ValueType])[]> = {
  "+": [["number", "number", "number"], ["string", "string", "string"], ["duration", "duration", "duration"], ["time", "duration", "time"], ["duration", "time", "time"]],
  "-": [["number", "number", "number"], ["duration", "duration", "duration"], ["time", "duration", "time"], ["time", "time", "duration"]],
  "*": [["number", "number", "number"], ["duration", "number", "duration"], ["number", "duration", "duration"]],
  "/": [["number", "number", "number"], ["duration", "number", "duration"]],
};
const ARITH_EXPECTED: Record<string, string> = {
  "+": "two numbers, two strings, two durations or a time and a duration",
  "-": "two numbers, two durations, a time and a duration or two times",
  "*": "two numbers or a duration and a number",
  "/": "two numbers or a duration and a number",
};

/** "a string", "an ip", "a time, string or number" */
export function aType(types: readonly ValueType[]): string {
  const first = types[0] ?? "value";
  const article = /^[aeiou]/.test(first) ? "an" : "a";
  if (types.length <= 1) return `${article} ${first}`;
  return `${article} ${types.slice(0, -1).join(", ")} or ${types[types.length - 1]}`;
}

/** Why a string cannot be ordered: it is no RFC 3339 time (and a quoted duration is a common slip). */
function notTimeHint(s: string): string {
  if (/^(\d+(ms|s|m|h|d|w))+$/.test(s)) return `a duration is written without quotes: ${s}`;
  if (/^-?\d+(\.\d+)?$/.test(s)) return `a number is written without quotes: did you mean \`${s}\`?`;
  return `${JSON.stringify(s)} is not an RFC 3339 time; write e.g. "2026-01-01T00:00:00Z"`;
}

export function checkTypes(ctx: CheckContext): void {
  for (const site of ctx.sites) new TypeWalker(ctx, site).typeOf(site.expr, 0);
}

class TypeWalker {
  constructor(
    private readonly ctx: CheckContext,
    private readonly site: ExprSite,
  ) {}

  private folded(e: Expr): Folded {
    const { ctx, site } = this;
    const roots = BLOCK_ROOTS[site.block];
    return fold(e, {
      name: (n) => (roots.includes(n) ? NOT_CONSTANT : (constValueOf(ctx, site.file, n) ?? NOT_CONSTANT)),
    });
  }

  /** Require `actual` to be one of `allowed` (unknown always passes). */
  private expect(op: string, e: Expr, actual: ValueType, allowed: readonly ValueType[], expected = aType(allowed)): void {
    if (actual === "unknown" || allowed.includes(actual)) return;
    report(this.ctx, diagnostic("SP2012", e.span, { op, expected, actual }));
  }

  typeOf(e: Expr, depth: number): ValueType {
    if (!isNode(e) || depth > 2000) return "unknown";
    switch (e.kind) {
      case "String":
        return "string";
      case "Number":
        return "number";
      case "Bool":
        return "bool";
      case "Duration":
        return "duration";
      case "List":
        for (const x of Array.isArray(e.items) ? e.items : []) this.typeOf(x, depth + 1);
        return "list";
      case "Object":
        for (const en of Array.isArray(e.entries) ? e.entries : []) if (en) this.typeOf(en.value, depth + 1);
        return "object";
      case "Paren":
        return this.typeOf(e.expr, depth + 1);
      case "Name": {
        if (e.name === "now" && BLOCK_ROOTS[this.site.block].includes("now")) return "time";
        if (BLOCK_ROOTS[this.site.block].includes(e.name)) return "unknown";
        const v = constValueOf(this.ctx, this.site.file, e.name);
        return v === undefined ? "unknown" : typeOfValue(v);
      }
      case "Member":
      case "Index": {
        const objectType = this.typeOf(e.object, depth + 1);
        if (e.kind === "Index") this.typeOf(e.index, depth + 1);
        // only a const (or a literal) has a known shape; input reads stay unknown
        if (objectType !== "list" && objectType !== "object") return "unknown";
        const v = this.folded(e);
        return v === NOT_CONSTANT ? "unknown" : typeOfValue(v);
      }
      case "Has": {
        const t = this.typeOf(e.object, depth + 1);
        this.expect("has", e.object, t, ["object"]);
        return "bool";
      }
      case "Unary": {
        const t = this.typeOf(e.operand, depth + 1);
        if (e.op === "not") {
          this.expect("not", e.operand, t, ["bool"]);
          return "bool";
        }
        // as the evaluator: `-5m` is a (negative) duration
        this.expect("-", e.operand, t, ["number", "duration"], "a number or a duration");
        return t === "duration" ? "duration" : "number";
      }
      case "Call":
        return this.call(e, depth);
      case "Binary":
        return this.binary(e, depth);
      default:
        return "unknown";
    }
  }

  private call(e: CallExpr, depth: number): ValueType {
    const args = Array.isArray(e.args) ? e.args : [];
    const types = args.map((a) => this.typeOf(a, depth + 1));
    if (typeof e.callee !== "string" || !isBuiltin(e.callee)) return "unknown";
    const b = BUILTINS[e.callee]!;
    for (let i = 0; i < Math.min(args.length, b.params.length); i++) this.expect(e.callee, args[i]!, types[i]!, b.params[i]!);
    if ((e.callee === "age" || e.callee === "hour" || e.callee === "weekday") && args.length === 1) {
      // A constant that is no time errors on every evaluation (and leaves a const unfolded).
      const v = this.folded(args[0]!);
      const why =
        typeof v === "string" && parseRfc3339(v) === undefined
          ? notTimeHint(v)
          : typeof v === "number" && !(Math.abs(v * 1000) <= MAX_TIME_MS)
            ? `${v} is not a time in epoch seconds (at most ${MAX_TIME_MS / 1000} either side of 1970)`
            : null;
      if (why !== null) {
        report(this.ctx, diagnostic("SP2012", args[0]!.span, { op: e.callee, expected: "an RFC 3339 time or epoch seconds", actual: typeof v }, { hint: why }));
      }
    }
    if (e.callee === "ip" && args.length === 1 && types[0] === "string") {
      const v = this.folded(args[0]!);
      if (typeof v === "string") {
        const p = parseIpLiteral(v);
        if (!(p instanceof IpValue)) {
          report(this.ctx, diagnostic("SP2020", args[0]!.span, { text: v }, { hint: `${p.error}; write e.g. "10.0.0.0/8" or "fd00::1"` }));
        }
      }
    }
    return b.returns;
  }

  private binary(e: BinaryExpr, depth: number): ValueType {
    const op = e.op;
    const lt = this.typeOf(e.left, depth + 1);
    const rt = this.typeOf(e.right, depth + 1);
    if (!isNode(e.left) || !isNode(e.right)) return "unknown";
    if (op === "and" || op === "or") {
      this.expect(op, e.left, lt, ["bool"]);
      this.expect(op, e.right, rt, ["bool"]);
      return "bool";
    }
    if (op === "==" || op === "!=") return "bool";
    if (op === "??") return lt === rt ? lt : "unknown";
    if (ORDER_OPS.has(op)) {
      this.ordering(e, lt, rt);
      return "bool";
    }
    if (ARITH_OPS.has(op)) return this.arithmetic(e, lt, rt);
    if (op === "in") {
      if (rt === "ip") this.expect("in", e.left, lt, ["ip", "string"], "an ip address");
      else this.expect("in", e.right, rt, ["list", "ip"], "a list or an ip range");
      return "bool";
    }
    if (op === "contains" || op === "contains_any" || op === "contains_all") {
      this.expect(op, e.left, lt, ["list"]);
      if (op !== "contains") this.expect(op, e.right, rt, ["list"]);
      return "bool";
    }
    if (STRING_OPS.has(op)) {
      this.expect(op, e.left, lt, ["string"]);
      this.expect(op, e.right, rt, ["string"]);
      if (op === "matches") this.matches(e, rt);
      return "bool";
    }
    return "unknown";
  }

  private arithmetic(e: BinaryExpr, lt: ValueType, rt: ValueType): ValueType {
    const op = e.op;
    const rows = ARITH_TABLE[op]!;
    const fits = rows.filter(([l, r]) => (lt === "unknown" || l === lt) && (rt === "unknown" || r === rt));
    if (fits.length === 0) {
      const expected = ARITH_EXPECTED[op]!;
      // Blame the operand that no row accepts on its own side, else the whole expression.
      if (lt !== "unknown" && !rows.some(([l]) => l === lt)) report(this.ctx, diagnostic("SP2012", e.left.span, { op, expected, actual: lt }));
      else if (rt !== "unknown" && !rows.some(([, r]) => r === rt)) report(this.ctx, diagnostic("SP2012", e.right.span, { op, expected, actual: rt }));
      else report(this.ctx, diagnostic("SP2012", e.span, { op, expected, actual: `${lt} and ${rt}` }));
      return "unknown";
    }
    const results = new Set(fits.map(([, , out]) => out));
    return results.size === 1 ? fits[0]![2] : "unknown";
  }

  private ordering(e: BinaryExpr, lt: ValueType, rt: ValueType): void {
    // The only strings that order are RFC 3339 times (spec section 3), so a constant string that
    // is not one errors on every evaluation, whatever the other side reads: `session_age > "12h"`.
    const notTime = (side: Expr, t: ValueType): string | null => {
      if (t !== "string") return null;
      const s = this.folded(side);
      return typeof s === "string" && parseRfc3339(s) === undefined ? s : null;
    };
    const badLeft = notTime(e.left, lt);
    const badRight = notTime(e.right, rt);
    if (lt === "unknown" || rt === "unknown") {
      const bad = badLeft !== null ? e.left : badRight !== null ? e.right : null;
      if (bad !== null) {
        report(this.ctx, diagnostic("SP2012", bad.span, { op: e.op, expected: "a number, a duration or an RFC 3339 time", actual: "string" }, { hint: notTimeHint((badLeft ?? badRight)!) }));
      }
      return;
    }
    if (lt === "string" && rt === "string" && (badLeft !== null || badRight !== null)) {
      report(this.ctx, diagnostic("SP2013", e.span, { left: lt, right: rt }, { hint: notTimeHint((badLeft ?? badRight)!) }));
      return;
    }
    const orderable = (t: ValueType) => t === "number" || t === "duration" || t === "time" || t === "string";
    // A time compares with an RFC 3339 string or with epoch seconds (docs/language.md, as the evaluator does).
    const timeWith = (a: ValueType, b: ValueType) => a === "time" && (b === "string" || b === "number");
    let ok = orderable(lt) && orderable(rt) && (lt === rt || timeWith(lt, rt) || timeWith(rt, lt));
    let hint = `\`${e.op}\` needs two numbers, two durations or two RFC 3339 times`;
    if (ok && lt !== rt) {
      // the other side must be a time: an RFC 3339 string, or epoch seconds within a Date's range
      const s = this.folded(lt === "time" ? e.right : e.left);
      if (typeof s === "string" && parseRfc3339(s) === undefined) {
        ok = false;
        hint = `${JSON.stringify(s)} is not an RFC 3339 time; write e.g. "2026-01-01T00:00:00Z"`;
      } else if (typeof s === "number" && !(Math.abs(s * 1000) <= MAX_TIME_MS)) {
        ok = false;
        hint = `${s} is not a time in epoch seconds (at most ${MAX_TIME_MS / 1000} either side of 1970)`;
      }
    }
    if (!ok) report(this.ctx, diagnostic("SP2013", e.span, { left: lt, right: rt }, { hint }));
  }

  private matches(e: BinaryExpr, rt: ValueType): void {
    const inDetect = this.site.block === "detect";
    if (!inDetect) report(this.ctx, diagnostic("SP2014", e.opSpan ?? e.span));
    if (rt !== "string" && rt !== "unknown") return; // SP2012 said it
    const pattern = this.folded(e.right);
    if (pattern === NOT_CONSTANT) {
      // Not known at load: the event would pick the pattern, and with it the running time.
      report(this.ctx, diagnostic("SP2032", e.right.span));
      return;
    }
    if (typeof pattern !== "string") return;
    const re = compileRegex(pattern);
    if (!(re instanceof RegExp)) report(this.ctx, diagnostic("SP2019", e.right.span, { reason: re.error }));
    else {
      const group = ambiguousRepeat(pattern);
      if (group !== null) report(this.ctx, diagnostic("SP3011", e.right.span, { group }));
    }
  }

}
