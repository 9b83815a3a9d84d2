/**
 * Continuous verification of encryption compliance: every inventory record
 * goes through `evaluate({ kind: "encryption", data })` (spec/LANGUAGE.md
 * section 5) and is counted, in total, per rule and per compliance tag of
 * the rules that applied to it. Pure over its inputs: the caller reads the
 * inventory (inventory.ts) and renders the report (report-text.ts,
 * report-html.ts, or JSON as is).
 *
 * Choices where the issue is silent (docs/audit.md says the same):
 * - Every record is judged at one instant, `now` (default: when the audit
 *   starts), passed as the query's `time`, so key ages are comparable across
 *   the run and a report can be reproduced.
 * - A record that is not JSON or fails the record schema is `invalid`:
 *   counted, listed with its line and the failing field, never evaluated and
 *   never compliant; in the groups it counts in "unattributed".
 * - An evaluated record is compliant exactly when the result says
 *   `compliant: true`. Errors (the policies' own input schema rejecting the
 *   record, conflicting ciphers, a `when` that errors) make it non-compliant.
 * - Groups: one per tag of the encryption rules ("HIPAA:164.312(a)(2)(iv)"),
 *   "untagged" for rules without tags, "unattributed" for records no rule
 *   can be credited with (invalid ones, and evaluations that failed before
 *   any rule applied). An object is in a tag's group when a rule with that
 *   tag applied to it, and non-compliant there when such a rule reports a
 *   violation or error, or when an error names no rule it could be pinned on
 *   (that counts against every group of the object: fail closed). So every
 *   non-compliant object is non-compliant in at least one group.
 * - A framework is a tag's part before the first ":" (HIPAA, GDPR,
 *   ISO27001); an object counts once per framework.
 * - Memory is bounded whatever the inventory's size: counts for everything,
 *   details for the first `maxDetails` objects and invalid records (each
 *   detail itself bounded, see detail.ts) plus how many were left out.
 *   Duplicate ids are not detected: that would need memory for every id.
 */
import type { Engine } from "../../engine.js";
import type { EncryptionResult } from "../../evaluator/decision.js";
import { ruleId } from "../../parser/ast.js";
import { objectDetail, type AuditObject, type InvalidRecord } from "./detail.js";
import type { ScannedRecord } from "./record-scanner.js";
import { validateRecord, type RecordProblem } from "./record-schema.js";

export type { AuditObject, AuditViolation, InvalidRecord } from "./detail.js";

export const AUDIT_REPORT_FORMAT = "swarm-policy-audit";
export const AUDIT_REPORT_VERSION = 1;
export const DEFAULT_MAX_DETAILS = 1000;

export interface Counts {
  objects: number;
  compliant: number;
  nonCompliant: number;
}

export interface GroupSummary extends Counts {
  /** The tag, or "untagged" / "unattributed". */
  group: string;
  kind: "tag" | "untagged" | "unattributed";
  /** The tag before its first ":" (null for the two other kinds). */
  framework: string | null;
  /** The tag after its first ":" (null when it has none). */
  control: string | null;
  /** Rules carrying the tag (for "untagged", the untagged rules). */
  rules: string[];
  /** Violations and errors counted against the group over all objects. */
  violations: number;
}

export interface FrameworkSummary extends Counts {
  framework: string;
}

export interface RuleSummary {
  rule: string;
  tags: string[];
  /** Objects the rule applied to. */
  objects: number;
  /** Of those, objects the rule reported a violation or error for. */
  nonCompliant: number;
  violations: number;
}

export interface AuditReport {
  format: typeof AUDIT_REPORT_FORMAT;
  formatVersion: typeof AUDIT_REPORT_VERSION;
  /** The instant key ages were measured against (RFC 3339 UTC). */
  now: string;
  /** The inventory's name, when the caller gave one. */
  inventory: string | null;
  policy: { version: string; rules: { rule: string; tags: string[] }[] };
  /** True when there was at least one record and every record was valid and compliant. */
  compliant: boolean;
  totals: { records: number; compliant: number; nonCompliant: number; invalid: number; violations: number };
  frameworks: FrameworkSummary[];
  /** Tags sorted, then "untagged", then "unattributed"; only groups with objects. */
  groups: GroupSummary[];
  rules: RuleSummary[];
  /** In inventory order: non-compliant objects (and compliant ones with `includeCompliant`). */
  objects: AuditObject[];
  invalid: InvalidRecord[];
  /** How many objects and invalid records were left out of the details. */
  omitted: { objects: number; invalid: number };
  maxDetails: number;
}

