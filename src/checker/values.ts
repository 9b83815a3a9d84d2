/**
 * Values the checker folds at check time (consts, literal sub-expressions),
 * shared with the evaluator so a folded const is computed once.
 *
 * A ConstValue is a plain JSON value (string, number, boolean, array, plain
 * object) or one of two small classes:
 *   - DurationValue { ms }     for `15m`, `1h30m` (JSON: `{ "$duration": ms }`)
 *   - IpValue { text, ... }    for `ip("10.0.0.0/8")` (JSON: `{ "$ip": "10.0.0.0/8" }`)
 * Classes rather than tagged objects so that an object literal written by a
 * policy author (`{ "$ip": "x" }`) can never be mistaken for one; test with
 * `instanceof`. Objects are built with Object.fromEntries, so a `__proto__`
 * key is an ordinary own property.
 */
import { IpValue } from "./ip-value.js";

export { IpValue, parseIp } from "./ip-value.js";

/** A length of time, in milliseconds. */
export class DurationValue {
  readonly ms: number;
  constructor(ms: number) {
    this.ms = ms;
  }
  toString(): string {
    return formatDuration(this.ms);
  }
  /** JSON form: `{ "$duration": ms }`. */
  toJSON(): { $duration: number } {
    return { $duration: this.ms };
  }
}

export type ConstValue =
  | string
  | number
  | boolean
  | DurationValue
  | IpValue
  | ConstValue[]
  | { [key: string]: ConstValue };

/**
 * The static types of the language. `time` is the type of `now` (an instant;
 * RFC 3339 strings and epoch seconds convert to it); `unknown` is anything
 * read from the input that no schema describes.
 */
export type ValueType = "string" | "number" | "bool" | "duration" | "ip" | "list" | "object" | "time" | "unknown";

export function isPlainObject(v: unknown): v is { [key: string]: ConstValue } {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof DurationValue) && !(v instanceof IpValue);
}

export function typeOfValue(v: ConstValue): ValueType {
  if (typeof v === "string") return "string";
  if (typeof v === "number") return "number";
  if (typeof v === "boolean") return "bool";
  if (v instanceof DurationValue) return "duration";
  if (v instanceof IpValue) return "ip";
  if (Array.isArray(v)) return "list";
  return "object";
}

/** Deep equality by value; values of different types are simply unequal. */
export function valuesEqual(a: ConstValue, b: ConstValue): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object") return false;
  if (a instanceof DurationValue) return b instanceof DurationValue && a.ms === b.ms;
  if (a instanceof IpValue) return b instanceof IpValue && a.sameNetwork(b);
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!valuesEqual(a[i]!, b[i]!)) return false;
    return true;
  }
  if (!isPlainObject(b) || !isPlainObject(a)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k) || !valuesEqual(a[k]!, b[k]!)) return false;
  }
  return true;
}

const UNITS: [string, number][] = [
  ["w", 7 * 24 * 3600_000],
  ["d", 24 * 3600_000],
  ["h", 3600_000],
  ["m", 60_000],
  ["s", 1000],
  ["ms", 1],
];

/** `5400000` -> `1h30m`; `0` -> `0s`. */
/**
 * `lower(s)`: each character's Unicode lowercase, whatever stands next to it.
 * JavaScript's toLowerCase makes a capital sigma at the end of a word the
 * final form ς, so a string holding another did not hold it lowered:
 * "ΟΔΟΣΚΑΛΗ" lowered did not start with "ΟΔΟΣ" lowered ("οδος"), and a Sigma
 * rule's case-insensitive `contains` missed the very text it names. Σ, σ and
 * ς all become σ (what Unicode case folding does), so two spellings that
 * differ only in case lower alike. Shared by constant folding, the
 * evaluator and the Sigma importer, which lowers its patterns with it.
 */
export function lowerText(s: string): string {
  const l = s.toLowerCase();
  return l.indexOf("\u03c2") < 0 ? l : l.replace(/\u03c2/g, "\u03c3");
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms === 0) return "0s";
  let rest = Math.abs(ms);
  let out = ms < 0 ? "-" : "";
  for (const [unit, size] of UNITS) {
    if (rest >= size) {
      const n = Math.floor(rest / size);
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}

/** Short display of a value for messages: `"x"`, `5`, `[1, 2]`, `15m`. */
export function displayValue(v: ConstValue, depth = 0): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v instanceof DurationValue) return formatDuration(v.ms);
  if (v instanceof IpValue) return `ip(${JSON.stringify(v.text)})`;
  if (depth > 2) return Array.isArray(v) ? "[...]" : "{...}";
  if (Array.isArray(v)) {
    const items = v.slice(0, 5).map((x) => displayValue(x, depth + 1));
    if (v.length > 5) items.push("...");
    return `[${items.join(", ")}]`;
  }
  // Not a ConstValue: only a damaged AST gets here (the checker must not throw on one).
  if (v === null || typeof v !== "object") return String(v);
  const keys = Object.keys(v);
  const entries = keys.slice(0, 5).map((k) => `${/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? k : JSON.stringify(k)}: ${displayValue(v[k]!, depth + 1)}`);
  if (keys.length > 5) entries.push("...");
  return `{ ${entries.join(", ")} }`;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/**
 * Epoch milliseconds of an RFC 3339 string, or NaN when it is not one (calendar
 * fields range-checked: no February 30th; at most 9 fraction digits). The
 * evaluator reads times with this function too (src/evaluator/time.ts).
 */
export function rfc3339Ms(text: string): number {
  if (text.length < 20 || text.length > 40) return NaN;
  const m = RFC3339.exec(text);
  if (m === null) return NaN;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (month < 1 || month > 12 || day < 1) return NaN;
  const dim = month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
  if (day > dim || hour > 23 || minute > 59 || second > 60) return NaN;
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  let offset = 0;
  if (m[8] === undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return NaN;
    offset = (oh * 60 + om) * 60_000 * (m[9] === "-" ? -1 : 1);
  }
  // Not Date.UTC: it reads years 0-99 as 1900-1999, whose leap years and year ends are not
  // theirs (0000-02-29 would become March 1st, a leap second at the end of 0099 the start of 0099).
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, ms);
  return d.getTime() - offset;
}

/**
 * Milliseconds since the epoch of an RFC 3339 string, or undefined if the
 * text is not one (a date without time or zone is not an instant).
 */
export function parseRfc3339(text: string): number | undefined {
  const ms = rfc3339Ms(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** An instant from a time-like value: RFC 3339 string or epoch seconds. */
export function instantOf(v: ConstValue): number | undefined {
  // Epoch seconds only within a JavaScript Date's range, as the evaluator takes them.
  if (typeof v === "number") return Math.abs(v * 1000) <= 8.64e15 ? v * 1000 : undefined;
  if (typeof v === "string") return parseRfc3339(v);
  return undefined;
}

export const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"] as const;
