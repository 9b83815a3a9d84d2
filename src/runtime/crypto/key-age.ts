/**
 * KEK ages against the policies' `require key_age within D` clauses: which
 * encryption rules limit key age, and for each KEK version which limits it
 * meets. Pure functions over the parsed policy files and the keyring's list;
 * `keys list --policies` prints the result.
 */
import { ruleId, type PolicyFile } from "../../parser/ast.js";
import { formatDuration, parseDuration } from "../../evaluator/duration.js";
import { MAX_CLOCK_SKEW_MS } from "../../evaluator/time.js";
import type { KekInfo } from "./keyring.js";

export interface KeyAgeRequirement {
  /** The encryption rule's id (`package/name`, `package/default`). */
  readonly rule: string;
  /** The limit as written (`90d`). */
  readonly maxKeyAge: string;
  readonly maxKeyAgeMs: number;
}

export interface KekAgeCheck {
  readonly rule: string;
  readonly maxKeyAge: string;
  /** Whether the version's age is within the limit. */
  readonly ok: boolean;
}

export interface KekAgeReport {
  readonly kek: KekInfo;
  readonly ageMs: number;
  /** Canonical age text in whole seconds (`120d3h`, `42s`); `0s` for a version dated after now. */
  readonly age: string;
  /** Created more than MAX_CLOCK_SKEW_MS after now: its age is unknown, so it meets no limit. */
  readonly future: boolean;
  /** One entry per requirement, strictest first; empty for retired versions (they wrap nothing new). */
  readonly checks: readonly KekAgeCheck[];
}

/** Every `require key_age` of an encryption rule in `files`, strictest first. */
export function keyAgeRequirements(files: readonly PolicyFile[]): KeyAgeRequirement[] {
  const out: KeyAgeRequirement[] = [];
  for (const file of files) {
    for (const item of file.items) {
      if (item.kind !== "EncryptionRule") continue;
      for (const clause of item.clauses) {
        if (clause.kind === "RequireKeyAge") out.push({ rule: ruleId(file, item), maxKeyAge: clause.within.raw, maxKeyAgeMs: clause.within.ms });
      }
    }
  }
  return out.sort((a, b) => a.maxKeyAgeMs - b.maxKeyAgeMs || (a.rule < b.rule ? -1 : 1));
}

/** Each KEK version's age at `now` (epoch ms) checked against every requirement. */
export function checkKeyAges(keks: readonly KekInfo[], requirements: readonly KeyAgeRequirement[], now: number): KekAgeReport[] {
  return keks.map((kek) => {
    const ageMs = now - kek.createdAt.getTime();
    // A date after now (a clock set back, a forged file) would read as a fresh key for ever.
    const future = !(ageMs >= -MAX_CLOCK_SKEW_MS);
    const checks = kek.status === "retired" ? [] : requirements.map((r) => ({ rule: r.rule, maxKeyAge: r.maxKeyAge, ok: !future && ageMs <= r.maxKeyAgeMs }));
    return { kek, ageMs, age: formatDuration(Math.max(0, Math.floor(ageMs / 1000) * 1000)), future, checks };
  });
}

/** A `maxKeyAge` from an encryption decision ("90d") in milliseconds; null when absent or unreadable. */
export function keyAgeMs(maxKeyAge: string | null): number | null {
  return maxKeyAge === null ? null : parseDuration(maxKeyAge);
}
