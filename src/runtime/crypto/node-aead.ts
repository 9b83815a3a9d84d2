/**
 * The fast AEAD provider over node:crypto (OpenSSL, AES-NI): AES-256-GCM
 * only; Node does not expose GCM-SIV, so that stays with the noble provider.
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import { CryptoError, TAG_BYTES, checkAeadArgs, type AeadProvider } from "./aead.js";
import type { SecretKey } from "./secret-key.js";

export const nodeAead: AeadProvider = {
  name: "node",
  algorithms: ["aes-256-gcm"],
  seal(algorithm, key: SecretKey, nonce, plaintext, aad) {
    const keyBytes = checkAeadArgs(nodeAead, algorithm, key, nonce);
    const cipher = createCipheriv("aes-256-gcm", keyBytes, nonce, { authTagLength: TAG_BYTES });
    if (aad !== undefined && aad.length > 0) cipher.setAAD(aad);
    const head = cipher.update(plaintext);
    const tail = cipher.final();
    const tag = cipher.getAuthTag();
    const out = new Uint8Array(head.length + tail.length + TAG_BYTES);
    out.set(head, 0);
    out.set(tail, head.length);
    out.set(tag, head.length + tail.length);
    return out;
  },
  open(algorithm, key: SecretKey, nonce, sealed, aad) {
    const keyBytes = checkAeadArgs(nodeAead, algorithm, key, nonce);
    if (sealed.length < TAG_BYTES) throw new CryptoError("bad-input");
    const split = sealed.length - TAG_BYTES;
    // authTagLength pins the tag to 16 bytes: OpenSSL would otherwise accept a truncated tag.
    const decipher = createDecipheriv("aes-256-gcm", keyBytes, nonce, { authTagLength: TAG_BYTES });
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
    const out = new Uint8Array(head.length + tail.length);
    out.set(head, 0);
    out.set(tail, head.length);
    head.fill(0);
    return out;
  },
};
