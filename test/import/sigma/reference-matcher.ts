/**
 * A second, independent reading of Sigma's matching semantics, for tests: it
 * evaluates a Sigma rule's detection directly on an event (no policy text),
 * so the importer's translation can be checked against it event by event.
 * It is written differently on purpose: wildcards become one RegExp with the
 * `i` flag (the importer uses lower() and like/starts_with/...), `re` runs as
 * a lenient non-`u` RegExp on the PCRE text, CIDR uses node's BlockList.
 *
 * Pipelines: field names are mapped with the pipeline (mapping is not
 * semantics), and the built-in pipelines' logsource conditions are read by
 * the small interpreter in logsource-forms.ts.
 */
import { BlockList, isIP } from "node:net";
import { expandPattern, parseCondition, type CondNode } from "../../../src/import/sigma/condition.js";

export type Event = Record<string, unknown>;
export type FieldMap = (name: string) => string[][];

const MISSING = Symbol("missing");

/** The value at a dotted path; MISSING when a step is absent or not an object. */
export function lookup(event: unknown, segments: string[]): unknown {
  let cur: unknown = event;
  for (const s of segments) {
    if (typeof cur !== "object" || cur === null || Array.isArray(cur) || !Object.prototype.hasOwnProperty.call(cur, s)) return MISSING;
    cur = (cur as Record<string, unknown>)[s];
  }
  return cur === undefined ? MISSING : cur;
}

export function isMissing(v: unknown): boolean {
  return v === MISSING;
}

/** A Sigma string (wildcards, escapes) as an anchored RegExp source. */
function wildcardSource(v: string, mods: Set<string>): string {
  let out = "";
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    const n = v[i + 1];
    if (c === "\\" && (n === "*" || n === "?" || n === "\\")) {
      out += n === "\\" ? "\\\\" : `\\${n}`;
      i++;
    } else if (c === "*") out += "[\\s\\S]*";
    else if (c === "?") out += "[\\s\\S]";
    else out += c.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
  }
  if (mods.has("windash")) out = out.replace(/(?<![A-Za-z0-9_])(\\-|\\\/)(?=[A-Za-z0-9_])/g, "[-/\u2013\u2014\u2015]");
  if (mods.has("contains")) return `[\\s\\S]*${out}[\\s\\S]*`;
  if (mods.has("startswith")) return `${out}[\\s\\S]*`;
  if (mods.has("endswith")) return `[\\s\\S]*${out}`;
  return out;
}

function cidrMatch(range: string, x: unknown): boolean {
  if (typeof x !== "string" || isIP(x) === 0) return false;
  const [net, bits] = range.split("/");
  const family = isIP(net!) === 6 ? "ipv6" : "ipv4";
  const list = new BlockList();
  list.addSubnet(net!, Number(bits ?? (family === "ipv6" ? 128 : 32)), family);
  return list.check(x, isIP(x) === 6 ? "ipv6" : "ipv4");
}

