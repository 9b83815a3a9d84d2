/**
 * Attribute values bound as additional authenticated data: per value a type
 * byte (`s` string, `n` number as JSON, `b` boolean), a 4-byte big-endian
 * length and the UTF-8 text, so "1" and 1 never collide. Envelopes (v1) bind
 * the values without storing them; streams (v2) store them in the header.
 *
 * Two different values must never bind the same bytes, so some are refused
 * ("bad-aad-value"): a string with a lone UTF-16 surrogate (UTF-8 has none:
 * it would be written as U+FFFD, the same bytes as "\ufffd"), and, when
 * sealing, a number beyond 2^53 (it is not the number written: JSON text
 * 9007199254740993 reads as 9007199254740992, so two ids would bind as one).
 * Opening still takes such numbers, so data sealed before stays readable.
 */
import { EnvelopeError, hasLoneSurrogate } from "./envelope-format.js";

export type AadValue = string | number | boolean;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const TAGS = { s: 0x73, n: 0x6e, b: 0x62 } as const;
/** What no fields encode to; empty, so sharing it is safe. */
const NO_BYTES = new Uint8Array(0);

/**
 * The attribute `field` as a bindable value; throws "missing-aad" or "bad-aad-value".
 * `sealing` also refuses numbers beyond 2^53 (see the top of this file).
 */
export function aadValue(field: string, attributes: Readonly<Record<string, unknown>>, sealing = false): AadValue {
  if (!Object.hasOwn(attributes, field) || attributes[field] === undefined) {
    throw new EnvelopeError("missing-aad", `required AAD field "${field}" is missing from the attributes`);
  }
  const value = attributes[field];
  if (typeof value === "string") {
    if (hasLoneSurrogate(value)) throw new EnvelopeError("bad-aad-value", `AAD field "${field}" has a lone surrogate, which UTF-8 cannot bind apart from U+FFFD`);
    return value;
  }
  if (typeof value === "number" && Number.isFinite(value)) {
    if (sealing && Math.abs(value) > Number.MAX_SAFE_INTEGER) {
      throw new EnvelopeError("bad-aad-value", `AAD field "${field}" is a number beyond 2^53 (not a safe integer, so not surely the number written): bind it as a string`);
    }
    return value;
  }
  if (typeof value === "boolean") return value;
  throw new EnvelopeError("bad-aad-value", `AAD field "${field}" must be a string, a finite number or a boolean`);
}

export function encodeAadValue(value: AadValue): Uint8Array {
  const [tag, text] =
    typeof value === "string" ? [TAGS.s, value] : typeof value === "number" ? [TAGS.n, JSON.stringify(value)] : [TAGS.b, String(value)];
  const bytes = utf8.encode(text);
  const out = new Uint8Array(5 + bytes.length);
  out[0] = tag;
  new DataView(out.buffer).setUint32(1, bytes.length);
  out.set(bytes, 5);
  return out;
}

/** The values of `fields` in order, encoded back to back (the v1 envelope's AAD tail). */
export function encodeAadValues(fields: readonly string[], attributes: Readonly<Record<string, unknown>>, sealing = false): Uint8Array {
  if (fields.length === 0) return NO_BYTES;
  const parts = fields.map((f) => encodeAadValue(aadValue(f, attributes, sealing)));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Decodes one value from its type byte and text; anything not in canonical form is "malformed". */
export function decodeAadValue(tag: number, bytes: Uint8Array): AadValue {
  let text: string;
  try {
    text = fromUtf8.decode(bytes);
  } catch {
    throw new EnvelopeError("malformed", "an AAD value is not UTF-8");
  }
  if (tag === TAGS.s) return text;
  if (tag === TAGS.b && (text === "true" || text === "false")) return text === "true";
  if (tag === TAGS.n) {
    const n = Number(text);
    if (Number.isFinite(n) && JSON.stringify(n) === text) return n;
  }
  throw new EnvelopeError("malformed", "an AAD value is not in canonical form");
}

/**
 * Refuses ("aad-mismatch") when `expected` names an attribute the data does not bind: a caller
 * who expects `record_id` to be checked must not be satisfied by data that binds none, which
 * would open with any record id at all.
 */
export function checkOnlyBound(bound: readonly string[], expected: Readonly<Record<string, unknown>>): void {
  const unbound = Object.keys(expected).filter((f) => !bound.includes(f));
  if (unbound.length === 0) return;
  const binds = bound.length === 0 ? "it binds no attributes" : `it binds only ${bound.join(", ")}`;
  throw new EnvelopeError("aad-mismatch", `the data does not bind ${unbound.map((f) => `"${f}"`).join(", ")}, so it cannot be checked (${binds})`);
}

/** Same type and same value (what binding compares). */
export function sameAadValue(a: AadValue, b: AadValue): boolean {
  return typeof a === typeof b && a === b;
}
