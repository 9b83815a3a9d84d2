/**
 * Binary operators over values (spec/LANGUAGE.md section 3) for the compiled
 * evaluator. `and`, `or` and `??` short-circuit and live in compile-expr.ts;
 * everything here receives two already-evaluated, non-error operands.
 *
 * Choices where the spec is silent (operand types other than these are an
 * error naming the operator and the types found):
 * - `x in list`: membership by `==`. When the list holds at least one ip()
 *   value, `x` must be an IP (an ip() value or an address string, not a
 *   range such as "10.0.0.0/8": that takes `ip(x)`) and ip()
 *   elements match by containment, other elements by `==`; a non-IP `x` is
 *   then an error, as it is for `x in ip(...)`, so a garbage address can
 *   never slip past a deny rule. `in` needs a list or an ip() on the right.
 * - `list contains x` is membership by `==`; `contains_any` and
 *   `contains_all` need two lists (`contains_all []` is true,
 *   `contains_any []` false). A string on the left is an error (use `like`).
 *   Two long lists are compared through an index (value-index.ts), in time
 *   linear in their sizes.
 * - `like`, `starts_with`, `ends_with`, `matches` need two strings.
 *   `matches` uses an ECMAScript regular expression with the `u` flag,
 *   unanchored (anchor with ^ and $).
 * - Arithmetic: number + - * / number; string + string (concatenation);
 *   duration + - duration; duration * number, number * duration, duration /
 *   number; time + - duration gives a time, time - time a duration. Division
 *   by zero and results that are not finite are errors.
 */
import { Duration } from "./duration.js";
import { Ip, parseIp } from "./cidr.js";
import { compileGlob, globMatch } from "./glob.js";
import { Time, parseRfc3339, timeValueMs } from "./time.js";
import { msg } from "./messages.js";
import { quotingError } from "./quoted-error.js";
import { EvalError, deepEqual, typeName, type ErrorSpan, type Result, type Value } from "./values.js";
import { ValueIndex } from "./value-index.js";

export const ORDER_EXPECTED = "two numbers, two durations or two times";

/** Ordering of two values for `< <= > >=`: negative, zero, positive; NaN when not comparable. */
export function orderOf(l: Value, r: Value): number {
  if (typeof l === "number" && typeof r === "number") return l - r;
  if (l instanceof Duration && r instanceof Duration) return l.ms - r.ms;
  if (l instanceof Time || r instanceof Time) {
    if (!(l instanceof Time || typeof l === "string" || typeof l === "number")) return NaN;
    if (!(r instanceof Time || typeof r === "string" || typeof r === "number")) return NaN;
    return timeValueMs(l) - timeValueMs(r);
  }
  if (typeof l === "string" && typeof r === "string") return parseRfc3339(l) - parseRfc3339(r);
  return NaN;
}

export function compareOp(op: "<" | "<=" | ">" | ">=", l: Value, r: Value, span: ErrorSpan): Result {
  const d = orderOf(l, r);
  if (d !== d) return new EvalError(msg.operand(op, ORDER_EXPECTED, typeName(l), typeName(r)), span);
  switch (op) {
    case "<":
      return d < 0;
    case "<=":
      return d <= 0;
    case ">":
      return d > 0;
    case ">=":
      return d >= 0;
  }
}

// The last address parsed: rules over one event test the same field one after another.
let lastIpText: string | null = null;
let lastIp: Ip | null = null;

/**
 * An operand as an IP for `in`: an ip() value or an address string. A string
 * is an address, never a range (docs/language.md): read as a range,
 * `"203.0.113.9/0" in blocked` would be false (a /0 is inside no blocked
 * range) and slip past the deny rule. `ip(s)` says a range is meant.
 */
export function asIp(v: Value): Ip | null {
  if (v instanceof Ip) return v;
  if (typeof v === "string") {
    if (v !== lastIpText) {
      lastIp = v.includes("/") ? null : parseIp(v);
      lastIpText = v;
    }
    return lastIp;
  }
  return null;
}

function ipOperandError(l: Value, span: ErrorSpan): EvalError {
  return typeof l === "string"
    ? quotingError((found) => msg.notAnIp("in", found), JSON.stringify(l), span)
    : new EvalError(msg.operand("in", "an IP address on the left of an ip() range", typeName(l)), span);
}

export function inOp(l: Value, r: Value, span: ErrorSpan): Result {
  if (r instanceof Ip) {
    const a = asIp(l);
    return a === null ? ipOperandError(l, span) : r.contains(a);
  }
  if (!Array.isArray(r)) return new EvalError(msg.operand("in", "a list or an ip() range on the right", typeName(r)), span);
  let hasIp = false;
  for (const e of r) if (e instanceof Ip) hasIp = true;
  if (!hasIp) {
    for (const e of r) if (deepEqual(l, e)) return true;
    return false;
  }
  const a = asIp(l);
  if (a === null) return ipOperandError(l, span);
  for (const e of r) {
    if (e instanceof Ip ? e.contains(a) : deepEqual(l, e)) return true;
  }
  return false;
}

export function containsOp(l: Value, r: Value, span: ErrorSpan): Result {
  if (!Array.isArray(l)) return new EvalError(msg.operand("contains", "a list on the left", typeName(l)), span);
  for (const e of l) if (deepEqual(e, r)) return true;
  return false;
}

