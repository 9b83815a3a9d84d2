/**
 * Walking an attribute path through a JSON Schema: `properties`,
 * `additionalProperties`, `unevaluatedProperties`, local `$ref`s (`#/$defs/x`,
 * any local JSON pointer, resolved against the nearest `$id` as ajv resolves
 * them), `items` / `prefixItems` for `[n]`, `false` schemas (nothing is
 * allowed there), and a schema that is only an anyOf, oneOf or allOf (a path
 * no branch allows, or for allOf one that some branch refuses). Anything
 * fancier (combinators beside other keywords, patternProperties,
 * conditionals, `$anchor` and remote refs) is permissive: the walk stops and
 * claims nothing, so the checker never reports a path a schema might allow.
 */
import type { PathSegment } from "./sites.js";
import type { ValueType } from "./values.js";

type Json = unknown;

/**
 * A schema node and the schema resource its local `$ref`s resolve in: the
 * nearest enclosing object with an `$id` (the root when none).
 */
export interface SchemaAt {
  node: Json;
  base: Json;
}

export type WalkResult =
  /** Every segment was followed; `at` is the schema of the value (if still precise). */
  | { kind: "ok"; at: SchemaAt }
  /** A keyword we do not interpret: no claim. */
  | { kind: "stop" }
  /** Segment `at` is not allowed; `allowed` lists the property names that are. */
  | { kind: "denied"; at: number; allowed: string[]; reason: "additional" | "type"; type?: string };

const PERMISSIVE_KEYWORDS = ["anyOf", "oneOf", "allOf", "patternProperties", "if", "then", "else", "dependentSchemas", "not", "$dynamicRef", "$recursiveRef"];

