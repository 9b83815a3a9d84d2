/**
 * The AEAD provider contract: AES-256-GCM and AES-256-GCM-SIV with a 256-bit
 * key, a 96-bit nonce, optional AAD and a 128-bit tag appended to the
 * ciphertext. Providers (node:crypto, @noble/ciphers) implement it; the
 * checks every provider shares live here so both reject the same inputs.
 */
import type { SecretKey } from "./secret-key.js";
import { fillRandom } from "./random-pool.js";

export type AeadAlgorithm = "aes-256-gcm" | "aes-256-gcm-siv";

export const AEAD_ALGORITHMS: readonly AeadAlgorithm[] = ["aes-256-gcm", "aes-256-gcm-siv"];
export const KEY_BYTES = 32;
/** Only 96-bit nonces: GHASH-derived counters for other lengths make random-nonce limits weaker. */
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

export type CryptoErrorCode = "bad-key" | "bad-nonce" | "bad-input" | "unsupported" | "auth-failed";

const MESSAGES: Record<CryptoErrorCode, string> = {
  "bad-key": `key must be ${KEY_BYTES} bytes`,
  "bad-nonce": `nonce must be ${NONCE_BYTES} bytes`,
  "bad-input": "sealed data is shorter than the authentication tag",
  unsupported: "algorithm not supported by this provider",
  "auth-failed": "decryption failed: data or associated data is not authentic",
};

/** Errors carry a fixed message per code: never key material, never plaintext. */
export class CryptoError extends Error {
  readonly code: CryptoErrorCode;
  constructor(code: CryptoErrorCode, detail?: string) {
    super(detail === undefined ? MESSAGES[code] : `${MESSAGES[code]}: ${detail}`);
    this.name = "CryptoError";
    this.code = code;
  }
}

export interface AeadProvider {
  /** Short name for docs and benchmarks ("node", "noble"). */
  readonly name: string;
  readonly algorithms: readonly AeadAlgorithm[];
  /**
   * Encrypts and authenticates; returns ciphertext || 16-byte tag, or
   * prefix || ciphertext || tag when `prefix` is given (one allocation, no
   * extra copy of the payload for callers that put a header first).
   */
  seal(algorithm: AeadAlgorithm, key: SecretKey, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array, prefix?: Uint8Array): Uint8Array;
  /** Verifies and decrypts ciphertext || tag; throws CryptoError("auth-failed") when not authentic. */
  open(algorithm: AeadAlgorithm, key: SecretKey, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array;
}

/** A fresh random 96-bit nonce from the platform CSPRNG. */
export function randomNonce(): Uint8Array {
  return fillRandom(new Uint8Array(NONCE_BYTES));
}

/** Shared argument checks, run before any provider touches the data. */
export function checkAeadArgs(
  provider: AeadProvider,
  algorithm: AeadAlgorithm,
  key: SecretKey,
  nonce: Uint8Array,
): Uint8Array {
  if (!provider.algorithms.includes(algorithm)) throw new CryptoError("unsupported", String(algorithm));
  const keyBytes = key.exposeBytes();
  if (keyBytes.length !== KEY_BYTES) throw new CryptoError("bad-key");
  if (!(nonce instanceof Uint8Array) || nonce.length !== NONCE_BYTES) throw new CryptoError("bad-nonce");
  return keyBytes;
}