/** One Sigma value against one event value. */
function valueMatch(v: unknown, x: unknown, mods: Set<string>, event: Event, map: FieldMap): boolean {
  if (mods.has("re")) {
    if (typeof x !== "string") return false;
    let src = String(v);
    let flags = mods.has("i") ? "i" : "";
    const lead = /^\(\?([ims]+)\)/.exec(src);
    if (lead) {
      flags += lead[1];
      src = src.slice(lead[0].length);
    }
    if (mods.has("s")) flags += "s";
    if (mods.has("m")) flags += "m";
    return new RegExp(src, [...new Set(flags)].join("")).test(x);
  }
  if (mods.has("cidr")) return cidrMatch(String(v), x);
  if (mods.has("fieldref")) {
    const other = map(String(v)).map((p) => lookup(event, p)).find((y) => !isMissing(y));
    if (isMissing(x) || other === undefined) return false;
    if (mods.has("startswith")) return typeof x === "string" && typeof other === "string" && x.startsWith(other);
    if (mods.has("endswith")) return typeof x === "string" && typeof other === "string" && x.endsWith(other);
    return JSON.stringify(x) === JSON.stringify(other);
  }
  for (const [m, cmp] of [["lt", (a: number, b: number) => a < b], ["lte", (a: number, b: number) => a <= b], ["gt", (a: number, b: number) => a > b], ["gte", (a: number, b: number) => a >= b]] as const) {
    if (mods.has(m)) return typeof x === "number" && cmp(x, v as number);
  }
  if (v === null) return isMissing(x) || x === null;
  // Values compare as strings: a boolean and its text (`true`, any case unless cased) are one value.
  if (typeof v === "boolean") return x === v || (typeof x === "string" && (mods.has("cased") ? x : x.toLowerCase()) === String(v));
  if (isMissing(x) || x === null) return false;
  const plain = !["contains", "startswith", "endswith", "windash"].some((m) => mods.has(m));
  if (typeof v === "number" && plain) return (typeof x === "number" && x === v) || (typeof x === "string" && x === String(v));
  const s = String(v);
  // Only stars: any value at all (Splunk's `field=*`), whatever its type.
  if (/^\*+$/.test(s)) return true;
  if (typeof x === "number") return plain && /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/.test(s) && String(Number(s)) === s && x === Number(s);
  if (typeof x === "boolean") return plain && (mods.has("cased") ? s : s.toLowerCase()) === String(x);
  if (typeof x !== "string") return false;
  return new RegExp(`^${wildcardSource(s, mods)}$`, mods.has("cased") ? "s" : "is").test(x);
}

function itemMatch(key: string, value: unknown, event: Event, map: FieldMap, keywordField: string[] | undefined): boolean {
  const [name, ...modList] = key.split("|");
  const mods = new Set(modList);
  if (name === "") return keywordsMatch(Array.isArray(value) ? value : [value], mods, event, keywordField);
  const values = Array.isArray(value) ? value : [value];
  const oneField = (path: string[]): boolean => {
    const x = lookup(event, path);
    if (mods.has("exists")) return value === !isMissing(x);
    const hits = values.map((v) => valueMatch(v, x, mods, event, map));
    const ok = mods.has("all") ? hits.every(Boolean) : hits.some(Boolean);
    return mods.has("neq") ? !ok : ok;
  };
  return map(name!).some(oneField);
}

function keywordsMatch(values: unknown[], mods: Set<string>, event: Event, keywordField: string[] | undefined): boolean {
  if (keywordField === undefined) throw new Error("keywords without a keyword field");
  const x = lookup(event, keywordField);
  const m = new Set([...mods, "contains"]);
  const hits = values.map((v) => valueMatch(String(v), x, m, event, () => []));
  return mods.has("all") ? hits.every(Boolean) : hits.some(Boolean);
}

export function selectionMatch(sel: unknown, event: Event, map: FieldMap, keywordField: string[] | undefined): boolean {
  const mapMatch = (m: Record<string, unknown>) => Object.entries(m).every(([k, v]) => itemMatch(k, v, event, map, keywordField));
  if (Array.isArray(sel)) {
    return sel.some((s) => (typeof s === "object" && s !== null ? mapMatch(s as Record<string, unknown>) : keywordsMatch([s], new Set(), event, keywordField)));
  }
  if (typeof sel === "object" && sel !== null) return mapMatch(sel as Record<string, unknown>);
  return keywordsMatch([sel], new Set(), event, keywordField);
}

/** The rule's condition over identifier truth values. */
export function conditionHolds(detection: Record<string, unknown>, truth: (id: string) => boolean): boolean {
  const ids = Object.keys(detection).filter((k) => k !== "condition" && k !== "timeframe");
  const walk = (n: CondNode): boolean => {
    switch (n.k) {
      case "id":
        return truth(n.name);
      case "not":
        return !walk(n.item);
      case "and":
        return n.items.every(walk);
      case "or":
        return n.items.some(walk);
      case "of": {
        const names = expandPattern(n.pattern, ids);
        return n.all ? names.every(truth) : names.some(truth);
      }
    }
  };
  const conds = Array.isArray(detection["condition"]) ? detection["condition"] : [detection["condition"]];
  return conds.some((c) => walk(parseCondition(String(c))));
}

export function detectionMatch(detection: Record<string, unknown>, event: Event, map: FieldMap, keywordField: string[] | undefined): boolean {
  return conditionHolds(detection, (id) => selectionMatch(detection[id], event, map, keywordField));
}
