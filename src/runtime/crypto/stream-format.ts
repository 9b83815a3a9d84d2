/**
 * The streaming format, version 2 (docs/envelope.md "Streams"): a header in
 * three sections, then the payload in chunks. Encoding and strict, bounded,
 * incremental parsing only; stream.ts does the cryptography.
 *
 *   fixed:   magic "SPEV", version 2, cipher id, flags
 *   wrap:    KEK id, KEK version, wrap nonce, wrapped data key   (rewrap replaces this section)
 *   stream:  chunk size, nonce prefix, AAD fields with their values
 *
 * The wrapped key's AAD is fixed + KEK id + version; every chunk's AAD is
 * fixed + stream. The wrap section is outside the chunks' AAD so rewrap can
 * replace it without touching the payload; it needs no payload binding,
 * because the data key it yields is the only key the chunks open under.
 */
import { KEY_BYTES, NONCE_BYTES, TAG_BYTES, type AeadAlgorithm } from "./aead.js";
import { decodeAadValue, encodeAadValue, type AadValue } from "./aad-values.js";
import { ENVELOPE_MAGIC, EnvelopeError, cipherId, hasLoneSurrogate } from "./envelope-format.js";
import type { ByteReader } from "./byte-reader.js";

export const STREAM_VERSION = 2;
export const NONCE_PREFIX_BYTES = 7;
export const DEFAULT_CHUNK_SIZE = 64 * 1024;
/** Bounds decrypt memory: a forged header cannot make a reader allocate more than this per chunk. */
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
/** The chunk index is a 32-bit counter in the nonce. */
export const MAX_CHUNKS = 2 ** 32;
/** Bound attribute values are identifiers (tenant, record), not documents. */
export const MAX_AAD_VALUE_BYTES = 4096;
const FLAG_TEE = 0x01;
const WRAPPED_KEY_BYTES = KEY_BYTES + TAG_BYTES;

export interface StreamHeader {
  readonly cipher: AeadAlgorithm;
  /** Decrypting requires an attested TEE (the policy said `require tee`). */
  readonly teeRequired: boolean;
  readonly kekId: string;
  readonly kekVersion: number;
  readonly wrapNonce: Uint8Array;
  readonly wrappedKey: Uint8Array;
  readonly chunkSize: number;
  readonly noncePrefix: Uint8Array;
  /** Bound attributes, sorted by name. */
  readonly aad: ReadonlyArray<readonly [string, AadValue]>;
}

export interface EncodedHeader {
  /** The whole header as written. */
  readonly bytes: Uint8Array;
  readonly wrapContext: Uint8Array;
  readonly chunkAad: Uint8Array;
}

const utf8 = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF, so decoding and encoding again is the identity.
const fromUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const CIPHERS: Record<number, AeadAlgorithm> = { 1: "aes-256-gcm", 2: "aes-256-gcm-siv" };

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function name(value: string, what: string): Uint8Array {
  // A lone surrogate would be written as U+FFFD: two names, one encoding.
  if (hasLoneSurrogate(value)) throw new EnvelopeError("bad-request", `${what} has a lone surrogate, which UTF-8 cannot carry`);
  const bytes = utf8.encode(value);
  if (bytes.length < 1 || bytes.length > 255) throw new EnvelopeError("bad-request", `${what} must be 1 to 255 bytes of UTF-8`);
  return concat([Uint8Array.of(bytes.length), bytes]);
}

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

export function checkChunkSize(chunkSize: number): number {
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
    throw new EnvelopeError("too-large", `chunk size must be an integer from 1 to ${MAX_CHUNK_SIZE}`);
  }
  return chunkSize;
}

function fixedSection(h: Pick<StreamHeader, "cipher" | "teeRequired">): Uint8Array {
  return concat([ENVELOPE_MAGIC, Uint8Array.of(STREAM_VERSION, cipherId(h.cipher), h.teeRequired ? FLAG_TEE : 0)]);
}

/** fixed + KEK id + version: the AAD of the key wrap. */
export function encodeWrapContext(h: Pick<StreamHeader, "cipher" | "teeRequired" | "kekId" | "kekVersion">): Uint8Array {
  if (!Number.isInteger(h.kekVersion) || h.kekVersion < 1 || h.kekVersion > 0xffffffff) {
    throw new EnvelopeError("bad-request", "KEK version must be an integer from 1 to 2^32-1");
  }
  return concat([fixedSection(h), name(h.kekId, "KEK id"), u32(h.kekVersion)]);
}

