/**
 * The portable AEAD provider over @noble/ciphers: pure JS, no Node builtin
 * (docs/envelope.md "Where it runs" says what a browser build still needs).
 * It is also the only AES-256-GCM-SIV implementation we have.
 */
import { gcm, gcmsiv } from "@noble/ciphers/aes.js";
import { CryptoError, TAG_BYTES, checkAeadArgs, type AeadAlgorithm, type AeadProvider } from "./aead.js";
import type { SecretKey } from "./secret-key.js";

const EMPTY = new Uint8Array(0);

function cipherFor(algorithm: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array) {
  return algorithm === "aes-256-gcm" ? gcm(key, nonce, aad) : gcmsiv(key, nonce, aad);
}

export const nobleAead: AeadProvider = {
  name: "noble",
  algorithms: ["aes-256-gcm", "aes-256-gcm-siv"],
  seal(algorithm, key: SecretKey, nonce, plaintext, aad = EMPTY, prefix) {
    const keyBytes = checkAeadArgs(nobleAead, algorithm, key, nonce);
    const sealed = cipherFor(algorithm, keyBytes, nonce, aad).encrypt(plaintext);
    if (prefix === undefined) return sealed;
    const out = new Uint8Array(prefix.length + sealed.length);
    out.set(prefix, 0);
    out.set(sealed, prefix.length);
    return out;
  },
  open(algorithm, key: SecretKey, nonce, sealed, aad = EMPTY) {
    const keyBytes = checkAeadArgs(nobleAead, algorithm, key, nonce);
    if (sealed.length < TAG_BYTES) throw new CryptoError("bad-input");
    try {
      return cipherFor(algorithm, keyBytes, nonce, aad).decrypt(sealed);
    } catch {
      // noble's own message is dropped: one uniform answer for every forgery.
      throw new CryptoError("auth-failed");
    }
  },
};
