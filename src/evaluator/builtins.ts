/**
 * The builtin functions (spec/LANGUAGE.md section 3) for the compiled
 * evaluator: argument checks and dispatch to the families (cidr.ts, time.ts,
 * strings.ts, stores.ts). Arguments arrive evaluated and error-free.
 *
 * Choices where the spec is silent:
 * - `ip(x)` of something that is not a string is an error (even an ip()).
 * - `risk(id)` and `quarantined(id)` need a string id.
 * - `size` of a string counts code points (strings.ts).
 * - `type(x)` names the type as error messages do: "string", "number",
 *   "boolean", "null", "list", "object", "duration", "ip", "time".
 */
import { Duration } from "./duration.js";
import { parseIp } from "./cidr.js";
import { hourOf, timeValueMs, weekdayOf } from "./time.js";
import { codePointLength, lower, upper } from "./strings.js";
import { msg, show } from "./messages.js";
import { quotingError } from "./quoted-error.js";
import type { EvalContext } from "./context.js";
import { EvalError, isObject, typeName, type ErrorSpan, type Result, type Value } from "./values.js";

/** Every builtin takes exactly one argument. */
export interface BuiltinImpl {
  /** Reads the input time, the clock or a store: never folded at compile time. */
  impure: boolean;
  call(arg: Value, c: EvalContext, span: ErrorSpan): Result;
}

function instant(fn: string, v: Value, span: ErrorSpan): number | EvalError {
  const ms = timeValueMs(v);
  return ms === ms ? ms : quotingError((found) => msg.notATime(fn, found), show(v), span);
}

export const BUILTINS: Readonly<Record<string, BuiltinImpl>> = {
  ip: {
    impure: false,
    call(x, _c, span) {
      if (typeof x !== "string") return new EvalError(msg.operand("ip", "a string", typeName(x)), span);
      return parseIp(x) ?? quotingError(msg.invalidIp, JSON.stringify(x), span);
    },
  },
  age: {
    impure: true,
    call(t, c, span) {
      const ms = instant("age", t, span);
      if (ms instanceof EvalError) return ms;
      const now = c.now();
      if (now !== now) return new EvalError(msg.nowUnavailable(), span);
      return new Duration(now - ms);
    },
  },
  size: {
    impure: false,
    call(x, _c, span) {
      if (typeof x === "string") return codePointLength(x);
      if (Array.isArray(x)) return x.length;
      if (isObject(x)) return Object.keys(x).filter((k) => x[k] !== undefined).length;
      return new EvalError(msg.operand("size", "a list, a string or an object", typeName(x)), span);
    },
  },
  lower: {
    impure: false,
    call(x, _c, span) {
      return typeof x === "string" ? lower(x) : new EvalError(msg.operand("lower", "a string", typeName(x)), span);
    },
  },
  upper: {
    impure: false,
    call(x, _c, span) {
      return typeof x === "string" ? upper(x) : new EvalError(msg.operand("upper", "a string", typeName(x)), span);
    },
  },
  // The one builtin that takes any value: it lets a rule test a value's type
  // (a JSON null, a number where a string is expected) without an error.
  type: {
    impure: false,
    call(x) {
      return typeName(x);
    },
  },
  hour: {
    impure: false,
    call(t, _c, span) {
      const ms = instant("hour", t, span);
      return ms instanceof EvalError ? ms : hourOf(ms);
    },
  },
  weekday: {
    impure: false,
    call(t, _c, span) {
      const ms = instant("weekday", t, span);
      return ms instanceof EvalError ? ms : weekdayOf(ms);
    },
  },
  risk: {
    impure: true,
    call(id, c, span) {
      if (typeof id !== "string") return new EvalError(msg.operand("risk", "a string id", typeName(id)), span);
      const now = c.now();
      if (now !== now) return new EvalError(msg.nowUnavailable(), span);
      const r = c.store.risk(id, now);
      return typeof r === "number" && Number.isFinite(r) ? r : new EvalError("the risk store answered something other than a number", span);
    },
  },
  quarantined: {
    impure: true,
    call(id, c, span) {
      if (typeof id !== "string") return new EvalError(msg.operand("quarantined", "a string id", typeName(id)), span);
      const now = c.now();
      if (now !== now) return new EvalError(msg.nowUnavailable(), span);
      const q = c.store.quarantined(id, now);
      return typeof q === "boolean" ? q : new EvalError("the quarantine store answered something other than a boolean", span);
    },
  },
};

/** Whether `name` is a builtin (own property, so `constructor` is not). */
export function builtin(name: string): BuiltinImpl | undefined {
  return Object.prototype.hasOwnProperty.call(BUILTINS, name) ? BUILTINS[name] : undefined;
}