function isObject(x: Json): x is Record<string, Json> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function has(o: Record<string, Json>, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

/** The base `#` refers to inside `node`: `node` itself when it starts a schema resource. */
function baseOf(node: Json, base: Json): Json {
  // "" and "#" name the enclosing resource; a fragment id is refused by ajv (SP2008).
  return isObject(node) && typeof node.$id === "string" && node.$id !== "" && node.$id !== "#" ? node : base;
}

/** Resolve a local JSON pointer (`#/$defs/x`) in `base`; undefined when not local or not found. */
function pointer(base: Json, ref: string): SchemaAt | undefined {
  if (ref === "#") return { node: base, base };
  if (!ref.startsWith("#/")) return undefined;
  let cur: Json = base;
  let curBase = base;
  for (const raw of ref.slice(2).split("/")) {
    let key: string;
    try {
      key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    } catch {
      return undefined;
    }
    curBase = baseOf(cur, curBase);
    if (Array.isArray(cur)) cur = cur[Number(key)];
    else if (isObject(cur) && has(cur, key)) cur = cur[key];
    else return undefined;
  }
  return { node: cur, base: curBase };
}

const COMBINATORS = ["anyOf", "oneOf", "allOf"] as const;
/** Keywords that say nothing about a value, so a combinator beside them is all the schema says. */
const ANNOTATIONS = new Set(["$id", "$schema", "$comment", "$defs", "definitions", "title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly"]);

/** A schema that is only `anyOf`, `oneOf` or `allOf` (with annotations): its branches. */
interface Branches {
  all: boolean;
  branches: SchemaAt[];
}

function combinator(cur: Record<string, Json>, base: Json): Branches | undefined {
  let found: Branches | undefined;
  for (const k of Object.keys(cur)) {
    if (ANNOTATIONS.has(k)) continue;
    const list = cur[k];
    if (found || !(COMBINATORS as readonly string[]).includes(k) || !Array.isArray(list) || list.length === 0) return undefined;
    found = { all: k === "allOf", branches: list.map((node) => ({ node, base })) };
  }
  return found;
}

/**
 * Follow `$ref`s (bounded, so a ref cycle cannot loop). An object schema we
 * can read, `false` for a schema that allows nothing, the branches of a
 * plain anyOf/oneOf/allOf, undefined = permissive.
 */
function deref(at: SchemaAt): { s: Record<string, Json>; base: Json } | Branches | false | undefined {
  let cur = at.node;
  let base = at.base;
  for (let i = 0; i < 32; i++) {
    if (cur === false) return false;
    if (!isObject(cur)) return undefined;
    base = baseOf(cur, base);
    const c = combinator(cur, base);
    if (c) return c;
    for (const k of PERMISSIVE_KEYWORDS) if (has(cur, k)) return undefined;
    if (typeof cur.$ref !== "string") return { s: cur, base };
    // 2020-12 allows siblings of $ref; if it constrains properties itself, stay permissive
    if (has(cur, "properties") || has(cur, "additionalProperties") || has(cur, "unevaluatedProperties")) return undefined;
    const target = pointer(base, cur.$ref);
    if (!target) return undefined;
    cur = target.node;
    base = target.base;
  }
  return undefined;
}

/** The JSON types `s.type` names (empty when it names none). */
function typeNames(s: Record<string, Json>): string[] {
  return typeof s.type === "string" ? [s.type] : Array.isArray(s.type) ? s.type.filter((x): x is string => typeof x === "string") : [];
}

function typeText(raw: readonly string[]): string {
  return raw.length === 1 ? raw[0]! : `${raw.slice(0, -1).join(", ")} or ${raw[raw.length - 1]}`;
}

export function walkSchema(root: Json, segments: readonly PathSegment[]): WalkResult {
  return walkFrom({ node: root, base: root }, segments, 0, { left: 256 });
}

/**
 * Combine the walks of a combinator's branches: anyOf/oneOf deny a path no
 * branch allows (reported where the furthest branch stopped), allOf one that
 * any branch denies. Where branches allow it, the value's schema is not one
 * node: no claim.
 */
function walkBranches(b: Branches, segments: readonly PathSegment[], i: number, budget: { left: number }): WalkResult {
  const results = b.branches.map((at) => walkFrom(at, segments, i, budget));
  const denied = results.filter((r): r is Extract<WalkResult, { kind: "denied" }> => r.kind === "denied");
  if (b.all) return denied.length > 0 ? denied.reduce((x, y) => (y.at < x.at ? y : x)) : { kind: "stop" };
  if (denied.length < results.length) return { kind: "stop" };
  const far = Math.max(...denied.map((r) => r.at));
  const at = denied.filter((r) => r.at === far);
  const allowed = [...new Set(at.flatMap((r) => r.allowed))];
  return at.every((r) => r.reason === "type") ? { ...at[0]!, type: [...new Set(at.map((r) => r.type))].join(" or ") } : { kind: "denied", at: far, allowed, reason: "additional" };
}

function walkFrom(start: SchemaAt, segments: readonly PathSegment[], from: number, budget: { left: number }): WalkResult {
  // a schema of many nested combinators could branch without end: past the budget, no claim
  if (--budget.left < 0) return { kind: "stop" };
  let at = start;
  for (let i = from; i < segments.length; i++) {
    const seg = segments[i]!;
    if (seg.kind === "dynamic") return { kind: "stop" };
    const d = deref(at);
    // a `$ref` to `false`: the value before this segment is never there
    if (d === false) return { kind: "denied", at: Math.max(0, i - 1), allowed: [], reason: "additional" };
    if (!d) return { kind: "stop" };
    if ("branches" in d) return walkBranches(d, segments, i, budget);
    const { s, base } = d;
    const types = typeNames(s).length > 0 ? typeNames(s) : listedTypeNames(s);
    if (seg.kind === "prop") {
      if (types.length > 0 && !types.includes("object")) return { kind: "denied", at: i, allowed: [], reason: "type", type: typeText(types) };
      const props = isObject(s.properties) ? s.properties : undefined;
      // Whatever `properties` does not name falls to additionalProperties, else (no applicator here) to unevaluatedProperties.
      const rest = has(s, "additionalProperties") ? s.additionalProperties : s.unevaluatedProperties;
      let next: Json;
      if (props && has(props, seg.name)) next = props[seg.name];
      else if (rest === false) return { kind: "denied", at: i, allowed: props ? Object.keys(props).filter((k) => props[k] !== false) : [], reason: "additional" };
      else if (isObject(rest)) next = rest;
      else return { kind: "stop" };
      if (next === false) return { kind: "denied", at: i, allowed: [], reason: "additional" };
      at = { node: next, base };
      continue;
    }
    if (types.length > 0 && !types.includes("array")) return { kind: "denied", at: i, allowed: [], reason: "type", type: typeText(types) };
    const item = itemSchema(s, seg.index);
    if (item === undefined) return { kind: "stop" };
    if (item === false) return { kind: "denied", at: i, allowed: [], reason: "additional" };
    at = { node: item, base };
  }
  if (segments.length > from && deref(at) === false) return { kind: "denied", at: segments.length - 1, allowed: [], reason: "additional" };
  return { kind: "ok", at };
}

const JSON_TYPE_NAMES: Record<ValueType | "null", string> = { string: "string", number: "number", bool: "boolean", list: "array", object: "object", null: "null", duration: "", ip: "", time: "", unknown: "" };

/** The JSON types of the values an `enum` or `const` lists (empty when it lists none). */
function listedTypeNames(s: Record<string, Json>): string[] {
  const listed = listedValues(s);
  return listed ? [...new Set(listed.map((v) => JSON_TYPE_NAMES[jsonType(v)]))] : [];
}

/** The values `const` or a non-empty `enum` allows. */
function listedValues(s: Record<string, Json>): Json[] | undefined {
  if (has(s, "const")) return [s.const];
  return Array.isArray(s.enum) && s.enum.length > 0 ? s.enum : undefined;
}

/** The schema of element `n` (or of any element, n undefined) of an array schema; `false` where none is allowed. */
export function itemSchema(s: Record<string, Json>, n?: number): Json | undefined {
  const prefix = Array.isArray(s.prefixItems) ? s.prefixItems : undefined;
  if (prefix && n !== undefined && n < prefix.length) return prefix[n];
  if (prefix && n === undefined) return undefined; // tuple: no single item type
  if (isObject(s.items) || s.items === false) return s.items;
  return undefined;
}

/** The element schema of a value's schema, if the value is an array with one item schema. */
export function elementSchema(at: SchemaAt): SchemaAt | undefined {
  const d = deref(at);
  if (!d || "branches" in d) return undefined;
  const item = itemSchema(d.s);
  return item === undefined ? undefined : { node: item, base: d.base };
}

/** What a schema node says about a value: its types, and its values when it lists them (`enum`, `const`). */
export interface SchemaValues {
  types: Set<ValueType | "null">;
  /** The type (or the values) as the schema writes them, for messages. */
  text: string;
  /** The only values allowed, when the schema lists them and they are all strings, numbers or booleans. */
  values?: readonly (string | number | boolean)[];
}

function jsonType(v: Json): ValueType | "null" {
  if (v === null) return "null";
  if (typeof v === "string") return "string";
  if (typeof v === "number") return "number";
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) return "list";
  return "object";
}

