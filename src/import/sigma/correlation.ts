/**
 * Sigma correlation rules (Sigma correlation rules specification) as detect
 * blocks. The referenced rules' conditions are inlined:
 *
 *   event_count        where R1 or R2   by G within T   having count >= N
 *   value_count        where R1 or ...  by G within T   having distinct F >= N
 *   temporal           by G within T   all { r1: R1  r2: R2 ... }
 *   temporal_ordered   by G within T   sequence { r1: R1  r2: R2 ... }
 *
 * A temporal rule may list an event_count correlation among its rules (the
 * spec's "failed logins followed by a success"): it becomes a step with a
 * count, `failed: R count >= 10`, when it groups by the same fields over the
 * same timespan (the step is then counted within the same window).
 *
 * Reported rather than approximated:
 * - conditions `lt`, `lte`, `eq`, `neq` and ranges: the engine decides as
 *   events arrive, so it cannot wait for a window to close to see that a
 *   count stayed low (docs/language.md section 10);
 * - a temporal condition asking for fewer than all of the rules;
 * - `aliases` (a group-by field that differs per rule), value_sum,
 *   value_avg, value_percentile, a timespan in months or years, no group-by.
 */
import type { Cond } from "./expr.js";
import { or, render } from "./expr.js";
import { isReservedWord, type FieldPath } from "./fields.js";
import { fail, isMap, text, type SigmaDoc } from "./model.js";

export interface ConvertedDetection {
  where: Cond;
  mapField(name: string): FieldPath[];
}

export interface CorrelationContext {
  /** The document a `rules` entry names (by id or name); fails when absent or ambiguous. */
  resolve(ref: string): SigmaDoc;
  /** A referenced detection rule, converted. */
  detection(doc: SigmaDoc): ConvertedDetection;
}

const TYPES = new Set(["event_count", "value_count", "temporal", "temporal_ordered"]);
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function timespan(v: unknown): string {
  if (typeof v !== "string" && typeof v !== "number") fail("`timespan` is missing");
  const m = /^([1-9][0-9]*)([smhd])$/.exec(String(v).trim());
  if (m === null) fail(`timespan ${JSON.stringify(v)} is not a number followed by s, m, h or d`);
  const ms = Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "s" | "m" | "h" | "d"];
  if (!Number.isSafeInteger(ms)) fail(`timespan ${JSON.stringify(v)} is longer than the engine's windows (at most 2^53 - 1 ms)`);
  return `${m[1]}${m[2]}`;
}

/** A minimum count: `gt N` is written `>= N+1`, so a step count stays a positive integer. */
interface Threshold {
  op: ">=";
  n: number;
}

function threshold(cond: Record<string, unknown>, what: string): Threshold {
  const keys = Object.keys(cond).filter((k) => k !== "field");
  if (keys.length === 0) fail(`the ${what} condition has no comparison`);
  if (keys.length > 1) fail(`the ${what} condition is a range (${keys.join(" and ")}); only one \`gt\` or \`gte\` is supported`);
  const key = keys[0]!;
  const n = cond[key];
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) fail(`the ${what} condition's \`${key}\` is not a whole number`);
  if (n >= Number.MAX_SAFE_INTEGER) fail(`the ${what} condition's \`${key}\` is beyond the counts the engine keeps exactly`);
  if (key === "gt") return { op: ">=", n: n + 1 };
  if (key === "gte") {
    if (n === 0) fail(`the ${what} condition \`gte: 0\` holds without any event`);
    return { op: ">=", n };
  }
  if (["lt", "lte", "eq", "neq"].includes(key)) {
    fail(`the ${what} condition \`${key}\` needs the count at the end of the window, and the engine decides as events arrive`);
  }
  fail(`the ${what} condition has an unknown comparison \`${key}\``);
}

interface Corr {
  type: string;
  rules: string[];
  groupBy: string[];
  within: string;
  condition: Record<string, unknown> | undefined;
}

function correlationOf(doc: SigmaDoc): Corr {
  const c = doc.body["correlation"];
  if (!isMap(c)) fail("`correlation` is not a map");
  const type = c["type"];
  if (typeof type !== "string") fail("the correlation has no `type`");
  if (!TYPES.has(type)) fail(`correlation type \`${type}\` is not supported (event_count, value_count, temporal, temporal_ordered are)`);
  if (c["aliases"] !== undefined) fail("field name `aliases` are not supported: `by` reads the same fields in every event");
  const rules = c["rules"];
  if (!Array.isArray(rules) || rules.length === 0 || rules.some((r) => typeof r !== "string")) fail("`rules` is not a list of rule ids or names");
  const groupBy = c["group-by"];
  if (groupBy === undefined) fail("the correlation has no `group-by`; the engine needs grouping fields for a window");
  if (!Array.isArray(groupBy) || groupBy.length === 0 || groupBy.some((g) => typeof g !== "string")) fail("`group-by` is not a list of field names");
  const condition = c["condition"];
  if (condition !== undefined && !isMap(condition)) fail("`condition` is not a map");
  return { type, rules: rules as string[], groupBy: groupBy as string[], within: timespan(c["timespan"]), condition: condition as Record<string, unknown> | undefined };
}

