/**
 * Pipelines: how a Sigma rule's abstract log source and field names meet
 * the events they will run on (pySigma's "processing pipelines", reduced to
 * what a detect rule needs). A pipeline
 *
 * - maps a logsource (product / category / service) to a policy condition
 *   the event must meet (Sysmon process_creation: `EventID` 1 on the Sysmon
 *   channel), ANDed in front of the rule's detection;
 * - renames Sigma fields to event paths (`Image` to `process.executable`),
 *   globally or for one logsource; a name may map to several paths (any of
 *   them may hold the value);
 * - names the event field that keyword searches (values without a field)
 *   look in, such as ECS `message`;
 * - says whether a rule whose logsource it does not know is converted
 *   without a logsource condition (`keep`) or reported (`reject`).
 *
 * Without a pipeline, fields are read as named, the logsource is only a
 * comment, and keyword rules are reported. Built-in pipelines live in
 * pipelines.ts; a user pipeline is a YAML file of the same shape
 * (docs/sigma.md).
 */
import { parse } from "../../parser/parse.js";
import { check } from "../../checker/check.js";
import { hasErrors } from "../../diagnostics/diagnostic.js";
import type { Expr } from "../../parser/ast.js";
import { Prec } from "./expr.js";
import { ImportInputError } from "../report.js";
import { fieldPath, type FieldPath } from "./fields.js";
import { fail, isMap, Unconvertible } from "./model.js";

export interface LogsourceEntry {
  product?: string;
  category?: string;
  service?: string;
  /** A policy expression over the event; it must not error on events lacking its fields. */
  condition?: string;
  fields?: Record<string, string[]>;
}

export interface Pipeline {
  name: string;
  description?: string;
  /** Event field that keyword searches look in. */
  keywords?: string;
  unmappedLogsource: "keep" | "reject";
  fields: Record<string, string[]>;
  logsources: LogsourceEntry[];
}

/** No pipeline: fields as named, no logsource conditions, no keyword field. */
export const NO_PIPELINE: Pipeline = { name: "none", unmappedLogsource: "keep", fields: {}, logsources: [] };

export interface Logsource {
  product?: string;
  category?: string;
  service?: string;
}

/** What a pipeline makes of one rule's logsource. */
export interface AppliedLogsource {
  /** The matching entries' conditions, each with how loosely its text binds. */
  conditions: { text: string; prec: Prec }[];
  mapField(name: string): FieldPath[];
  keywordField(): FieldPath;
  /** Entries that matched, for the rule's comment. */
  matched: number;
}

function matches(e: LogsourceEntry, ls: Logsource): boolean {
  const eq = (a: string | undefined, b: string | undefined) => a === undefined || (b !== undefined && a.toLowerCase() === b.toLowerCase());
  return eq(e.product, ls.product) && eq(e.category, ls.category) && eq(e.service, ls.service);
}

export function describeLogsource(ls: Logsource): string {
  const parts = (["product", "category", "service"] as const).filter((k) => ls[k] !== undefined).map((k) => `${k}=${ls[k]}`);
  return parts.length > 0 ? parts.join(" ") : "(none)";
}

export function applyPipeline(p: Pipeline, ls: Logsource): AppliedLogsource {
  const hits = p.logsources.filter((e) => matches(e, ls));
  if (hits.length === 0 && p.unmappedLogsource === "reject") {
    fail(`logsource ${describeLogsource(ls)} is not covered by pipeline \`${p.name}\``);
  }
  const conditions = hits.map((e) => e.condition).filter((c): c is string => c !== undefined).map((text) => ({ text, prec: conditionPrec(text) }));
  const fields: Record<string, string[]> = { ...p.fields };
  for (const e of hits) Object.assign(fields, e.fields ?? {});
  return {
    conditions,
    mapField: (name) => (Object.prototype.hasOwnProperty.call(fields, name) ? fields[name]! : [name]).map(fieldPath),
    keywordField: () => {
      if (p.keywords === undefined) {
        fail(
          p === NO_PIPELINE
            ? "keyword search (values without a field) needs a pipeline that names the field to search, e.g. --pipeline ecs (message)"
            : `keyword search (values without a field): pipeline \`${p.name}\` names no keyword field`,
        );
      }
      return fieldPath(p.keywords);
    },
    matched: hits.length,
  };
}

// ---------------------------------------------------------------- loading

function bad(file: string, why: string): never {
  throw new ImportInputError(`pipeline ${file}: ${why}`);
}

function stringMap(v: unknown, file: string, where: string): Record<string, string[]> {
  if (v === undefined) return {};
  if (!isMap(v)) bad(file, `\`${where}\` is not a map of field names`);
  const out: Record<string, string[]> = {};
  for (const [k, target] of Object.entries(v)) {
    const list = Array.isArray(target) ? target : [target];
    if (list.length === 0 || list.some((t) => typeof t !== "string")) bad(file, `\`${where}.${k}\` is not a field name or a list of them`);
    for (const t of list as string[]) {
      try {
        fieldPath(t);
      } catch (err) {
        if (err instanceof Unconvertible) bad(file, `\`${where}.${k}\`: ${err.message}`);
        throw err;
      }
    }
    out[k] = list as string[];
  }
  return out;
}

