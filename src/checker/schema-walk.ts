/**
 * Walking an attribute path through a JSON Schema: `properties`,
 * `additionalProperties`, `unevaluatedProperties`, local `$ref`s (`#/$defs/x`,
 * any local JSON pointer, resolved against the nearest `$id` as ajv resolves
 * them), `items` / `prefixItems` for `[n]`, and `false` schemas (nothing is
 * allowed there). Anything fancier (anyOf, oneOf, allOf, patternProperties,
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

/**
 * Follow `$ref`s (bounded, so a ref cycle cannot loop). An object schema we
 * can read, `false` for a schema that allows nothing, undefined = permissive.
 */
function deref(at: SchemaAt): { s: Record<string, Json>; base: Json } | false | undefined {
  let cur = at.node;
  let base = at.base;
  for (let i = 0; i < 32; i++) {
    if (cur === false) return false;
    if (!isObject(cur)) return undefined;
    base = baseOf(cur, base);
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
  let at: SchemaAt = { node: root, base: root };
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    if (seg.kind === "dynamic") return { kind: "stop" };
    const d = deref(at);
    // a `$ref` to `false`: the value before this segment is never there
    if (d === false) return { kind: "denied", at: Math.max(0, i - 1), allowed: [], reason: "additional" };
    if (!d) return { kind: "stop" };
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
  if (segments.length > 0 && deref(at) === false) return { kind: "denied", at: segments.length - 1, allowed: [], reason: "additional" };
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
  if (!d) return undefined;
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
  if (!d) return undefined;
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
