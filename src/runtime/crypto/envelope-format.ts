/**
 * The envelope binary format, version 1 (docs/envelope.md): encoding and
 * strict parsing of the header. No cryptography here; envelope.ts seals and
 * opens. Every length is bounded and checked, so a truncated or garbled
 * header is "malformed", never an out-of-range read.
 */
import { NONCE_BYTES, TAG_BYTES, KEY_BYTES, type AeadAlgorithm } from "./aead.js";

export const ENVELOPE_MAGIC = Uint8Array.of(0x53, 0x50, 0x45, 0x56); // "SPEV"
export const ENVELOPE_VERSION = 1;
export const WRAPPED_KEY_BYTES = KEY_BYTES + TAG_BYTES;

const CIPHER_IDS: Record<AeadAlgorithm, number> = { "aes-256-gcm": 1, "aes-256-gcm-siv": 2 };

export type EnvelopeErrorCode =
  /** The data does not start with the magic bytes: not an envelope or stream at all (e.g. a plaintext file). */
  | "not-an-envelope"
  /** The magic is there but the header does not parse: damaged or tampered with. */
  | "malformed"
  | "unsupported-version"
  | "unknown-cipher"
  | "unknown-kek"
  | "missing-aad"
  | "bad-aad-value"
  | "not-authentic"
  | "key-limit"
  | "bad-request"
  /** Streams (format v2): data ends before its final chunk. */
  | "truncated"
  /** Streams: a bound attribute differs from the value the caller expects. */
  | "aad-mismatch"
  /** Streams: the data requires a TEE and this environment is not attested. */
  | "not-attested"
  /** Streams: more chunks than the nonce counter allows, or a chunk size out of range. */
  | "too-large"
  /** Rewrap: a version-1 envelope binds its wrapped key into the payload's AAD. */
  | "cannot-rewrap";

/** Envelope failures. Messages name fields and KEK ids, never key bytes or plaintext. */
export class EnvelopeError extends Error {
  readonly code: EnvelopeErrorCode;
  constructor(code: EnvelopeErrorCode, message: string) {
    super(message);
    this.name = "EnvelopeError";
    this.code = code;
  }
}

export interface EnvelopeHeader {
  readonly cipher: AeadAlgorithm;
  readonly kekId: string;
  readonly kekVersion: number;
  readonly wrapNonce: Uint8Array;
  readonly wrappedKey: Uint8Array;
  readonly aadFields: readonly string[];
  readonly nonce: Uint8Array;
}

export interface ParsedEnvelope {
  readonly header: EnvelopeHeader;
  /** Bytes bound as AAD of the key wrap: magic through KEK version. */
  readonly wrapContext: Uint8Array;
  /** Every header byte, magic through payload nonce: bound as AAD of the payload. */
  readonly headerBytes: Uint8Array;
  /** Ciphertext || tag. */
  readonly sealed: Uint8Array;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });

export function cipherId(cipher: AeadAlgorithm): number {
  return CIPHER_IDS[cipher];
}

const CIPHERS_BY_ID: ReadonlyMap<number, AeadAlgorithm> = new Map((Object.keys(CIPHER_IDS) as AeadAlgorithm[]).map((c) => [CIPHER_IDS[c], c]));

function cipherFromId(id: number): AeadAlgorithm | undefined {
  return CIPHERS_BY_ID.get(id);
}

// With the u flag a surrogate pair is one code point, so \p{Cs} matches only lone halves.
const LONE_SURROGATE = /\p{Cs}/u;