/** The condition's top expression, parsed inside a detect rule (where it will sit); undefined if it is not one. */
function parseCondition(cond: string): { expr: Expr | undefined; message?: string; comment?: boolean } {
  const parsed = parse(`detect "pipeline" {\n  where ${cond}\n}\n`, "pipeline");
  const item = parsed.ast.items[0];
  const clauses = item?.kind === "Detect" ? item.clauses : [];
  if (hasErrors(parsed.diagnostics) || parsed.ast.items.length !== 1 || clauses.length !== 1 || clauses[0]!.kind !== "Where") {
    return { expr: undefined, message: parsed.diagnostics[0]?.message ?? "it spans more than a condition" };
  }
  // The condition is rendered into the rule's `where` line: a comment would run on over the rule's own detection.
  if (parsed.ast.comments.length > 0) return { expr: undefined, comment: true };
  return { expr: clauses[0]!.expr };
}

/** How loosely a condition's text binds, so it is parenthesised only where it must be. */
function conditionPrec(cond: string): Prec {
  const e = parseCondition(cond).expr;
  if (e === undefined) return Prec.Or;
  if (e.kind === "Binary") return e.op === "or" ? Prec.Or : e.op === "and" ? Prec.And : Prec.Cmp;
  if (e.kind === "Unary" && e.op === "not") return Prec.Not;
  return Prec.Cmp;
}

function checkCondition(cond: string, file: string, where: string): void {
  const { expr, message, comment } = parseCondition(cond);
  if (comment === true) bad(file, `\`${where}\` holds a comment (\`#\`), which would hide the rest of the rule's condition; remove it`);
  if (expr === undefined) bad(file, `\`${where}\` is not a policy expression: ${message}`);
  // One that parses but is no condition (a string, a sum) would make every converted rule fail `check`:
  // it is joined to the rule's own condition with `and`.
  const checked = check([parse(`detect "pipeline" {\n  where (${cond}) and true\n}\n`, "pipeline").ast]);
  const error = checked.diagnostics.find((d) => d.severity === "error");
  if (error !== undefined) bad(file, `\`${where}\` is not a condition: ${error.message}`);
}

const TOP_KEYS = new Set(["name", "description", "keywords", "unmapped-logsource", "fields", "logsources"]);
const ENTRY_KEYS = new Set(["product", "category", "service", "condition", "fields"]);

/** A pipeline from its parsed YAML document; ImportInputError when it is malformed. */
export function pipelineFromDoc(doc: unknown, file: string): Pipeline {
  if (!isMap(doc)) bad(file, "not a map");
  for (const k of Object.keys(doc)) if (!TOP_KEYS.has(k)) bad(file, `unknown key \`${k}\` (known: ${[...TOP_KEYS].join(", ")})`);
  const name = doc["name"] ?? file;
  if (typeof name !== "string") bad(file, "`name` is not a string");
  const keywords = doc["keywords"];
  if (keywords !== undefined && typeof keywords !== "string") bad(file, "`keywords` is not a field name");
  if (typeof keywords === "string") stringMap({ keywords }, file, "");
  const unmapped = doc["unmapped-logsource"] ?? "keep";
  if (unmapped !== "keep" && unmapped !== "reject") bad(file, "`unmapped-logsource` is neither `keep` nor `reject`");
  const list = doc["logsources"] ?? [];
  if (!Array.isArray(list)) bad(file, "`logsources` is not a list");
  const logsources = list.map((e: unknown, i: number): LogsourceEntry => {
    const where = `logsources[${i}]`;
    if (!isMap(e)) bad(file, `\`${where}\` is not a map`);
    for (const k of Object.keys(e)) if (!ENTRY_KEYS.has(k)) bad(file, `unknown key \`${where}.${k}\``);
    const entry: LogsourceEntry = {};
    for (const k of ["product", "category", "service"] as const) {
      const v = e[k];
      if (v === undefined) continue;
      if (typeof v !== "string") bad(file, `\`${where}.${k}\` is not a string`);
      entry[k] = v;
    }
    if (entry.product === undefined && entry.category === undefined && entry.service === undefined) {
      bad(file, `\`${where}\` names no product, category or service`);
    }
    if (e["condition"] !== undefined) {
      if (typeof e["condition"] !== "string") bad(file, `\`${where}.condition\` is not a string`);
      checkCondition(e["condition"], file, `${where}.condition`);
      entry.condition = e["condition"];
    }
    if (e["fields"] !== undefined) entry.fields = stringMap(e["fields"], file, `${where}.fields`);
    return entry;
  });
  const description = typeof doc["description"] === "string" ? doc["description"] : undefined;
  return { name, description, keywords, unmappedLogsource: unmapped, fields: stringMap(doc["fields"], file, "fields"), logsources };
}
