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

function cipherFromId(id: number): AeadAlgorithm | undefined {
  return (Object.keys(CIPHER_IDS) as AeadAlgorithm[]).find((c) => CIPHER_IDS[c] === id);
}

/** A name as 1-byte length + UTF-8; 1 to 255 bytes. */
function shortString(value: string, what: string): Uint8Array {
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

/** Parses a whole envelope; throws EnvelopeError("malformed" | "unsupported-version" | "unknown-cipher"). */
export function parseEnvelope(envelope: Uint8Array): ParsedEnvelope {
  let at = 0;
  const take = (n: number): Uint8Array => {
    if (at + n > envelope.length) throw new EnvelopeError("malformed", "envelope is truncated");
    const part = envelope.subarray(at, at + n);
    at += n;
    return part;
  };
  const name = (what: string): string => {
    const len = take(1)[0]!;
    if (len === 0) throw new EnvelopeError("malformed", `empty ${what}`);
    try {
      return fromUtf8.decode(take(len));
    } catch (e) {
      if (e instanceof EnvelopeError) throw e;
      throw new EnvelopeError("malformed", `${what} is not UTF-8`);
    }
  };
  const magic = take(4);
  if (!magic.every((b, i) => b === ENVELOPE_MAGIC[i])) throw new EnvelopeError("malformed", "not a swarm-policy envelope");
  const version = take(1)[0]!;
  if (version !== ENVELOPE_VERSION) throw new EnvelopeError("unsupported-version", `envelope version ${version} is not supported`);
  const cipher = cipherFromId(take(1)[0]!);
  if (cipher === undefined) throw new EnvelopeError("unknown-cipher", "unknown cipher id");
  const kekId = name("KEK id");
  const versionBytes = take(4);
  const kekVersion = new DataView(versionBytes.buffer, versionBytes.byteOffset, 4).getUint32(0, false);
  if (kekVersion === 0) throw new EnvelopeError("malformed", "KEK version 0");
  const wrapContext = envelope.subarray(0, at);
  const wrapNonce = take(NONCE_BYTES);
  const wrappedKey = take(WRAPPED_KEY_BYTES);
  const count = take(1)[0]!;
  const aadFields: string[] = [];
  for (let i = 0; i < count; i++) aadFields.push(name("AAD field name"));
  // The writer sorts and dedupes, so any other order is a forgery or a bug.
  for (let i = 1; i < aadFields.length; i++) {
    if (!(aadFields[i - 1]! < aadFields[i]!)) throw new EnvelopeError("malformed", "AAD field names are not sorted and unique");
  }
  const nonce = take(NONCE_BYTES);
  const headerBytes = envelope.subarray(0, at);
  const sealed = envelope.subarray(at);
  if (sealed.length < TAG_BYTES) throw new EnvelopeError("malformed", "envelope is truncated");
  return { header: { cipher, kekId, kekVersion, wrapNonce, wrappedKey, aadFields, nonce }, wrapContext, headerBytes, sealed };
}
