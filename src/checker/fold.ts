/**
 * Constant folding: the value of an expression that reads no input.
 *
 * Folding never reports: an expression that does not fold (it reads input,
 * or it is ill-typed, or it would fail at run time) is simply NOT_CONSTANT,
 * and the pass that owns the problem reports it. The semantics follow
 * spec/LANGUAGE.md section 3 so a folded value equals what the evaluator
 * would compute.
 */
import type { BinaryExpr, Expr } from "../parser/ast.js";
import { parseIpLiteral, IpValue } from "./ip-value.js";
import { compileRegex, globToRegExp } from "./patterns.js";
import { isNode } from "./sites.js";
import { DurationValue, instantOf, isPlainObject, lowerText, valuesEqual, WEEKDAYS, type ConstValue } from "./values.js";

export const NOT_CONSTANT: unique symbol = Symbol("not constant");
export type Folded = ConstValue | typeof NOT_CONSTANT;

export interface FoldEnv {
  /** The value of a bare name, or NOT_CONSTANT (an input root, an unknown name, a const that does not fold). */
  name(name: string): Folded;
  /**
   * Partial folding for lint: `x and false` is false, `x or true` is true,
   * even when `x` reads input.
   */
  partial?: boolean;
}

const NC: typeof NOT_CONSTANT = NOT_CONSTANT;

export function fold(e: Expr, env: FoldEnv, depth = 0): Folded {
  if (!isNode(e) || depth > 2000) return NC;
  switch (e.kind) {
    case "String":
    case "Bool":
      return e.value;
    case "Number":
      return Number.isFinite(e.value) ? e.value : NC;
    case "Duration":
      return Number.isFinite(e.ms) ? new DurationValue(e.ms) : NC;
    case "List": {
      const out: ConstValue[] = [];
      for (const item of Array.isArray(e.items) ? e.items : []) {
        const v = fold(item, env, depth + 1);
        if (v === NC) return NC;
        out.push(v);
      }
      return out;
    }
    case "Object": {
      const entries: [string, ConstValue][] = [];
      for (const en of Array.isArray(e.entries) ? e.entries : []) {
        if (!en) return NC;
        const v = fold(en.value, env, depth + 1);
        if (v === NC) return NC;
        entries.push([String(en.key), v]);
      }
      return Object.fromEntries(entries) as { [key: string]: ConstValue };
    }
    case "Name":
      return env.name(e.name);
    case "Paren":
      return fold(e.expr, env, depth + 1);
    case "Member": {
      const o = fold(e.object, env, depth + 1);
      return o !== NC && isPlainObject(o) && Object.prototype.hasOwnProperty.call(o, e.property) ? o[e.property]! : NC;
    }
    case "Index": {
      const o = fold(e.object, env, depth + 1);
      if (o === NC) return NC;
      const i = fold(e.index, env, depth + 1);
      if (Array.isArray(o) && typeof i === "number" && Number.isInteger(i) && i >= 0 && i < o.length) return o[i]!;
      if (isPlainObject(o) && typeof i === "string" && Object.prototype.hasOwnProperty.call(o, i)) return o[i]!;
      return NC;
    }
    case "Has": {
      const o = fold(e.object, env, depth + 1);
      if (o === NC || !isPlainObject(o)) return NC;
      return Object.prototype.hasOwnProperty.call(o, e.name);
    }
    case "Unary": {
      const v = fold(e.operand, env, depth + 1);
      if (e.op === "not") return typeof v === "boolean" ? !v : NC;
      if (v instanceof DurationValue) return new DurationValue(-v.ms);
      return typeof v === "number" ? -v : NC;
    }
    case "Call":
      return foldCall(e.callee, (Array.isArray(e.args) ? e.args : []).map((a) => fold(a, env, depth + 1)));
    case "Binary":
      return foldBinary(e, env, depth);
    default:
      return NC;
  }
}

function foldCall(callee: string, args: Folded[]): Folded {
  if (args.some((a) => a === NC)) return NC;
  const a = args as ConstValue[];
  if (a.length !== 1) return NC;
  const x = a[0]!;
  switch (callee) {
    case "ip": {
      if (typeof x !== "string") return NC;
      const v = parseIpLiteral(x);
      return v instanceof IpValue ? v : NC;
    }
    case "size":
      if (typeof x === "string") return [...x].length;
      if (Array.isArray(x)) return x.length;
      if (isPlainObject(x)) return Object.keys(x).length;
      return NC;
    case "lower":
      return typeof x === "string" ? lowerText(x) : NC;
    case "upper":
      return typeof x === "string" ? x.toUpperCase() : NC;
    case "type":
      // Names as the evaluator's typeName gives them.
      if (typeof x === "string") return "string";
      if (typeof x === "number") return "number";
      if (typeof x === "boolean") return "boolean";
      if (Array.isArray(x)) return "list";
      if (x instanceof DurationValue) return "duration";
      if (x instanceof IpValue) return "ip";
      return isPlainObject(x) ? "object" : NC;
    case "hour":
    case "weekday": {
      const ms = instantOf(x);
      if (ms === undefined) return NC;
      const d = new Date(ms);
      if (Number.isNaN(d.getTime())) return NC;
      return callee === "hour" ? d.getUTCHours() : WEEKDAYS[d.getUTCDay()]!;
    }
    default:
      // age, risk, quarantined read the clock or the runtime; unknown functions never fold
      return NC;
  }
}