const SHOWN_VALUES = 6;

/**
 * The value types a schema node admits, as language types, with the type
 * text as written; undefined when the schema does not say (or says too much
 * for us to be sure). `enum` and `const` say which values, and so which types.
 */
export function schemaTypes(at: SchemaAt): SchemaValues | undefined {
  const d = deref(at);
  if (!d || "branches" in d) return undefined;
  const s = d.s;
  const listed = listedValues(s);
  if (listed !== undefined) {
    const types = new Set(listed.map(jsonType));
    const scalars = listed.every((v) => typeof v === "string" || typeof v === "number" || typeof v === "boolean");
    const shown = listed.slice(0, SHOWN_VALUES).map((v) => JSON.stringify(v));
    if (listed.length > SHOWN_VALUES) shown.push("...");
    const text = listed.length === 1 ? `always ${shown[0]}` : `one of ${shown.join(", ")}`;
    return scalars ? { types, text, values: listed as (string | number | boolean)[] } : { types, text };
  }
  const raw = typeNames(s);
  if (raw.length === 0) return undefined;
  const types = new Set<ValueType | "null">();
  for (const r of raw) {
    if (r === "string") types.add("string");
    else if (r === "number" || r === "integer") types.add("number");
    else if (r === "boolean") types.add("bool");
    else if (r === "array") types.add("list");
    else if (r === "object") types.add("object");
    else if (r === "null") types.add("null");
    else return undefined;
  }
  return { types, text: typeText(raw) };
}
