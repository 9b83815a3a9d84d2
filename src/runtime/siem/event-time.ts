/**
 * An event's `@timestamp` in epoch ms, read on every event. Shippers write
 * one form (`2026-03-10T09:00:00.123Z`, ECS and Elastic's default), so that
 * form is parsed with character arithmetic; anything else (offsets, `t`,
 * a space, no fraction) goes to the evaluator's full RFC 3339 parser, and
 * the result is the same either way (test/runtime/siem/event-time.test.ts).
 */
import { parseRfc3339 } from "../../evaluator/time.js";

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digits(s: string, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Two digits at `i`, or a negative number. */
function two(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return (a >>> 0) > 9 || (b >>> 0) > 9 ? -1 : a * 10 + b;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The minute (checked) of the last time read, and its epoch ms: a stream's times share their minute. */
let minuteKey = -1;
let minuteMs = 0;

/** Epoch ms of an RFC 3339 time, or NaN. */
export function eventTimeMs(s: string): number {
  const n = s.length;
  // YYYY-MM-DDTHH:MM:SS then Z, or a fraction of 1-9 digits then Z.
  if (n < 20 || n > 30 || s.charCodeAt(n - 1) !== 90 /* Z */ || s.charCodeAt(10) !== 84 /* T */) return parseRfc3339(s);
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return parseRfc3339(s);
  const hi = two(s, 0);
  const lo = two(s, 2);
  const year = hi < 0 || lo < 0 ? -1 : hi * 100 + lo;
  const month = two(s, 5);
  const day = two(s, 8);
  const hour = two(s, 11);
  const minute = two(s, 14);
  const second = two(s, 17);
  let ms = 0;
  if (n > 20) {
    if (s.charCodeAt(19) !== 46 /* . */ || n === 21) return parseRfc3339(s);
    const k = n - 21;
    const frac = digits(s, 20, k);
    if (frac < 0) return NaN;
    // Truncated to milliseconds.
    ms = k === 3 ? frac : k > 3 ? digits(s, 20, 3) : frac * (k === 1 ? 100 : 10);
  }
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || minute < 0 || second < 0 || second > 60) return NaN;
  // Each part is two digits (the year four), so the key names one minute.
  const key = year * 1e8 + month * 1e6 + day * 1e4 + hour * 100 + minute;
  if (key !== minuteKey) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    const dim = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
    if (day > dim || hour > 23 || minute > 59) return NaN;
    minuteKey = key;
    minuteMs = ((daysFromCivil(year, month, day) * 24 + hour) * 60 + minute) * 60_000;
  }
  return minuteMs + second * 1000 + ms;
}
