/**
 * Durations (spec/LANGUAGE.md section 1): `500ms`, `15m`, `1h30m`, `90d`, `2w`.
 *
 * Choices where the spec is silent:
 * - A duration written in policy text keeps its text (`raw`), so decisions
 *   echo it as written (`maxAge: "15m"`, `maxKeyAge: "90d"`). Computed
 *   durations (from `age()`, arithmetic) print canonically with units
 *   d, h, m, s, ms (`1h30m`, `90d`, `1d2h`); weeks are never produced.
 * - Two durations are equal when they have the same length (`1h == 60m`).
 * - Durations may be negative (the age of a future timestamp).
 */
import { Special } from "./values.js";

export class Duration extends Special {
  readonly typeName = "duration" as const;
  constructor(
    /** Length in milliseconds. */
    readonly ms: number,
    /** The text as written in policy source, when it came from a literal. */
    readonly raw: string | null = null,
  ) {
    super();
  }

  /** The text as written, else the canonical form. */
  override toString(): string {
    return this.raw ?? formatDuration(this.ms);
  }

  toJSON(): string {
    return this.toString();
  }

  equals(other: unknown): boolean {
    return other instanceof Duration && other.ms === this.ms;
  }
}

const UNITS: [string, number][] = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1_000],
  ["ms", 1],
];

/** Canonical text of a length in ms: `1h30m`, `90d`, `0s`, `-5m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms === 0) return "0s";
  const sign = ms < 0 ? "-" : "";
  let rest = Math.round(Math.abs(ms));
  let out = "";
  for (const [unit, size] of UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return sign + (out === "" ? "0s" : out);
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parse duration text (`1h30m`); null when malformed. Used for inputs and tests. */
export function parseDuration(text: string): number | null {
  const re = /(\d+)(ms|s|m|h|d|w)/y;
  let total = 0;
  let pos = 0;
  if (text.length === 0) return null;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) return null;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    pos = re.lastIndex;
  }
  return total;
}
