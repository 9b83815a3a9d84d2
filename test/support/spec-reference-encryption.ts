/**
 * A reading of spec/LANGUAGE.md section 5 (encryption requirements), and of
 * the decisions docs/language.md records for it, for the encryption spec
 * differential (test/evaluator/spec-differential-blocks.test.ts). Like
 * spec-reference.ts, whose expression evaluator it uses, it shares no code
 * with src/: not the merge, not the audit, not the time reader.
 *
 * What it holds the engine to:
 * - every applicable rule contributes, and so does one whose `when` or
 *   `unless` errored (fail closed: the stricter answer), with the error
 *   reported; `default` contributes whenever it applies and is listed last;
 * - the merge: one cipher (a second, different one is an error naming the
 *   later rule), the smallest `key_age` as written, `tee` if any rule says
 *   so, the union of `aad` in first-seen order;
 * - with `data.encryption`: a violation for each requirement a
 *   contributing rule has that the data does not meet, where unknown is
 *   never compliant (no cipher or an unknown one, a missing or unreadable
 *   key date, one more than 5 minutes after now), and `compliant` only
 *   without violations and without errors.
 */
import { evalNode, instant, RErr, type Env, type Node, type RefStore } from "./spec-reference.js";

export type EncClause =
  | { k: "when" | "unless"; e: Node; line: number }
  | { k: "cipher"; name: string; line: number }
  | { k: "key_age"; ms: number; raw: string; message: string | null; line: number }
  | { k: "tee"; line: number }
  | { k: "aad"; fields: string[]; line: number };

export interface EncRule {
  /** `package/name`; `package/default` for the default block. */
  id: string;
  isDefault: boolean;
  clauses: EncClause[];
}

export interface EncPolicy {
  consts: Map<string, Node>;
  /** In source order (the default wherever it was written). */
  rules: EncRule[];
}

/**
 * An encryption result in comparable terms: errors as `rule@line`,
 * violations as `rule:requirement` (with the missing fields for `aad`),
 * since their texts are the engine's to choose.
 */
export interface RefEncryption {
  required: boolean;
  cipher: string | null;
  maxKeyAge: string | null;
  tee: boolean;
  aad: string[];
  rules: string[];
  errors: string[];
  compliant?: boolean;
  violations?: string[];
}

const KNOWN_CIPHERS = ["aes-256-gcm", "aes-256-gcm-siv"];
const SKEW_MS = 5 * 60_000;
const MAX_MS = 8.64e15;

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
function own(o: Record<string, unknown>, k: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined;
}

/** Why the engine refuses an encryption input before any rule; null when it takes it. */
export function refuseEncryption(input: unknown): string | null {
  if (!isObj(input)) return "not an object";
  if (own(input, "kind") !== "encryption") return "kind";
  if (!isObj(own(input, "data"))) return "data";
  const t = own(input, "time");
  if (t !== undefined && !(typeof t === "string" || typeof t === "number")) return "time type";
  if (t !== undefined && Number.isNaN(instant(t))) return "time value";
  return null;
}

/** Fail closed: encryption required, nothing anyone could meet by accident, never compliant. */
const REFUSED: RefEncryption = { required: true, cipher: null, maxKeyAge: null, tee: false, aad: [], rules: [], errors: ["null@0"], compliant: false, violations: [] };

/** applies, does not apply, or errored at a line (section 3: clauses in source order, stopping when the outcome is known). */
function conditions(rule: EncRule, env: Env): "applies" | "na" | number {
  for (const cl of rule.clauses) {
    if (cl.k !== "when" && cl.k !== "unless") continue;
    const v = evalNode(cl.e, env);
    if (v instanceof RErr || typeof v !== "boolean") return cl.line;
    if (cl.k === "when" ? !v : v) return "na";
  }
  return "applies";
}

/** A rule's own requirements: its cipher, its smallest key age (the first of equals), tee, aad. */
function requirements(rule: EncRule) {
  let cipher: { name: string; line: number } | null = null;
  let keyAge: { ms: number; raw: string } | null = null;
  let tee = false;
  const aad: string[] = [];
  for (const cl of rule.clauses) {
    if (cl.k === "cipher") cipher ??= { name: cl.name, line: cl.line };
    else if (cl.k === "key_age" && (keyAge === null || cl.ms < keyAge.ms)) keyAge = { ms: cl.ms, raw: cl.raw };
    else if (cl.k === "tee") tee = true;
    else if (cl.k === "aad") for (const f of cl.fields) if (!aad.includes(f)) aad.push(f);
  }
  return { cipher, keyAge, tee, aad };
}

