/**
 * Time builtins (spec/LANGUAGE.md section 3): `now`, `age(t)`, `hour(t)`,
 * `weekday(t)`, and RFC 3339 parsing for comparisons.
 *
 * Choices where the spec is silent:
 * - A time is an RFC 3339 string (`2026-01-01T00:00:00Z`, offsets and
 *   fractional seconds allowed; `T` may be `t` or a space, as RFC 3339 5.6
 *   notes) or, where the spec says so (`age`, `hour`, `weekday`, the input's
 *   `time`), a number of epoch seconds. Fractions below a millisecond are
 *   truncated. Calendar fields are range-checked (no February 30th); a leap
 *   second `:60` is accepted and counts as the next second.
 * - `now` is a value of its own type, `time` (an instant; the checker's
 *   type of `now` too). It prints as RFC 3339 UTC with milliseconds
 *   (`2026-01-01T00:05:00.000Z`). Where a time is compared with a string
 *   or a number, the other side converts (RFC 3339 string, epoch seconds):
 *   `now < "2027-01-01T00:00:00Z"`, `now == 1767225600`, and `<` etc.
 *   error when it does not convert. `==` of a time with a string that is
 *   not RFC 3339 is false.
 * - `<`, `<=`, `>`, `>=` between two strings compare instants when both are
 *   RFC 3339 times, and are an error otherwise; two numbers compare as
 *   numbers (epoch seconds are numbers).
 * - `age(t)` of a future `t` is negative.
 * - `hour(t)` is 0-23 in UTC; `weekday(t)` is the lowercase English day name
 *   in UTC (`"monday"` ... `"sunday"`), so policies read
 *   `weekday(now) in ["saturday", "sunday"]`.
 */
import { rfc3339Ms } from "../checker/values.js";
import { Special } from "./values.js";

/** An instant: the value of `now`. */
export class Time extends Special {
  readonly typeName = "time" as const;
  constructor(readonly ms: number) {
    super();
  }
  toJSON(): string {
    return formatInstant(this.ms);
  }
  override toString(): string {
    return this.toJSON();
  }
  equals(other: unknown): boolean {
    if (other instanceof Time) return other.ms === this.ms;
    return (typeof other === "string" || typeof other === "number") && timeValueMs(other) === this.ms;
  }
}

/**
 * Epoch milliseconds of an RFC 3339 string, or NaN when it is not one. The one
 * parser the checker and the evaluator share (src/checker/values.ts), so a time
 * literal the checker accepts is one evaluation reads.
 */
export const parseRfc3339: (text: string) => number = rfc3339Ms;

/**
 * The instants a time can be: what a JavaScript Date holds, +-100,000,000
 * days around 1970 (about 273,790 years). Epoch seconds beyond it are not
 * a time: `hour()` of one would be NaN and `weekday()` nothing at all, so a
 * deny rule testing them would quietly not apply.
 */
export const MAX_TIME_MS = 8.64e15;

/**
 * How far a key's creation time may lie after `now` and still count as a key
 * made just now (clocks of two machines disagree a little; Kerberos allows
 * the same). Any later and the date is no evidence of the key's age: a key
 * dated 2099 would otherwise look fresh for ever, so key-age checks fail.
 */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** Epoch milliseconds of epoch seconds, or NaN when `s` is not a representable instant. */
export function epochSecondsMs(s: number): number {
  const ms = s * 1000;
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_TIME_MS ? ms : NaN;
}

/** Epoch milliseconds of a time value (time, RFC 3339 string or epoch seconds), else NaN. */
export function timeValueMs(v: unknown): number {
  if (v instanceof Time) return v.ms;
  if (typeof v === "string") return parseRfc3339(v);
  if (typeof v === "number") return epochSecondsMs(v);
  return NaN;
}

/** An instant as RFC 3339 UTC with milliseconds. */
export function formatInstant(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? "invalid time" : d.toISOString();
}

export const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"] as const;

export function hourOf(ms: number): number {
  return new Date(ms).getUTCHours();
}

export function weekdayOf(ms: number): string {
  return WEEKDAYS[new Date(ms).getUTCDay()]!;
}

/**
 * A one-entry cache in front of parseRfc3339: the same timestamp string is
 * usually seen again and again at one call site (an MFA time, a key date).
 */
export class TimeCache {
  private lastText = "";
  private lastMs = NaN;
  parse(text: string): number {
    if (text === this.lastText) return this.lastMs;
    const ms = parseRfc3339(text);
    this.lastText = text;
    this.lastMs = ms;
    return ms;
  }
  value(v: unknown): number {
    if (v instanceof Time) return v.ms;
    if (typeof v === "string") return this.parse(v);
    if (typeof v === "number") return epochSecondsMs(v);
    return NaN;
  }
}
