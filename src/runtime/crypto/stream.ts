/**
 * Streaming encryption, format v2 (docs/envelope.md "Streams"): a fresh data
 * key per stream, wrapped by a KEK as in v1, and the payload sealed in chunks
 * of bounded size in the STREAM construction (Hoang, Reyhanitabar, Rogaway,
 * Vizar 2015): chunk i is sealed under nonce prefix || i || final-flag, so
 *   - a reordered, swapped or repeated chunk fails (its index differs),
 *   - a stream cut at a chunk boundary fails (its last chunk is not final),
 *   - bytes after the final chunk fail (the final chunk then opens as non-final),
 *   - a chunk from another stream fails (another data key).
 * Each chunk is authenticated before it is yielded; a caller writing
 * plaintext out must still treat the result as complete only when the
 * generator finishes (decrypt writes to a temp file and renames at the end).
 */
import { CryptoError, TAG_BYTES, randomNonce, type AeadAlgorithm, type AeadProvider } from "./aead.js";
import { aadValue, checkOnlyBound, sameAadValue, type AadValue } from "./aad-values.js";
import { checkAttestation, describeAttestation, type AttestationProvider } from "./attestation.js";
import { ByteReader } from "./byte-reader.js";
import { ENVELOPE_VERSION, EnvelopeError, hasMagic, notAnEnvelope } from "./envelope-format.js";
import type { Kek } from "./envelope.js";
import { defaultKekUsage, type AsyncKekUsage } from "./kek-usage.js";
import { resolveProvider } from "./providers.js";
import { SecretKey } from "./secret-key.js";
import {
  DEFAULT_CHUNK_SIZE,
  MAX_CHUNKS,
  NONCE_PREFIX_BYTES,
  STREAM_VERSION,
  checkChunkSize,
  chunkNonce,
  encodeStreamHeader,
  readStreamHeader,
  type StreamHeader,
} from "./stream-format.js";

export { DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, type StreamHeader } from "./stream-format.js";

/**
 * Input bytes. The reader keeps views of the chunks a source yields (no copy) while it asks for
 * more, so a source must never refill a chunk it has yielded: one reusing a single buffer
 * (`buf.subarray(0, n)` read after read) makes sealing encrypt the wrong bytes, authentically.
 * Node's file streams and `Readable`s yield fresh buffers.
 */
type Source = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export interface StreamSealOptions {
  readonly cipher: AeadAlgorithm;
  readonly kek: Kek;
  /** Attribute names to bind; their values are stored in the header and authenticated. */
  readonly aadFields?: readonly string[];
  readonly attributes?: Readonly<Record<string, unknown>>;
  /** Record that decrypting requires an attested TEE. */
  readonly teeRequired?: boolean;
  /** Plaintext bytes per chunk (default 64 KiB, at most 16 MiB). */
  readonly chunkSize?: number;
  /** Counts the wrap (default: the in-process counter; pass `keyring.usage` for the keyring's persistent one). */
  readonly usage?: AsyncKekUsage;
  /** The AEAD provider (default `providerFor(cipher)`); one lacking the cipher is refused (`bad-request`). */
  readonly provider?: AeadProvider;
}

export interface StreamOpenOptions {
  /** Finds a KEK by id and version; may throw (a retired version), undefined when unknown. */
  readonly resolveKek: (id: string, version: number) => SecretKey | undefined;
  /**
   * Expected attribute values: every bound field must be present here with
   * the same value, else "missing-aad" / "aad-mismatch". Omit to accept the
   * values the header carries (they are authenticated either way).
   */
  readonly attributes?: Readonly<Record<string, unknown>>;
  /**
   * Refuse (`aad-mismatch`) when `attributes` names a field the stream does not bind, rather
   * than ignore it: for a caller stating values it expects checked (`decrypt --attrs`).
   */
  readonly onlyBound?: boolean;
  /** Consulted when the stream requires a TEE (default: not attested, so refused). */
  readonly attestation?: AttestationProvider;
  /** Called with the authenticated-to-be header before any plaintext is produced. */
  readonly onHeader?: (header: StreamHeader) => void;
  /** As for sealing; the provider that sealed does not matter. */
  readonly provider?: AeadProvider;
}

function wrapFailure(e: unknown): never {
  if (e instanceof CryptoError) throw new EnvelopeError("not-authentic", "the wrapped data key is not authentic (wrong KEK or tampered header)");
  throw e;
}

