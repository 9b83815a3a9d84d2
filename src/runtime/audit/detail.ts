/**
 * What an audit report keeps of one object or one invalid record. Each
 * detail is bounded (a few KiB at most), whatever the record held, so that
 * `maxDetails` details bound the report's memory: at most
 * MAX_DETAIL_ATTRIBUTES attributes are kept, and an attribute whose JSON is
 * longer than MAX_DETAIL_VALUE characters is replaced by a note of its size.
 */
import type { EncryptionResult } from "../../evaluator/decision.js";
import type { ScannedRecord } from "./record-scanner.js";
import type { RecordProblem } from "./record-schema.js";

export const MAX_DETAIL_ATTRIBUTES = 32;
export const MAX_DETAIL_VALUE = 256;

export interface AuditViolation {
  rule: string | null;
  message: string;
  /** The tags of `rule` (empty for an untagged rule or none). */
  tags: string[];
}

/** One evaluated object in the report's details. */
export interface AuditObject {
  /** 1-based line the record starts on (for records given as a list: position + 1). */
  line: number;
  /** 0-based position among the records. */
  index: number;
  id: string;
  status: "compliant" | "non-compliant";
  /** The record without `id` and `encryption`, bounded (see the top of this file). */
  attributes: Record<string, unknown>;
  /** The record's `encryption`, as given (the record schema bounds it). */
  actual: Record<string, unknown>;
  /** What the policies require of it (merged). */
  required: { cipher: string | null; maxKeyAge: string | null; tee: boolean; aad: string[] };
  /** Rules that applied, `default` last. */
  rules: string[];
  /** Tags of those rules, sorted. */
  tags: string[];
  violations: AuditViolation[];
  errors: { rule: string | null; message: string }[];
}

/** A record that could not be audited. */
export interface InvalidRecord {
  line: number;
  index: number;
  /** The record's `id` when it had a string one. */
  id: string | null;
  problems: RecordProblem[];
}

/**
 * The value as a detail shows it. JSON.stringify overflows the stack on a value nested some
 * thousands deep (an inventory line of 300 KB can be), and returns undefined or throws for what
 * is not JSON (a record handed over by a caller): one record must never end the whole audit.
 */
function shownValue(value: unknown): unknown {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    return err instanceof RangeError ? "(nested too deep to show, left out)" : "(not JSON, left out)";
  }
  if (json === undefined) return "(not JSON, left out)";
  return json.length <= MAX_DETAIL_VALUE ? value : `(${json.length} characters of JSON, left out)`;
}

function boundedAttributes(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let kept = 0;
  let left = 0;
  for (const key of Object.keys(record)) {
    if (key === "id" || key === "encryption") continue;
    if (kept >= MAX_DETAIL_ATTRIBUTES) {
      left++;
      continue;
    }
    let shown: unknown;
    try {
      shown = shownValue(record[key]);
    } catch {
      shown = "(cannot be read, left out)"; // a getter that throws (records from JavaScript callers)
    }
    // defineProperty: a key "__proto__" (JSON.parse makes it an own key) must stay data, not a prototype.
    Object.defineProperty(out, key.length <= MAX_DETAIL_VALUE ? key : `${key.slice(0, MAX_DETAIL_VALUE)}…`, {
      value: shown,
      enumerable: true,
      writable: true,
      configurable: true,
    });
    kept++;
  }
  if (left > 0) out["…"] = `${left} more attributes left out`;
  return out;
}

/** The detail of an evaluated object. */
export function objectDetail(
  record: Record<string, unknown>,
  where: ScannedRecord,
  result: EncryptionResult,
  ruleTags: ReadonlyMap<string, string[]>,
  tags: string[],
): AuditObject {
  return {
    line: where.line,
    index: where.index,
    id: record["id"] as string,
    status: result.compliant === true ? "compliant" : "non-compliant",
    attributes: boundedAttributes(record),
    actual: record["encryption"] as Record<string, unknown>,
    required: { cipher: result.cipher, maxKeyAge: result.maxKeyAge, tee: result.tee, aad: result.aad },
    rules: result.rules,
    tags: tags.sort(),
    violations: (result.violations ?? []).map((v) => ({ rule: v.rule, message: v.message, tags: v.rule === null ? [] : (ruleTags.get(v.rule) ?? []) })),
    errors: result.errors.map((e) => ({ rule: e.rule, message: e.message })),
  };
}