export function containsSetOp(op: "contains_any" | "contains_all", l: Value, r: Value, span: ErrorSpan): Result {
  if (!Array.isArray(l) || !Array.isArray(r)) return new EvalError(msg.operand(op, "two lists", typeName(l), typeName(r)), span);
  if (l.length * r.length > PAIRWISE_LIMIT) {
    // Two long lists (both may come from the request): index the left one, linear instead of quadratic.
    const index = new ValueIndex(l);
    if (op === "contains_any") {
      for (const x of r) if (index.has(x)) return true;
      return false;
    }
    for (const x of r) if (!index.has(x)) return false;
    return true;
  }
  if (op === "contains_any") {
    for (const x of r) for (const e of l) if (deepEqual(e, x)) return true;
    return false;
  }
  outer: for (const x of r) {
    for (const e of l) if (deepEqual(e, x)) continue outer;
    return false;
  }
  return true;
}

/** Up to this many element pairs, `contains_any` and `contains_all` compare pairwise (no allocation). */
export const PAIRWISE_LIMIT = 256;

export function stringOp(op: "like" | "starts_with" | "ends_with" | "matches", l: Value, r: Value, span: ErrorSpan): Result {
  if (typeof l !== "string" || typeof r !== "string") return new EvalError(msg.operand(op, "two strings", typeName(l), typeName(r)), span);
  switch (op) {
    case "like":
      return globMatch(compileGlob(r), l);
    case "starts_with":
      return l.startsWith(r);
    case "ends_with":
      return l.endsWith(r);
    case "matches": {
      const re = compileRegex(r);
      // The engine's text quotes the pattern, here an input value.
      return re instanceof RegExp ? re.test(l) : quotingError(msg.badRegex, re.error, span);
    }
  }
}

/** A `matches` pattern: an ECMAScript regular expression with the `u` flag. */
export function compileRegex(pattern: string): RegExp | { error: string } {
  try {
    return new RegExp(pattern, "u");
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

function finite(n: number, op: string, span: ErrorSpan): Result {
  return Number.isFinite(n) ? n : new EvalError(msg.overflow(op), span);
}
function dur(ms: number, op: string, span: ErrorSpan): Result {
  return Number.isFinite(ms) ? new Duration(ms) : new EvalError(msg.overflow(op), span);
}
function time(ms: number, op: string, span: ErrorSpan): Result {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Time(ms) : new EvalError(msg.overflow(op), span);
}

export function arithOp(op: "+" | "-" | "*" | "/", l: Value, r: Value, span: ErrorSpan): Result {
  const tl = typeof l;
  const tr = typeof r;
  switch (op) {
    case "+":
      if (tl === "number" && tr === "number") return finite((l as number) + (r as number), op, span);
      if (tl === "string" && tr === "string") return (l as string) + (r as string);
      if (l instanceof Duration && r instanceof Duration) return dur(l.ms + r.ms, op, span);
      if (l instanceof Time && r instanceof Duration) return time(l.ms + r.ms, op, span);
      if (l instanceof Duration && r instanceof Time) return time(l.ms + r.ms, op, span);
      return new EvalError(msg.operand(op, "two numbers, two strings, two durations or a time and a duration", typeName(l), typeName(r)), span);
    case "-":
      if (tl === "number" && tr === "number") return finite((l as number) - (r as number), op, span);
      if (l instanceof Duration && r instanceof Duration) return dur(l.ms - r.ms, op, span);
      if (l instanceof Time && r instanceof Duration) return time(l.ms - r.ms, op, span);
      if (l instanceof Time && r instanceof Time) return dur(l.ms - r.ms, op, span);
      return new EvalError(msg.operand(op, "two numbers, two durations, a time and a duration or two times", typeName(l), typeName(r)), span);
    case "*":
      if (tl === "number" && tr === "number") return finite((l as number) * (r as number), op, span);
      if (l instanceof Duration && tr === "number") return dur(l.ms * (r as number), op, span);
      if (tl === "number" && r instanceof Duration) return dur((l as number) * r.ms, op, span);
      return new EvalError(msg.operand(op, "two numbers or a duration and a number", typeName(l), typeName(r)), span);
    case "/":
      if (tr === "number" && (tl === "number" || l instanceof Duration)) {
        if (r === 0) return new EvalError(msg.divisionByZero(), span);
        return tl === "number" ? finite((l as number) / (r as number), op, span) : dur((l as Duration).ms / (r as number), op, span);
      }
      return new EvalError(msg.operand(op, "two numbers or a duration and a number", typeName(l), typeName(r)), span);
  }
}

/** Every non-short-circuit binary operator. */
export function applyBinary(op: string, l: Value, r: Value, span: ErrorSpan): Result {
  switch (op) {
    case "==":
      return deepEqual(l, r);
    case "!=":
      return !deepEqual(l, r);
    case "<":
    case "<=":
    case ">":
    case ">=":
      return compareOp(op, l, r, span);
    case "in":
      return inOp(l, r, span);
    case "contains":
      return containsOp(l, r, span);
    case "contains_any":
    case "contains_all":
      return containsSetOp(op, l, r, span);
    case "like":
    case "starts_with":
    case "ends_with":
    case "matches":
      return stringOp(op, l, r, span);
    case "+":
    case "-":
    case "*":
    case "/":
      return arithOp(op, l, r, span);
    default:
      return new EvalError(`unknown operator \`${op}\``, span);
  }
}