export function decideEncryptionRef(policy: EncPolicy, input: unknown, clockMs: number, store: RefStore): RefEncryption {
  if (refuseEncryption(input) !== null) return structuredClone(REFUSED);
  const inp = input as Record<string, unknown>;
  const t = own(inp, "time");
  let now = t === undefined ? clockMs : instant(t);
  if (!(Math.abs(now) <= MAX_MS)) now = NaN;
  const env: Env = { input: inp, now, store, consts: policy.consts };
  const errors: string[] = [];
  const contributing: EncRule[] = [];
  const ordered = [...policy.rules.filter((r) => !r.isDefault), ...policy.rules.filter((r) => r.isDefault)];
  for (const r of ordered) {
    const o = conditions(r, env);
    if (o === "na") continue;
    if (typeof o === "number") errors.push(`${r.id}@${o}`);
    contributing.push(r);
  }
  const reqs = contributing.map((r) => ({ id: r.id, ...requirements(r) }));
  let cipher: string | null = null;
  let maxKeyAge: { ms: number; raw: string } | null = null;
  let tee = false;
  const aad: string[] = [];
  for (const q of reqs) {
    if (q.cipher !== null) {
      if (cipher === null) cipher = q.cipher.name;
      else if (q.cipher.name !== cipher) errors.push(`${q.id}@${q.cipher.line}`);
    }
    if (q.keyAge !== null && (maxKeyAge === null || q.keyAge.ms < maxKeyAge.ms)) maxKeyAge = q.keyAge;
    tee ||= q.tee;
    for (const f of q.aad) if (!aad.includes(f)) aad.push(f);
  }
  const out: RefEncryption = { required: contributing.length > 0, cipher, maxKeyAge: maxKeyAge?.raw ?? null, tee, aad, rules: contributing.map((r) => r.id), errors };
  const data = own(inp, "data") as Record<string, unknown>;
  const actual = own(data, "encryption");
  if (actual === undefined) return out;
  const violations: string[] = [];
  if (!isObj(actual)) errors.push("null@0");
  else {
    const ac = own(actual, "cipher");
    const created = own(actual, "key_created_at");
    const at = created === undefined || created === null ? NaN : instant(created);
    const have = own(actual, "aad");
    const haveAad = Array.isArray(have) ? have : [];
    for (const q of reqs) {
      if (q.cipher !== null ? ac !== q.cipher.name : !KNOWN_CIPHERS.includes(ac as string)) violations.push(`${q.id}:cipher`);
      // Unknown is never compliant: no date, no readable date, or one past now beyond the clock skew allowed.
      if (q.keyAge !== null && (Number.isNaN(at) || at - now > SKEW_MS || now - at > q.keyAge.ms)) violations.push(`${q.id}:key_age`);
      if (q.tee && own(actual, "tee") !== true) violations.push(`${q.id}:tee`);
      const missing = q.aad.filter((f) => !haveAad.includes(f));
      if (missing.length > 0) violations.push(`${q.id}:aad ${JSON.stringify(missing)}`);
    }
  }
  out.compliant = violations.length === 0 && errors.length === 0;
  out.violations = violations;
  return out;
}

/** What a violation message is about: the engine words them; the requirement and the missing AAD fields are what the spec fixes. */
function violationKind(v: { rule: string | null; message: string }): string {
  if (v.message.startsWith("cipher is ")) return `${v.rule}:cipher`;
  if (v.message.startsWith("data is not in a trusted execution environment")) return `${v.rule}:tee`;
  const aad = /^aad lacks (.*)$/.exec(v.message);
  if (aad !== null) return `${v.rule}:aad ${JSON.stringify(JSON.parse(`[${aad[1]}]`))}`;
  return `${v.rule}:key_age`;
}

/** An engine result in the reference's terms. */
export function comparableEncryption(d: {
  required: boolean;
  cipher: string | null;
  maxKeyAge: string | null;
  tee: boolean;
  aad: string[];
  rules: string[];
  errors: { rule: string | null; span: { line: number } | null }[];
  compliant?: boolean;
  violations?: { rule: string | null; message: string }[];
}): RefEncryption {
  let errors = d.errors.map((e) => `${e.rule}@${e.span?.line ?? 0}`);
  // A refused input lists each of its problems; the reference counts one refusal.
  if (d.rules.length === 0 && errors.length > 1 && errors.every((e) => e === "null@0")) errors = ["null@0"];
  const out: RefEncryption = { required: d.required, cipher: d.cipher, maxKeyAge: d.maxKeyAge, tee: d.tee, aad: d.aad, rules: d.rules, errors };
  if (d.compliant !== undefined) out.compliant = d.compliant;
  if (d.violations !== undefined) out.violations = d.violations.map(violationKind);
  return out;
}