export function encodeStreamHeader(h: StreamHeader): EncodedHeader {
  checkChunkSize(h.chunkSize);
  if (h.aad.length > 255) throw new EnvelopeError("bad-request", "at most 255 AAD fields");
  const fields: Uint8Array[] = [];
  for (const [field, value] of h.aad) {
    const v = encodeAadValue(value);
    if (v.length - 5 > MAX_AAD_VALUE_BYTES) throw new EnvelopeError("bad-aad-value", `AAD field "${field}" is longer than ${MAX_AAD_VALUE_BYTES} bytes`);
    fields.push(name(field, "AAD field name"), v);
  }
  const fixed = fixedSection(h);
  const wrapContext = encodeWrapContext(h);
  const stream = concat([u32(h.chunkSize), h.noncePrefix, Uint8Array.of(h.aad.length), ...fields]);
  return { bytes: concat([wrapContext, h.wrapNonce, h.wrappedKey, stream]), wrapContext, chunkAad: concat([fixed, stream]) };
}

/**
 * Reads a version-2 header from `reader` after the 5 bytes magic + version
 * (already read by the caller, which dispatches on the version).
 */
export async function readStreamHeader(reader: ByteReader): Promise<{ header: StreamHeader; encoded: EncodedHeader }> {
  const take = async (n: number): Promise<Uint8Array> => {
    const bytes = await reader.read(n);
    if (bytes.length < n) throw new EnvelopeError("truncated", "the data ends inside its header");
    return Uint8Array.from(bytes); // header fields outlive the reader's buffers
  };
  const readName = async (what: string): Promise<string> => {
    const len = (await take(1))[0]!;
    if (len === 0) throw new EnvelopeError("malformed", `empty ${what}`);
    try {
      return fromUtf8.decode(await take(len));
    } catch (e) {
      if (e instanceof EnvelopeError) throw e;
      throw new EnvelopeError("malformed", `${what} is not UTF-8`);
    }
  };
  const [cipherByte, flags] = await take(2);
  const cipher = CIPHERS[cipherByte!];
  if (cipher === undefined) throw new EnvelopeError("unknown-cipher", "unknown cipher id");
  if ((flags! & ~FLAG_TEE) !== 0) throw new EnvelopeError("malformed", "unknown header flags");
  const teeRequired = (flags! & FLAG_TEE) !== 0;
  const kekId = await readName("KEK id");
  const kekVersion = new DataView((await take(4)).buffer).getUint32(0);
  if (kekVersion === 0) throw new EnvelopeError("malformed", "KEK version 0");
  const wrapNonce = await take(NONCE_BYTES);
  const wrappedKey = await take(WRAPPED_KEY_BYTES);
  const chunkSize = new DataView((await take(4)).buffer).getUint32(0);
  if (chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) throw new EnvelopeError("malformed", `chunk size ${chunkSize} is out of range`);
  const noncePrefix = await take(NONCE_PREFIX_BYTES);
  const count = (await take(1))[0]!;
  const aad: Array<readonly [string, AadValue]> = [];
  for (let i = 0; i < count; i++) {
    const field = await readName("AAD field name");
    const head = await take(5);
    const len = new DataView(head.buffer).getUint32(1);
    if (len > MAX_AAD_VALUE_BYTES) throw new EnvelopeError("malformed", `AAD value of "${field}" is too long`);
    aad.push([field, decodeAadValue(head[0]!, await take(len))]);
    // The writer sorts and dedupes, so any other order is a forgery or a bug.
    if (i > 0 && !(aad[i - 1]![0] < field)) throw new EnvelopeError("malformed", "AAD field names are not sorted and unique");
  }
  const header: StreamHeader = { cipher, teeRequired, kekId, kekVersion, wrapNonce, wrappedKey, chunkSize, noncePrefix, aad };
  // Parsing accepted only canonical encodings, so encoding again gives back the bytes read.
  return { header, encoded: encodeStreamHeader(header) };
}

/** STREAM nonce: prefix (7 bytes) || chunk index (4 bytes, big-endian) || final flag (1 byte). */
export function chunkNonce(prefix: Uint8Array, index: number, final: boolean, out = new Uint8Array(NONCE_BYTES)): Uint8Array {
  out.set(prefix, 0);
  new DataView(out.buffer, out.byteOffset, NONCE_BYTES).setUint32(NONCE_PREFIX_BYTES, index);
  out[NONCE_BYTES - 1] = final ? 1 : 0;
  return out;
}
