/**
 * Envelope encryption (format: docs/envelope.md). Each object gets a fresh
 * 256-bit data key, wrapped by a key-encryption key (KEK); the payload is
 * sealed under the data key with the header and the bound attribute values
 * as AAD, so changing any header byte, the wrapped key, the nonce, the
 * ciphertext or an attribute value makes opening fail.
 */
import { CryptoError, type AeadAlgorithm, type AeadProvider } from "./aead.js";
import { EnvelopeError, draftHeader, parseEnvelope, type EnvelopeHeader } from "./envelope-format.js";
import { fillRandom } from "./random-pool.js";
import { resolveProvider } from "./providers.js";
import { SecretKey } from "./secret-key.js";
import { defaultKekUsage, type KekUsage } from "./kek-usage.js";
import { checkOnlyBound, encodeAadValues } from "./aad-values.js";

export { EnvelopeError, type EnvelopeHeader } from "./envelope-format.js";

export type { AadValue as AttributeValue } from "./aad-values.js";

export interface Kek {
  readonly id: string;
  readonly version: number;
  readonly key: SecretKey;
}

export interface SealOptions {
  readonly cipher: AeadAlgorithm;
  /** The primary KEK that wraps the fresh data key. */
  readonly kek: Kek;
  /** Attribute names whose values are bound as AAD (the policy's `aad` list). */
  readonly aadFields?: readonly string[];
  /** The data's attributes; every AAD field must be present. */
  readonly attributes?: Readonly<Record<string, unknown>>;
  /** Counts wraps per KEK against the random-nonce limit (default: in-process counter). */
  readonly usage?: KekUsage;
  /**
   * The AEAD provider (`nodeAead`, `nobleAead` or your own); default
   * `providerFor(cipher)`. One that lacks the cipher is refused (`bad-request`).
   */
  readonly provider?: AeadProvider;
}

export interface OpenOptions {
  /** Finds a KEK by id and version; undefined when unknown or retired. */
  readonly resolveKek: (id: string, version: number) => SecretKey | undefined;
  readonly attributes?: Readonly<Record<string, unknown>>;
  /**
   * Refuse (`aad-mismatch`) when `attributes` names a field the envelope does not bind, rather
   * than ignore it (by default the data's whole attribute object may be passed).
   */
  readonly onlyBound?: boolean;
  /** As for SealOptions: any provider implementing the envelope's cipher opens what any other sealed. */
  readonly provider?: AeadProvider;
}

function joined(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Seals `plaintext` into a version-1 envelope. Refuses (throws) rather than encrypting more weakly. */
export function sealEnvelope(plaintext: Uint8Array, options: SealOptions): Uint8Array {
  const { cipher, kek } = options;
  const provider = resolveProvider(cipher, options.provider);
  const fields = options.aadFields === undefined || options.aadFields.length === 0 ? [] : [...new Set(options.aadFields)].sort();
  // Values first: a missing field refuses before any key is used or counted.
  const aadValues = encodeAadValues(fields, options.attributes ?? {}, true);
  const header = draftHeader(cipher, kek.id, kek.version, fields);
  // Only a literal `true` counts: an asynchronous counter (a Promise) passed here by a cast or
  // from JavaScript must refuse, never seal uncounted.
  const taken: unknown = (options.usage ?? defaultKekUsage).take(kek.id, kek.version);
  if (taken !== true) {
    if (taken instanceof Promise) {
      taken.catch(() => undefined);
      throw new EnvelopeError("bad-request", "sealEnvelope needs a synchronous KEK counter; use the stream API or sealSecret with an asynchronous one");
    }
    throw new EnvelopeError("key-limit", `KEK "${kek.id}" version ${kek.version} reached its wrap limit; rotate it`);
  }
  const dataKey = SecretKey.generate(32);
  try {
    const wrapNonce = fillRandom(header.wrapNonce);
    header.wrappedKey.set(provider.seal(cipher, kek.key, wrapNonce, dataKey.exposeBytes(), header.wrapContext));
    const nonce = fillRandom(header.nonce);
    const bytes = header.bytes;
    return provider.seal(cipher, dataKey, nonce, plaintext, aadValues.length === 0 ? bytes : joined(bytes, aadValues), bytes);
  } finally {
    dataKey.destroy();
  }
}

/** Reads the header without any key (for listing and re-wrapping); throws EnvelopeError when malformed. */
export function readEnvelopeHeader(envelope: Uint8Array): EnvelopeHeader {
  return parseEnvelope(envelope).header;
}

/** Opens an envelope; throws EnvelopeError for anything unknown, malformed or not authentic. */
export function openEnvelope(envelope: Uint8Array, options: OpenOptions): Uint8Array {
  const parsed = parseEnvelope(envelope);
  const { header } = parsed;
  if (options.onlyBound === true) checkOnlyBound(header.aadFields, options.attributes ?? {});
  const provider = resolveProvider(header.cipher, options.provider);
  const kek = options.resolveKek(header.kekId, header.kekVersion);
  if (kek === undefined) {
    throw new EnvelopeError("unknown-kek", `KEK "${header.kekId}" version ${header.kekVersion} is not in the keyring`);
  }
  const aadValues = encodeAadValues(header.aadFields, options.attributes ?? {});
  let dataKey: SecretKey | undefined;
  try {
    const keyBytes = provider.open(header.cipher, kek, header.wrapNonce, header.wrappedKey, parsed.wrapContext);
    dataKey = SecretKey.from(keyBytes);
    keyBytes.fill(0);
    const aad = aadValues.length === 0 ? parsed.headerBytes : joined(parsed.headerBytes, aadValues);
    return provider.open(header.cipher, dataKey, header.nonce, parsed.sealed, aad);
  } catch (e) {
    if (e instanceof CryptoError) throw new EnvelopeError("not-authentic", "envelope is not authentic (wrong key, attributes or tampered data)");
    throw e;
  } finally {
    dataKey?.destroy();
  }
}
