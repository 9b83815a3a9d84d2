/**
 * WireGuard keys: X25519 (@noble/curves) in WireGuard's text form, standard
 * base64 of the 32 raw bytes (44 characters with one `=`), the form
 * `wg genkey` and `wg pubkey` print.
 *
 * Private keys are clamped when generated (byte 0 &= 248, byte 31 &= 127,
 * byte 31 |= 64), exactly as `wg genkey` stores them, so a key made here is
 * byte for byte the kind of key the real tool makes. The public key of an
 * unclamped private key is still the one `wg pubkey` prints: X25519 clamps
 * the scalar before multiplying.
 *
 * Private keys live in `SecretKey`, which redacts itself in JSON, logs and
 * template strings; the only way to the text is `privateKeyText`, named so
 * that every use is easy to find in review.
 */
import { x25519 } from "@noble/curves/ed25519.js";
import { isWireGuardKey } from "../../evaluator/mesh.js";
import { SecretKey } from "../crypto/secret-key.js";

/** A WireGuard key pair: the secret half wrapped, the public half as text. */
export interface WireGuardKeyPair {
  privateKey: SecretKey;
  /** Standard base64 of the 32-byte X25519 public key. */
  publicKey: string;
}

/** Clamp a Curve25519 scalar in place, as `wg genkey` does. */
export function clampPrivateKey(bytes: Uint8Array): Uint8Array {
  bytes[0]! &= 248;
  bytes[31]! &= 127;
  bytes[31]! |= 64;
  return bytes;
}

/** A fresh, clamped key pair from the platform CSPRNG. */
export function generateKeyPair(): WireGuardKeyPair {
  const bytes = new Uint8Array(32);
  globalThis.crypto.getRandomValues(bytes);
  clampPrivateKey(bytes);
  const privateKey = SecretKey.from(bytes);
  bytes.fill(0);
  return { privateKey, publicKey: publicKeyOf(privateKey) };
}

/** The public key of a private key, as `wg pubkey` prints it. */
export function publicKeyOf(privateKey: SecretKey): string {
  if (privateKey.length !== 32) throw new RangeError("a WireGuard private key is 32 bytes");
  return Buffer.from(x25519.getPublicKey(privateKey.exposeBytes())).toString("base64");
}

/**
 * Read a private key from its text (surrounding whitespace allowed, as in a
 * key file). The error never quotes the text: it is a secret.
 */
export function parsePrivateKey(text: string): SecretKey {
  const trimmed = text.trim();
  if (!isWireGuardKey(trimmed)) throw new Error("not a WireGuard private key (32 bytes of base64)");
  const bytes = Buffer.from(trimmed, "base64");
  const key = SecretKey.from(bytes);
  bytes.fill(0);
  return key;
}

/**
 * The private key as WireGuard text, for writing a key file (mode 0600) or
 * for `mesh keys gen` on standard output. Never log or serialise the result.
 */
export function privateKeyText(privateKey: SecretKey): string {
  // Buffer.from copies small arrays into Node's shared pool: wipe the copy once encoded.
  const copy = Buffer.from(privateKey.exposeBytes());
  try {
    return copy.toString("base64");
  } finally {
    copy.fill(0);
  }
}
