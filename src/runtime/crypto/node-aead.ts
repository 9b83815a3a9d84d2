/**
 * The fast AEAD provider over node:crypto (OpenSSL, AES-NI): AES-256-GCM
 * only; Node does not expose GCM-SIV, so that stays with the noble provider.
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import { CryptoError, TAG_BYTES, checkAeadArgs, type AeadProvider } from "./aead.js";
import type { SecretKey } from "./secret-key.js";

/** Plaintext bytes per cipher.update call when sealing. */
const SLICE = 64 * 1024;
/** Below this, a zeroed Uint8Array is cheaper to get than Buffer.allocUnsafeSlow's uninitialised one. */
const SMALL_OUTPUT = 16 * 1024;
const TAG = TAG_BYTES;
const TAG_OPTIONS = Object.freeze({ authTagLength: TAG_BYTES });

export const nodeAead: AeadProvider = {
  name: "node",
  algorithms: ["aes-256-gcm"],
  seal(algorithm, key: SecretKey, nonce, plaintext, aad, prefix) {
    const keyBytes = checkAeadArgs(nodeAead, algorithm, key, nonce);
    const cipher = createCipheriv("aes-256-gcm", keyBytes, nonce, TAG_OPTIONS);
    if (aad !== undefined && aad.length > 0) cipher.setAAD(aad);
    const before = prefix?.length ?? 0;
    const size = before + plaintext.length + TAG;
    // Never from Buffer's shared pool: the result's .buffer must hold nothing but the result.
    const out = size < SMALL_OUTPUT ? new Uint8Array(size) : new Uint8Array(Buffer.allocUnsafeSlow(size).buffer);
    if (prefix !== undefined) out.set(prefix, 0);
    // Slices, so each update's output is a small cache-hot buffer copied once into `out`
    // (one large update would write a second large buffer that then has to be copied).
    let at = before;
    for (let i = 0; i < plaintext.length; i += SLICE) {
      const part = cipher.update(plaintext.subarray(i, i + SLICE));
      out.set(part, at);
      at += part.length;
    }
    const tail = cipher.final();
    out.set(tail, at);
    out.set(cipher.getAuthTag(), at + tail.length);
    return out;
  },
  open(algorithm, key: SecretKey, nonce, sealed, aad) {
    const keyBytes = checkAeadArgs(nodeAead, algorithm, key, nonce);
    if (sealed.length < TAG) throw new CryptoError("bad-input");
    const split = sealed.length - TAG;
    // authTagLength pins the tag to 16 bytes: OpenSSL would otherwise accept a truncated tag.
    const decipher = createDecipheriv("aes-256-gcm", keyBytes, nonce, TAG_OPTIONS);
    decipher.setAuthTag(sealed.subarray(split));
    if (aad !== undefined && aad.length > 0) decipher.setAAD(aad);
    const head = decipher.update(sealed.subarray(0, split));
    let tail: Buffer;
    try {
      tail = decipher.final();
    } catch {
      head.fill(0); // unauthenticated plaintext never leaves this function
      throw new CryptoError("auth-failed");
    }
    // GCM's final() yields nothing, so the update output is the plaintext: no copy.
    if (tail.length === 0 && head.byteOffset === 0 && head.buffer.byteLength === head.length) return new Uint8Array(head.buffer);
    const out = new Uint8Array(head.length + tail.length);
    out.set(head, 0);
    out.set(tail, head.length);
    head.fill(0);
    return out;
  },
};