export interface AuditOptions {
  /** The instant key ages are measured against: epoch ms or a Date (default: when the audit starts). */
  now?: number | Date;
  /** Most objects (and, separately, invalid records) kept in the details (default 1000). */
  maxDetails?: number;
  /** List compliant objects in the details too (within `maxDetails`). */
  includeCompliant?: boolean;
  /** Shown as the report's `inventory`. */
  inventory?: string;
  /** Called every `progressEvery` records (default 50,000) with the count so far. */
  onProgress?: (records: number) => void;
  progressEvery?: number;
}

/** The tags of every encryption rule of the engine's policy set, by rule id, in load order. */
export function encryptionRuleTags(engine: Engine): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const file of engine.files) {
    for (const item of file.items) {
      if (item.kind !== "EncryptionRule") continue;
      const tags: string[] = [];
      for (const cl of item.clauses) if (cl.kind === "Tags") for (const t of cl.tags) if (!tags.includes(t.value)) tags.push(t.value);
      out.set(ruleId(file, item), tags);
    }
  }
  return out;
}

class Tally implements Counts {
  objects = 0;
  compliant = 0;
  nonCompliant = 0;
  violations = 0;
  add(bad: boolean, violations: number): void {
    this.objects++;
    if (bad) this.nonCompliant++;
    else this.compliant++;
    this.violations += violations;
  }
  counts(): Counts {
    return { objects: this.objects, compliant: this.compliant, nonCompliant: this.nonCompliant };
  }
}

const byName = <T>([a]: [string, T], [b]: [string, T]) => (a < b ? -1 : a > b ? 1 : 0);

function frameworkOf(tag: string): string {
  const colon = tag.indexOf(":");
  return colon < 0 ? tag : tag.slice(0, colon);
}

/** The record as the encryption query's `data`: a null `cipher` or `key_created_at` is passed as absent. */
function queryData(record: Record<string, unknown>): Record<string, unknown> {
  const enc = record["encryption"] as Record<string, unknown>;
  if (enc["cipher"] !== null && enc["key_created_at"] !== null) return record;
  const actual: Record<string, unknown> = {};
  for (const k of Object.keys(enc)) if (enc[k] !== null) actual[k] = enc[k];
  return { ...record, encryption: actual };
}

/**
 * Audit an inventory: each record is validated, evaluated against the
 * engine's encryption rules at `now`, and counted. Reads `records` once, in
 * order; memory stays bounded (see the top of this file). Throws only what
 * reading `records` throws (an unreadable inventory) and RangeError for bad
 * options.
 */