/** True when `text` has a lone UTF-16 surrogate, which UTF-8 cannot carry (it becomes U+FFFD). */
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/** A name as 1-byte length + UTF-8; 1 to 255 bytes. */
function shortString(value: string, what: string): Uint8Array {
  // A lone surrogate would be written as U+FFFD: two names, one encoding.
  if (hasLoneSurrogate(value)) throw new EnvelopeError("bad-request", `${what} has a lone surrogate, which UTF-8 cannot carry`);
  const bytes = utf8.encode(value);
  if (bytes.length < 1 || bytes.length > 255) throw new EnvelopeError("bad-request", `${what} must be 1 to 255 bytes of UTF-8`);
  const out = new Uint8Array(1 + bytes.length);
  out[0] = bytes.length;
  out.set(bytes, 1);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The key-wrap context: magic, version, cipher id, KEK id, KEK version. */
export function encodeWrapContext(cipher: AeadAlgorithm, kekId: string, kekVersion: number): Uint8Array {
  if (!Number.isInteger(kekVersion) || kekVersion < 1 || kekVersion > 0xffffffff) {
    throw new EnvelopeError("bad-request", "KEK version must be an integer from 1 to 2^32-1");
  }
  const version = new Uint8Array(4);
  new DataView(version.buffer).setUint32(0, kekVersion);
  return concat([ENVELOPE_MAGIC, Uint8Array.of(ENVELOPE_VERSION, cipherId(cipher)), shortString(kekId, "KEK id"), version]);
}

/**
 * Wrap contexts of recently used KEKs: a process seals under a handful of
 * KEKs, and encoding the context (UTF-8, validation, concatenation) costs
 * as much as a tenth of sealing 1 KiB. Entries are only ever copied from,
 * never handed out; the map is emptied when it reaches its bound.
 */
const wrapContexts = new Map<string, Uint8Array>();
const MAX_CACHED_WRAP_CONTEXTS = 64;
/** The last one looked up, compared without building a key (the usual case: one primary KEK). */
let lastWrap: { cipher: AeadAlgorithm; kekId: string; kekVersion: number; context: Uint8Array } | undefined;

function cachedWrapContext(cipher: AeadAlgorithm, kekId: string, kekVersion: number): Uint8Array {
  if (lastWrap !== undefined && lastWrap.kekId === kekId && lastWrap.kekVersion === kekVersion && lastWrap.cipher === cipher) return lastWrap.context;
  const key = `${cipher}\u0000${kekVersion}\u0000${kekId}`;
  let context = wrapContexts.get(key);
  if (context === undefined) {
    context = encodeWrapContext(cipher, kekId, kekVersion);
    if (wrapContexts.size >= MAX_CACHED_WRAP_CONTEXTS) wrapContexts.clear();
    wrapContexts.set(key, context);
  }
  lastWrap = { cipher, kekId, kekVersion, context };
  return context;
}

/**
 * A header being sealed: every byte in place except the two nonces and the
 * wrapped key, which the sealer writes into the views (one allocation, no
 * concatenation).
 */
export interface HeaderDraft {
  /** The whole header, magic through payload nonce. */
  readonly bytes: Uint8Array;
  /** Views into `bytes`. */
  readonly wrapContext: Uint8Array;
  readonly wrapNonce: Uint8Array;
  readonly wrappedKey: Uint8Array;
  readonly nonce: Uint8Array;
}

/** Lays out a version-1 header for the KEK and the (sorted, unique) AAD field names. */
export function draftHeader(cipher: AeadAlgorithm, kekId: string, kekVersion: number, aadFields: readonly string[]): HeaderDraft {
  if (aadFields.length > 255) throw new EnvelopeError("bad-request", "at most 255 AAD fields");
  const context = cachedWrapContext(cipher, kekId, kekVersion);
  const names = aadFields.map((f) => shortString(f, "AAD field name"));
  let size = context.length + NONCE_BYTES + WRAPPED_KEY_BYTES + 1 + NONCE_BYTES;
  for (const n of names) size += n.length;
  const bytes = new Uint8Array(size);
  bytes.set(context, 0);
  // Offsets by hand, no closure: this runs once per sealed object.
  const keyAt = context.length + NONCE_BYTES;
  let at = keyAt + WRAPPED_KEY_BYTES;
  bytes[at++] = names.length;
  for (const n of names) {
    bytes.set(n, at);
    at += n.length;
  }
  const wrapNonce = bytes.subarray(context.length, keyAt);
  const wrappedKey = bytes.subarray(keyAt, keyAt + WRAPPED_KEY_BYTES);
  const nonce = bytes.subarray(at, at + NONCE_BYTES);
  return { bytes, wrapContext: bytes.subarray(0, context.length), wrapNonce, wrappedKey, nonce };
}

/** True when `bytes` starts with the whole magic. */
export function hasMagic(bytes: Uint8Array): boolean {
  return bytes.length >= ENVELOPE_MAGIC.length && ENVELOPE_MAGIC.every((b, i) => bytes[i] === b);
}

export function notAnEnvelope(): EnvelopeError {
  return new EnvelopeError("not-an-envelope", "not a swarm-policy envelope");
}

function truncated(): EnvelopeError {
  return new EnvelopeError("malformed", "envelope is truncated");
}

/** A 1-byte-length name at `at`; returns the name and the offset after it. */
function readName(envelope: Uint8Array, at: number, what: string): [string, number] {
  if (at >= envelope.length) throw truncated();
  const len = envelope[at]!;
  if (len === 0) throw new EnvelopeError("malformed", `empty ${what}`);
  const end = at + 1 + len;
  if (end > envelope.length) throw truncated();
  try {
    return [fromUtf8.decode(envelope.subarray(at + 1, end)), end];
  } catch {
    throw new EnvelopeError("malformed", `${what} is not UTF-8`);
  }
}

/** Parses a whole envelope; throws EnvelopeError("not-an-envelope" | "malformed" | "unsupported-version" | "unknown-cipher"). */
export function parseEnvelope(envelope: Uint8Array): ParsedEnvelope {
  // Offsets by hand rather than a reader closure: this runs once per opened object.
  if (!hasMagic(envelope)) throw notAnEnvelope();

  if (envelope.length < ENVELOPE_MAGIC.length + 2) throw truncated();
  let at = ENVELOPE_MAGIC.length;
  const version = envelope[at++]!;
  if (version !== ENVELOPE_VERSION) throw new EnvelopeError("unsupported-version", `envelope version ${version} is not supported`);
  const cipher = cipherFromId(envelope[at++]!);
  if (cipher === undefined) throw new EnvelopeError("unknown-cipher", "unknown cipher id");
  const [kekId, afterId] = readName(envelope, at, "KEK id");
  at = afterId;
  if (at + 4 > envelope.length) throw truncated();
  const kekVersion = ((envelope[at]! << 24) | (envelope[at + 1]! << 16) | (envelope[at + 2]! << 8) | envelope[at + 3]!) >>> 0;
  at += 4;
  if (kekVersion === 0) throw new EnvelopeError("malformed", "KEK version 0");
  const wrapContext = envelope.subarray(0, at);
  if (at + NONCE_BYTES + WRAPPED_KEY_BYTES + 1 > envelope.length) throw truncated();
  const wrapNonce = envelope.subarray(at, (at += NONCE_BYTES));
  const wrappedKey = envelope.subarray(at, (at += WRAPPED_KEY_BYTES));
  const count = envelope[at++]!;
  const aadFields: string[] = [];
  for (let i = 0; i < count; i++) {
    const [field, next] = readName(envelope, at, "AAD field name");
    aadFields.push(field);
    at = next;
  }
  // The writer sorts and dedupes, so any other order is a forgery or a bug.
  for (let i = 1; i < aadFields.length; i++) {
    if (!(aadFields[i - 1]! < aadFields[i]!)) throw new EnvelopeError("malformed", "AAD field names are not sorted and unique");
  }
  if (at + NONCE_BYTES > envelope.length) throw truncated();
  const nonce = envelope.subarray(at, (at += NONCE_BYTES));
  const headerBytes = envelope.subarray(0, at);
  const sealed = envelope.subarray(at);
  if (sealed.length < TAG_BYTES) throw truncated();
  return { header: { cipher, kekId, kekVersion, wrapNonce, wrappedKey, aadFields, nonce }, wrapContext, headerBytes, sealed };
}