function ordered(a: ConstValue, b: ConstValue): [number, number] | undefined {
  if (typeof a === "number" && typeof b === "number") return [a, b];
  if (a instanceof DurationValue && b instanceof DurationValue) return [a.ms, b.ms];
  if (typeof a === "string" && typeof b === "string") {
    const x = instantOf(a);
    const y = instantOf(b);
    if (x !== undefined && y !== undefined) return [x, y];
  }
  return undefined;
}

/** The left of `in` against IP ranges, as evaluation takes it: an ip() value or an address string (never a range in a string). */
function asIp(v: ConstValue): IpValue | undefined {
  if (v instanceof IpValue) return v;
  if (typeof v === "string" && !v.includes("/")) {
    const p = parseIpLiteral(v);
    return p instanceof IpValue ? p : undefined;
  }
  return undefined;
}

function member(x: ConstValue, list: ConstValue): boolean | undefined {
  if (list instanceof IpValue) {
    const ip = asIp(x);
    return ip ? list.contains(ip) : undefined;
  }
  if (!Array.isArray(list)) return undefined;
  const ip = x instanceof IpValue || typeof x === "string" ? asIp(x) : undefined;
  // A list holding a range needs an address on the left; anything else is an evaluation error, not false.
  if (ip === undefined && list.some((item) => item instanceof IpValue)) return undefined;
  for (const item of list) {
    if (valuesEqual(x, item)) return true;
    if (ip && item instanceof IpValue && item.contains(ip)) return true;
  }
  return false;
}

function foldBinary(e: BinaryExpr, env: FoldEnv, depth: number): Folded {
  if (e.op === "and" || e.op === "or") {
    const stop = e.op === "or";
    const l = fold(e.left, env, depth + 1);
    if (l === stop) return stop;
    const r = fold(e.right, env, depth + 1);
    if (env.partial && r === stop) return stop;
    if (typeof l !== "boolean") return NC;
    return typeof r === "boolean" ? r : NC;
  }
  const l = fold(e.left, env, depth + 1);
  if (e.op === "??") return l;
  if (l === NC) return NC;
  const r = fold(e.right, env, depth + 1);
  if (r === NC) return NC;
  switch (e.op) {
    case "==":
      return valuesEqual(l, r);
    case "!=":
      return !valuesEqual(l, r);
    case "<":
    case "<=":
    case ">":
    case ">=": {
      const p = ordered(l, r);
      if (!p) return NC;
      const [x, y] = p;
      return e.op === "<" ? x < y : e.op === "<=" ? x <= y : e.op === ">" ? x > y : x >= y;
    }
    case "in":
      return member(l, r) ?? NC;
    case "contains":
      return Array.isArray(l) ? l.some((x) => valuesEqual(x, r)) : NC;
    case "contains_any":
      return Array.isArray(l) && Array.isArray(r) ? r.some((y) => l.some((x) => valuesEqual(x, y))) : NC;
    case "contains_all":
      return Array.isArray(l) && Array.isArray(r) ? r.every((y) => l.some((x) => valuesEqual(x, y))) : NC;
    case "like":
      return typeof l === "string" && typeof r === "string" ? globToRegExp(r).test(l) : NC;
    case "starts_with":
      return typeof l === "string" && typeof r === "string" ? l.startsWith(r) : NC;
    case "ends_with":
      return typeof l === "string" && typeof r === "string" ? l.endsWith(r) : NC;
    case "matches": {
      if (typeof l !== "string" || typeof r !== "string") return NC;
      const re = compileRegex(r);
      return re instanceof RegExp ? re.test(l) : NC;
    }
    case "+":
    case "-":
    case "*":
    case "/": {
      if (typeof l !== "number" || typeof r !== "number") return NC;
      const v = e.op === "+" ? l + r : e.op === "-" ? l - r : e.op === "*" ? l * r : r === 0 ? NaN : l / r;
      return Number.isFinite(v) ? v : NC;
    }
    default:
      return NC;
  }
}