export async function auditInventory(
  engine: Engine,
  records: AsyncIterable<ScannedRecord> | Iterable<ScannedRecord>,
  options: AuditOptions = {},
): Promise<AuditReport> {
  const nowMs = options.now instanceof Date ? options.now.getTime() : (options.now ?? Date.now());
  if (!Number.isFinite(nowMs)) throw new RangeError("audit: `now` is not a valid time");
  const now = new Date(nowMs).toISOString();
  const maxDetails = options.maxDetails ?? DEFAULT_MAX_DETAILS;
  if (!Number.isInteger(maxDetails) || maxDetails < 0) throw new RangeError("audit: `maxDetails` must be a non-negative integer");
  const progressEvery = options.progressEvery ?? 50_000;

  const ruleTags = encryptionRuleTags(engine);
  const tagGroups = new Map<string, Tally>();
  const untagged = new Tally();
  const unattributed = new Tally();
  const frameworks = new Map<string, Tally>();
  const rules = new Map<string, { objects: number; nonCompliant: number; violations: number }>();
  for (const id of ruleTags.keys()) rules.set(id, { objects: 0, nonCompliant: 0, violations: 0 });

  const totals = { records: 0, compliant: 0, nonCompliant: 0, invalid: 0, violations: 0 };
  const objects: AuditObject[] = [];
  const invalid: InvalidRecord[] = [];
  const omitted = { objects: 0, invalid: 0 };

  for await (const entry of records) {
    totals.records++;
    if (options.onProgress && totals.records % progressEvery === 0) options.onProgress(totals.records);
    let problems: RecordProblem[];
    let data: Record<string, unknown> | null = null;
    try {
      problems = entry.error !== undefined ? [{ path: "", message: entry.error }] : validateRecord(entry.value);
      if (problems.length === 0) data = queryData(entry.value as Record<string, unknown>);
    } catch (err) {
      // A JavaScript caller's record (recordsOf) may be a Proxy or have getters that throw.
      problems = [{ path: "", message: `cannot be read: ${errorText(err)}` }];
    }
    if (problems.length > 0 || data === null) {
      totals.invalid++;
      unattributed.add(true, 0);
      if (invalid.length < maxDetails) invalid.push({ line: entry.line, index: entry.index, id: recordId(entry.value), problems });
      else omitted.invalid++;
      continue;
    }
    const record = entry.value as Record<string, unknown>;
    const result = engine.evaluate({ kind: "encryption", data, time: now }) as EncryptionResult;
    const violations = result.violations ?? [];
    const compliant = result.compliant === true;
    totals.violations += violations.length + result.errors.length;
    if (compliant) totals.compliant++;
    else totals.nonCompliant++;

    // Problems per applied rule; the rest ("unowned") count against every group of the object.
    const perRule = new Map<string, number>();
    let unowned = 0;
    for (const { rule } of [...violations, ...result.errors]) {
      if (rule !== null && result.rules.includes(rule)) perRule.set(rule, (perRule.get(rule) ?? 0) + 1);
      else unowned++;
    }
    // Non-compliant with no problem named at all cannot happen today; if it ever does, it still counts.
    if (!compliant && perRule.size === 0 && unowned === 0) unowned = 1;

    const tagState = new Map<string, { bad: boolean; n: number }>();
    const untaggedState = { applied: false, bad: unowned > 0, n: unowned };
    for (const id of result.rules) {
      const tags = ruleTags.get(id) ?? [];
      const n = perRule.get(id) ?? 0;
      const stats = rules.get(id);
      if (stats) {
        stats.objects++;
        if (n > 0) stats.nonCompliant++;
        stats.violations += n;
      }
      if (tags.length === 0) {
        untaggedState.applied = true;
        untaggedState.bad ||= n > 0;
        untaggedState.n += n;
      }
      for (const tag of tags) {
        const st = tagState.get(tag) ?? { bad: unowned > 0, n: unowned };
        st.bad ||= n > 0;
        st.n += n;
        tagState.set(tag, st);
      }
    }
    const frameworkBad = new Map<string, boolean>();
    for (const [tag, st] of tagState) {
      let g = tagGroups.get(tag);
      if (!g) tagGroups.set(tag, (g = new Tally()));
      g.add(st.bad, st.n);
      const fw = frameworkOf(tag);
      frameworkBad.set(fw, (frameworkBad.get(fw) ?? false) || st.bad);
    }
    for (const [fw, bad] of frameworkBad) {
      let g = frameworks.get(fw);
      if (!g) frameworks.set(fw, (g = new Tally()));
      g.add(bad, 0);
    }
    if (untaggedState.applied) untagged.add(untaggedState.bad, untaggedState.n);
    if (result.rules.length === 0 && !compliant) unattributed.add(true, violations.length + result.errors.length);

    if (!compliant || options.includeCompliant === true) {
      if (objects.length < maxDetails) objects.push(objectDetail(record, entry, result, ruleTags, [...tagState.keys()]));
      else omitted.objects++;
    }
  }

  const groups: GroupSummary[] = [...tagGroups].sort(byName).map(([tag, g]) => {
    const colon = tag.indexOf(":");
    return {
      group: tag,
      kind: "tag" as const,
      framework: frameworkOf(tag),
      control: colon < 0 ? null : tag.slice(colon + 1),
      rules: [...ruleTags].filter(([, tags]) => tags.includes(tag)).map(([id]) => id),
      ...g.counts(),
      violations: g.violations,
    };
  });
  if (untagged.objects > 0) {
    const untaggedRules = [...ruleTags].filter(([, tags]) => tags.length === 0).map(([id]) => id);
    groups.push({ group: "untagged", kind: "untagged", framework: null, control: null, rules: untaggedRules, ...untagged.counts(), violations: untagged.violations });
  }
  if (unattributed.objects > 0) {
    groups.push({ group: "unattributed", kind: "unattributed", framework: null, control: null, rules: [], ...unattributed.counts(), violations: unattributed.violations });
  }

  return {
    format: AUDIT_REPORT_FORMAT,
    formatVersion: AUDIT_REPORT_VERSION,
    now,
    inventory: options.inventory ?? null,
    policy: { version: engine.version, rules: [...ruleTags].map(([rule, tags]) => ({ rule, tags })) },
    compliant: totals.records > 0 && totals.nonCompliant === 0 && totals.invalid === 0,
    totals,
    frameworks: [...frameworks].sort(byName).map(([framework, g]) => ({ framework, ...g.counts() })),
    groups,
    rules: [...rules].map(([rule, s]) => ({ rule, tags: ruleTags.get(rule) ?? [], ...s })),
    objects,
    invalid,
    omitted,
    maxDetails,
  };
}

function recordId(value: unknown): string | null {
  try {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
    const id = Object.prototype.hasOwnProperty.call(value, "id") ? (value as Record<string, unknown>)["id"] : undefined;
    return typeof id === "string" ? id.slice(0, 1024) : null;
  } catch {
    return null; // a Proxy whose traps throw
  }
}

/** What was thrown, as one short line (a hostile value may not even make a string). */
function errorText(err: unknown): string {
  try {
    return (err instanceof Error ? err.message : String(err)).split("\n")[0]!.slice(0, 200);
  } catch {
    return "an exception that cannot be shown";
  }
}
