/**
 * Runtime values of the evaluator (spec/LANGUAGE.md section 3, "Values and
 * types"): JSON values plus durations, IP addresses/ranges and the instant
 * `now` (time.ts). Errors are values too (EvalError): the hot path never
 * throws.
 *
 * Choices where the spec is silent:
 * - JSON `null` is a value, not an absence: `has` is true for a key holding
 *   null and `x ?? d` gives null when x is null. Reading an attribute
 *   *through* null (`a.b` where a is null) counts as a missing attribute, so
 *   `context.device.compliant ?? false` works when `device` is null.
 * - Reading an attribute of a string, number, boolean, list, duration or IP
 *   is a type error (not "missing"): `??` does not hide it.
 * - Only own properties of input objects are visible: `principal.constructor`
 *   is missing, never Object.prototype's function. A property holding
 *   `undefined` (possible from JavaScript callers) counts as missing.
 * - `==` between values of different types is false (1 and "1" differ, a
 *   duration never equals a number, an ip() never equals a string).
 */
import type { Duration } from "./duration.js";
import type { Ip } from "./cidr.js";
import type { Time } from "./time.js";


/** A position in policy source, as decisions report it. */
export interface ErrorSpan {
  file: string;
  line: number;
  column: number;
}

/**
 * An evaluation error. `missing` marks "attribute absent" errors, the only
 * ones `??` replaces with its default. Instances are immutable, so one
 * instance per source position can be shared by every evaluation.
 */
export class EvalError {
  constructor(
    readonly message: string,
    readonly span: ErrorSpan | null,
    readonly missing: boolean = false,
    /** `message` without the input values it quotes, for logs (see quoted-error.ts). */
    readonly logged: string = message,
  ) {}
}

/** A plain input object (JSON object). */
export type ObjectValue = { [key: string]: Value };

export type Value = null | boolean | number | string | Value[] | ObjectValue | Duration | Ip | Time;
/** What an expression evaluates to: a value or an error. */
export type Result = Value | EvalError;

/** Base of the non-JSON values, so one instanceof check tells them apart. */
export abstract class Special {
  abstract readonly typeName: "duration" | "ip" | "time";
  abstract toJSON(): string;
  /** `==` with any other value (a time also equals the same instant as text or epoch seconds). */
  abstract equals(other: unknown): boolean;
}

export function isError(v: unknown): v is EvalError {
  return v instanceof EvalError;
}

/** A JSON object (not null, not a list, not a duration or IP). */
export function isObject(v: unknown): v is ObjectValue {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Special) && !(v instanceof EvalError);
}

export type TypeName = "null" | "boolean" | "number" | "string" | "list" | "object" | "duration" | "ip" | "time" | "unsupported";

/** The language's name for a value's type, used in error messages. */
export function typeName(v: unknown): TypeName {
  switch (typeof v) {
    case "string":
      return "string";
    case "number":
      return Number.isFinite(v) ? "number" : "unsupported";
    case "boolean":
      return "boolean";
    case "object":
      if (v === null) return "null";
      if (Array.isArray(v)) return "list";
      if (v instanceof Special) return v.typeName;
      return "object";
    default:
      return "unsupported";
  }
}

const hasOwn = Object.prototype.hasOwnProperty;

const OBJECT_PROTO: object = Object.prototype;

/**
 * Whether Object.prototype has gained an enumerable property: prototype
 * pollution (`x.__proto__.is_admin = true` through some other library's bug
 * anywhere in the process). Compiled reads skip the own-property check for
 * names Object.prototype lacked at compile time (isInheritedName), so they
 * would read the polluted value as the request's own: `principal.is_admin ==
 * true` would allow. Evaluation refuses (fails closed) while this holds. It
 * has no enumerable properties otherwise, so the test is one empty for-in
 * (a few nanoseconds).
 */
export function prototypePolluted(): boolean {
  for (const key in OBJECT_PROTO) return key !== undefined;
  return false;
}

/** Keys that plain objects inherit; reading them needs an own-property check. */
export function isInheritedName(key: string): boolean {
  return key === "__proto__" || key in Object.prototype;
}


/** Deep equality: same type and same value; lists and objects compared deeply. */
export function deepEqual(a: unknown, b: unknown): boolean {
  // Not for lists and objects: one holding a non-finite number (JSON's 1e400) is unequal to itself,
  // as to a copy, so `x == x` must walk it like any other pair.
  if (a === b && (typeof a !== "object" || a === null)) return typeof a !== "number" || Number.isFinite(a);
  if (a instanceof Special) return a.equals(b);
  if (b instanceof Special) return b.equals(a);
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as ObjectValue)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as ObjectValue)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!hasOwn.call(b, k)) return false;
    if (!deepEqual((a as ObjectValue)[k], (b as ObjectValue)[k])) return false;
  }
  return true;
}

/** A value as JSON for explain output (durations and IPs as their text). */
export function toJson(v: Result): unknown {
  if (v instanceof EvalError) return { error: v.message };
  if (v instanceof Special) return v.toJSON();
  return v;
}

/** Levels of nesting an explain trace writes of a clause's value (as the correlation engine keeps of an alert's events). */
export const MAX_TRACE_DEPTH = 256;
const TOO_DEEP_TO_TRACE = `[nested deeper than ${MAX_TRACE_DEPTH} levels]`;

function fitsDepth(v: unknown, depth: number): boolean {
  if (typeof v !== "object" || v === null || v instanceof Special) return true;
  if (depth >= MAX_TRACE_DEPTH) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!fitsDepth(v[i], depth + 1)) return false;
    return true;
  }
  for (const k of Object.keys(v)) if (!fitsDepth((v as ObjectValue)[k], depth + 1)) return false;
  return true;
}

/**
 * A clause's value for an explain trace: toJson, or a note when it nests
 * deeper than MAX_TRACE_DEPTH (or is cyclic, from a JavaScript caller).
 * JSON.parse reads any depth but JSON.stringify overflows the stack some
 * thousands of levels down, and a trace holding such an input attribute
 * made the whole decision unwritable (the service answered 500).
 */
export function traceJson(v: Result): unknown {
  const j = toJson(v);
  return fitsDepth(j, 0) ? j : TOO_DEEP_TO_TRACE;
}