/** Seals `source` into a v2 stream: the header, then one sealed chunk at a time. */
export async function* sealStream(source: Source, options: StreamSealOptions): AsyncGenerator<Uint8Array> {
  const { cipher, kek } = options;
  const provider = resolveProvider(cipher, options.provider);
  const chunkSize = checkChunkSize(options.chunkSize ?? DEFAULT_CHUNK_SIZE);
  const attributes = options.attributes ?? {};
  // Values first: a missing field refuses before any key is used or counted.
  const aad = [...new Set(options.aadFields ?? [])].sort().map((f) => [f, aadValue(f, attributes, true)] as const);
  const base = { cipher, teeRequired: options.teeRequired === true, kekId: kek.id, kekVersion: kek.version, chunkSize, aad };
  const noncePrefix = randomNonce().subarray(0, NONCE_PREFIX_BYTES);
  // Validates names and sizes before the wrap is counted.
  encodeStreamHeader({ ...base, wrapNonce: new Uint8Array(12), wrappedKey: new Uint8Array(48), noncePrefix });
  if (!(await (options.usage ?? defaultKekUsage).take(kek.id, kek.version))) {
    throw new EnvelopeError("key-limit", `KEK "${kek.id}" version ${kek.version} reached its wrap limit; rotate it`);
  }
  const dataKey = SecretKey.generate(32);
  try {
    const wrapNonce = randomNonce();
    const { wrapContext } = encodeStreamHeader({ ...base, wrapNonce, wrappedKey: new Uint8Array(48), noncePrefix });
    const wrappedKey = provider.seal(cipher, kek.key, wrapNonce, dataKey.exposeBytes(), wrapContext);
    const { bytes, chunkAad } = encodeStreamHeader({ ...base, wrapNonce, wrappedKey, noncePrefix });
    yield bytes;
    yield* closing(source, (reader) => sealChunks(reader, provider, cipher, dataKey, noncePrefix, chunkSize, chunkAad));
  } finally {
    dataKey.destroy();
  }
}

async function* sealChunks(
  reader: ByteReader,
  provider: AeadProvider,
  cipher: AeadAlgorithm,
  dataKey: SecretKey,
  noncePrefix: Uint8Array,
  chunkSize: number,
  chunkAad: Uint8Array,
): AsyncGenerator<Uint8Array> {
  const nonce = new Uint8Array(12);
  for (let index = 0; ; index++) {
    if (index >= MAX_CHUNKS) throw new EnvelopeError("too-large", `more than 2^32 chunks: use a larger chunk size`);
    const block = await reader.read(chunkSize);
    const final = block.length < chunkSize || (await reader.atEnd());
    yield provider.seal(cipher, dataKey, chunkNonce(noncePrefix, index, final, nonce), block, chunkAad);
    if (final) return;
  }
}

/** Reads magic and version; the rest of the reader is positioned at the version-specific header. */
export async function readFormatVersion(reader: ByteReader): Promise<number> {
  const start = await reader.read(5);
  if (!hasMagic(start)) throw notAnEnvelope();
  if (start.length < 5) throw new EnvelopeError("truncated", "the data ends inside its header");
  return start[4]!;
}

async function readV2Header(reader: ByteReader) {
  const version = await readFormatVersion(reader);
  if (version === ENVELOPE_VERSION) throw new EnvelopeError("unsupported-version", "this is a version-1 envelope, not a stream");
  if (version !== STREAM_VERSION) throw new EnvelopeError("unsupported-version", `envelope version ${version} is not supported`);
  return readStreamHeader(reader);
}

function checkExpected(aad: StreamHeader["aad"], expected: Readonly<Record<string, unknown>>): void {
  for (const [field, stored] of aad) {
    const want: AadValue = aadValue(field, expected);
    if (!sameAadValue(want, stored)) throw new EnvelopeError("aad-mismatch", `the data is bound to a different "${field}" than the one given`);
  }
}

/** Opens a v2 stream, yielding authenticated plaintext chunk by chunk; throws EnvelopeError at the first problem. */
export async function* openStream(source: Source, options: StreamOpenOptions): AsyncGenerator<Uint8Array> {
  yield* closing(source, (reader) => openChunks(reader, options));
}

/** Runs `body` over a reader of `source` and stops the source however the body ends. */
async function* closing(source: Source, body: (reader: ByteReader) => AsyncGenerator<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = new ByteReader(source);
  try {
    yield* body(reader);
  } finally {
    await reader.close();
  }
}

