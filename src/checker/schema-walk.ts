/**
 * Walking an attribute path through a JSON Schema: `properties`, local
 * `$ref`s (`#/$defs/x`, any local JSON pointer), `items` / `prefixItems` for
 * `[n]`. Anything fancier (anyOf, oneOf, allOf, patternProperties,
 * conditionals, remote refs) is permissive: the walk stops and claims
 * nothing, so the checker never reports a path a schema might allow.
 */
import type { PathSegment } from "./sites.js";
import type { ValueType } from "./values.js";

type Json = unknown;

export type WalkResult =
  /** Every segment was followed; `node` is the schema of the value (if still precise). */
  | { kind: "ok"; node: Json }
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

/** Resolve a local JSON pointer (`#/$defs/x`); undefined when not local or not found. */
function pointer(root: Json, ref: string): Json | undefined {
  if (ref === "#") return root;
  if (!ref.startsWith("#/")) return undefined;
  let cur: Json = root;
  for (const raw of ref.slice(2).split("/")) {
    let key: string;
    try {
      key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    } catch {
      return undefined;
    }
    if (Array.isArray(cur)) cur = cur[Number(key)];
    else if (isObject(cur) && has(cur, key)) cur = cur[key];
    else return undefined;
  }
  return cur;
}

/** Follow `$ref`s (bounded, so a ref cycle cannot loop); undefined = permissive. */
function deref(root: Json, node: Json): Record<string, Json> | undefined {
  let cur = node;
  for (let i = 0; i < 32; i++) {
    if (!isObject(cur)) return undefined;
    for (const k of PERMISSIVE_KEYWORDS) if (has(cur, k)) return undefined;
    if (typeof cur.$ref !== "string") return cur;
    // 2020-12 allows siblings of $ref; if it constrains properties itself, stay permissive
    if (has(cur, "properties") || has(cur, "additionalProperties")) return undefined;
    cur = pointer(root, cur.$ref);
  }
  return undefined;
}

function singleType(s: Record<string, Json>): string | undefined {
  return typeof s.type === "string" ? s.type : undefined;
}

export function walkSchema(root: Json, segments: readonly PathSegment[]): WalkResult {
  let node: Json = root;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    if (seg.kind === "dynamic") return { kind: "stop" };
    const s = deref(root, node);
    if (!s) return { kind: "stop" };
    const t = singleType(s);
    if (seg.kind === "prop") {
      const props = isObject(s.properties) ? s.properties : undefined;
      if (t !== undefined && t !== "object") return { kind: "denied", at: i, allowed: [], reason: "type", type: t };
      if (props && has(props, seg.name)) {
        node = props[seg.name];
        continue;
      }
      if (s.additionalProperties === false) return { kind: "denied", at: i, allowed: props ? Object.keys(props) : [], reason: "additional" };
      if (isObject(s.additionalProperties)) {
        node = s.additionalProperties;
        continue;
      }
      return { kind: "stop" };
    }
    if (t !== undefined && t !== "array") return { kind: "denied", at: i, allowed: [], reason: "type", type: t };
    const item = itemSchema(s, seg.index);
    if (item === undefined) return { kind: "stop" };
    node = item;
  }
  return { kind: "ok", node };
}

/** The schema of element `n` (or of any element, n undefined) of an array schema. */
export function itemSchema(s: Record<string, Json>, n?: number): Json | undefined {
  const prefix = Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : undefined;
  if (prefix && n !== undefined && n < prefix.length) return prefix[n];
  if (prefix && n === undefined) return undefined; // tuple: no single item type
  if (isObject(s.items)) return s.items;
  return undefined;
}

/** The element schema of a value's schema, if the value is an array with one item schema. */
export function elementSchema(root: Json, node: Json): Json | undefined {
  const s = deref(root, node);
  return s ? itemSchema(s) : undefined;
}

/**
 * The value types a schema node admits, as language types, with the type
 * text as written; undefined when the schema does not say (or says too much
 * for us to be sure).
 */
export function schemaTypes(root: Json, node: Json): { types: Set<ValueType | "null">; text: string } | undefined {
  const s = deref(root, node);
  if (!s) return undefined;
  const raw = typeof s.type === "string" ? [s.type] : Array.isArray(s.type) ? s.type.filter((x): x is string => typeof x === "string") : [];
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
  const text = raw.length === 1 ? raw[0]! : `${raw.slice(0, -1).join(", ")} or ${raw[raw.length - 1]}`;
  return { types, text };
}