/** One path per field; the same in every referenced rule (no per-rule aliases). */
function groupFields(names: string[], rules: ConvertedDetection[], what: string): string[] {
  return names.map((name) => {
    const texts = new Set<string>();
    for (const r of rules) {
      const paths = r.mapField(name);
      if (paths.length !== 1) fail(`${what} field \`${name}\` maps to several event fields`);
      texts.add(pathText(paths[0]!));
    }
    if (texts.size > 1) fail(`${what} field \`${name}\` maps to different event fields in the referenced rules`);
    return [...texts][0]!;
  });
}

function pathText(f: FieldPath): string {
  return f.segments.map((s, i) => (i === 0 ? s : IDENT.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`)).join("");
}

/**
 * Whether a Sigma rule's name can be a step name as it is: an identifier that
 * is not a reserved word, and not `count`, which after a step's condition is
 * read as that step's count (`name: EXPR count >= N`).
 */
function stepName(name: string): boolean {
  return IDENT.test(name) && !isReservedWord(name) && name !== "count";
}

export interface ConvertedCorrelation {
  clauses: string[];
  /** The documents whose conditions were inlined (directly or through a chained correlation). */
  used: SigmaDoc[];
}

export function convertCorrelation(doc: SigmaDoc, ctx: CorrelationContext): ConvertedCorrelation {
  const corr = correlationOf(doc);
  const used: SigmaDoc[] = [];
  const detectionOf = (ref: string): ConvertedDetection => {
    const d = ctx.resolve(ref);
    if (d.body["correlation"] !== undefined) fail(`rule \`${ref}\` is itself a correlation; only temporal rules may chain an event_count`);
    used.push(d);
    return ctx.detection(d);
  };
  const by = (rules: ConvertedDetection[]) => `by ${groupFields(corr.groupBy, rules, "group-by").join(", ")} within ${corr.within}`;

  if (corr.type === "event_count" || corr.type === "value_count") {
    if (corr.condition === undefined) fail(`a ${corr.type} correlation needs a \`condition\``);
    const rules = corr.rules.map(detectionOf);
    const t = threshold(corr.condition, corr.type);
    const where = `where ${render(or(rules.map((r) => r.where)))}`;
    if (corr.type === "event_count") return { clauses: [where, by(rules), `having count ${t.op} ${t.n}`], used };
    const field = corr.condition["field"];
    if (typeof field !== "string") fail("a value_count condition needs one `field`");
    const [distinct] = groupFields([field], rules, "value_count");
    return { clauses: [where, by(rules), `having distinct ${distinct} ${t.op} ${t.n}`], used };
  }

  // temporal, temporal_ordered
  if (corr.condition !== undefined) {
    const t = threshold(corr.condition, corr.type);
    const needed = t.n;
    if (needed !== corr.rules.length) fail(`the ${corr.type} condition asks for ${needed} of ${corr.rules.length} rules; only all of them is supported`);
  }
  const names = new Set<string>();
  const stepRules: ConvertedDetection[] = [];
  const steps = corr.rules.map((ref, i) => {
    const target = ctx.resolve(ref);
    const base = text(target.body, "name") ?? ref;
    let name = stepName(base) ? base : `rule_${i + 1}`;
    while (names.has(name)) name = `${name}_${i + 1}`;
    names.add(name);
    if (target.body["correlation"] === undefined) {
      const r = detectionOf(ref);
      stepRules.push(r);
      return `  ${name}: ${render(r.where)}`;
    }
    const inner = correlationOf(target);
    if (inner.type !== "event_count") fail(`step \`${ref}\` is a ${inner.type} correlation; only an event_count can be a step`);
    if (inner.within !== corr.within) fail(`step \`${ref}\` counts over ${inner.within}, the temporal rule over ${corr.within}; they must be equal`);
    if ([...inner.groupBy].sort().join("\n") !== [...corr.groupBy].sort().join("\n")) fail(`step \`${ref}\` groups by other fields than the temporal rule`);
    if (inner.condition === undefined) fail(`step \`${ref}\` has no condition`);
    const t = threshold(inner.condition, "event_count");
    used.push(target);
    const rules = inner.rules.map(detectionOf);
    stepRules.push(...rules);
    return `  ${name}: ${render(or(rules.map((r) => r.where)))} count ${t.op} ${t.n}`;
  });
  return { clauses: [by(stepRules), `${corr.type === "temporal" ? "all" : "sequence"} {`, ...steps, "}"], used };
}