async function* openChunks(reader: ByteReader, options: StreamOpenOptions): AsyncGenerator<Uint8Array> {
  const { header, encoded } = await readV2Header(reader);
  options.onHeader?.(header);
  if (header.teeRequired) {
    const a = await checkAttestation(options.attestation);
    if (!a.attested) throw new EnvelopeError("not-attested", `the data requires a TEE to decrypt and this environment is not attested (${describeAttestation(a)})`);
  }
  if (options.attributes !== undefined) {
    if (options.onlyBound === true) checkOnlyBound(header.aad.map(([field]) => field), options.attributes);
    checkExpected(header.aad, options.attributes);
  }
  const provider = resolveProvider(header.cipher, options.provider);
  const kek = options.resolveKek(header.kekId, header.kekVersion);
  if (kek === undefined) throw new EnvelopeError("unknown-kek", `KEK "${header.kekId}" version ${header.kekVersion} is not in the keyring`);
  let keyBytes: Uint8Array;
  try {
    keyBytes = provider.open(header.cipher, kek, header.wrapNonce, header.wrappedKey, encoded.wrapContext);
  } catch (e) {
    wrapFailure(e);
  }
  const dataKey = SecretKey.from(keyBytes);
  keyBytes.fill(0);
  try {
    const nonce = new Uint8Array(12);
    const sealedSize = header.chunkSize + TAG_BYTES;
    for (let index = 0; ; index++) {
      if (index >= MAX_CHUNKS) throw new EnvelopeError("too-large", "more than 2^32 chunks");
      const block = await reader.read(sealedSize);
      if (block.length < TAG_BYTES) throw new EnvelopeError("truncated", `the data ends before its final chunk (chunk ${index} is missing or cut short)`);
      const final = block.length < sealedSize || (await reader.atEnd());
      let plain: Uint8Array;
      try {
        plain = provider.open(header.cipher, dataKey, chunkNonce(header.noncePrefix, index, final, nonce), block, encoded.chunkAad);
      } catch (e) {
        if (!(e instanceof CryptoError)) throw e;
        throw new EnvelopeError(
          "not-authentic",
          `chunk ${index} is not authentic: the data was modified, truncated, reordered or extended`,
        );
      }
      yield plain;
      if (final) return;
    }
  } finally {
    dataKey.destroy();
  }
}

/**
 * Re-wraps a v2 stream's data key under `kek` without touching the payload:
 * yields the new header, then every remaining byte unchanged. The old KEK is
 * found with `resolveKek`; the payload is not decrypted or checked here.
 */
export async function* rewrapStream(
  source: Source,
  options: { resolveKek: StreamOpenOptions["resolveKek"]; kek: Kek; usage?: AsyncKekUsage; provider?: AeadProvider; onHeader?: (header: StreamHeader) => void },
): AsyncGenerator<Uint8Array> {
  yield* closing(source, (reader) => rewrapHeader(reader, options));
}

async function* rewrapHeader(reader: ByteReader, options: Parameters<typeof rewrapStream>[1]): AsyncGenerator<Uint8Array> {
  let header: StreamHeader, encoded;
  try {
    ({ header, encoded } = await readV2Header(reader));
  } catch (e) {
    if (e instanceof EnvelopeError && e.code === "unsupported-version" && /version-1/.test(e.message)) {
      throw new EnvelopeError("cannot-rewrap", "a version-1 envelope binds its wrapped key into the payload's AAD and cannot be re-wrapped; open and seal it again");
    }
    throw e;
  }
  options.onHeader?.(header);
  const provider = resolveProvider(header.cipher, options.provider);
  const old = options.resolveKek(header.kekId, header.kekVersion);
  if (old === undefined) throw new EnvelopeError("unknown-kek", `KEK "${header.kekId}" version ${header.kekVersion} is not in the keyring`);
  let keyBytes: Uint8Array;
  try {
    keyBytes = provider.open(header.cipher, old, header.wrapNonce, header.wrappedKey, encoded.wrapContext);
  } catch (e) {
    wrapFailure(e);
  }
  try {
    const { kek } = options;
    if (!(await (options.usage ?? defaultKekUsage).take(kek.id, kek.version))) {
      throw new EnvelopeError("key-limit", `KEK "${kek.id}" version ${kek.version} reached its wrap limit; rotate it`);
    }
    const wrapNonce = randomNonce();
    const next = { ...header, kekId: kek.id, kekVersion: kek.version, wrapNonce };
    const { wrapContext } = encodeStreamHeader({ ...next, wrappedKey: new Uint8Array(48) });
    const wrappedKey = provider.seal(header.cipher, kek.key, wrapNonce, keyBytes, wrapContext);
    yield encodeStreamHeader({ ...next, wrappedKey }).bytes;
  } finally {
    keyBytes.fill(0);
  }
  yield* reader.rest();
}

/** Collects a generator's output into one array (tests, small objects). */
export async function collectBytes(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const c of chunks) {
    parts.push(c);
    total += c.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Reads only a v2 stream's header (for rewrap's "already current?" check and listings),
 * then stops the source, so a file stream releases its descriptor at once (rewrap
 * inspects every file it is given; each one's descriptor used to stay open for the run).
 */
export async function inspectStream(source: Source): Promise<StreamHeader> {
  const reader = new ByteReader(source);
  try {
    return (await readV2Header(reader)).header;
  } finally {
    await reader.close();
  }
}
