/**
 * Unlocking a protected keyring (docs/keyring.md "Protection"): an unlock key
 * derived from a passphrase with scrypt, or read from an environment
 * variable; KEK files then hold their key wrapped under it with AES-256-GCM.
 *
 * scrypt parameters: N = 2^17, r = 8, p = 1 (128 MiB, about 1-3 s on a
 * shared 2-core machine). That is the OWASP Password Storage minimum for
 * scrypt; unlocking happens once per process, so the cost buys guessing
 * resistance where it matters (a stolen keyring directory is attacked
 * offline). The parameters are stored in the manifest, so a keyring made
 * with stronger ones keeps them.
 */
import { scryptAsync } from "@noble/hashes/scrypt.js";
import { CryptoError, KEY_BYTES, NONCE_BYTES, randomNonce } from "./aead.js";
import { KeyringError, type ScryptParams, type StoredMaterial } from "./keyring-format.js";
import { nodeAead } from "./node-aead.js";
import { SecretKey } from "./secret-key.js";

export const DEFAULT_SCRYPT: ScryptParams = { logN: 17, r: 8, p: 1 };
/** The environment variable that holds a keyring's unlock key (containers). */
export const KEYRING_KEY_ENV = "SWARM_POLICY_KEYRING_KEY";

const utf8 = new TextEncoder();
const CHECK_AAD = utf8.encode("swarm-policy keyring check v1");

/** The unlock key for a passphrase; the passphrase is NFC-normalised so the same text typed anywhere derives the same key. */
export async function deriveUnlockKey(passphrase: string, salt: Uint8Array, params: ScryptParams): Promise<SecretKey> {
  if (typeof passphrase !== "string" || passphrase.length === 0) throw new KeyringError("bad-request", "the passphrase is empty");
  const secret = utf8.encode(passphrase.normalize("NFC"));
  let bytes: Uint8Array;
  try {
    bytes = await scryptAsync(secret, salt, {
      N: 2 ** params.logN,
      r: params.r,
      p: params.p,
      dkLen: KEY_BYTES,
      // noble's own count (128 * r * (N + p + 1)): every parameter set checkScryptParams accepts fits.
      maxmem: 128 * params.r * (2 ** params.logN + params.p + 1),
    });
  } finally {
    secret.fill(0);
  }
  const key = SecretKey.from(bytes);
  bytes.fill(0);
  return key;
}

/**
 * The unlock key from an environment variable's value: 32 bytes in base64
 * (standard or URL-safe alphabet, padding optional), e.g. the output of
 * `openssl rand -base64 32`. The value is never echoed in errors.
 */
export function parseUnlockKey(value: string | undefined, name = KEYRING_KEY_ENV): SecretKey {
  const text = (value ?? "").trim();
  if (text === "") throw new KeyringError("locked", `${name} is not set`);
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) throw new KeyringError("bad-request", `${name} is not base64`);
  // Wiped in place: a small Buffer.from lives in Node's shared pool, where a copy's wipe would leave it.
  const bytes = Buffer.from(text.replace(/-/g, "+").replace(/_/g, "/"), "base64");
  try {
    if (bytes.length !== KEY_BYTES) throw new KeyringError("bad-request", `${name} must hold ${KEY_BYTES} bytes of base64 (openssl rand -base64 32)`);
    return SecretKey.from(bytes);
  } finally {
    bytes.fill(0);
  }
}

/** A value the manifest keeps so a wrong passphrase or key is reported as such (nonce || tag of an empty message). */
export function makeCheck(unlock: SecretKey): Uint8Array {
  const nonce = randomNonce();
  const tag = nodeAead.seal("aes-256-gcm", unlock, nonce, new Uint8Array(0), CHECK_AAD);
  const out = new Uint8Array(NONCE_BYTES + tag.length);
  out.set(nonce, 0);
  out.set(tag, NONCE_BYTES);
  return out;
}

export function verifyCheck(unlock: SecretKey, check: Uint8Array): boolean {
  if (check.length !== NONCE_BYTES + 16) return false;
  try {
    nodeAead.open("aes-256-gcm", unlock, check.subarray(0, NONCE_BYTES), check.subarray(NONCE_BYTES), CHECK_AAD);
    return true;
  } catch (e) {
    if (e instanceof CryptoError) return false;
    throw e;
  }
}

/** Binds a wrapped KEK to its id, version and creation time: a file edited to look younger no longer unwraps. */
function wrapContext(id: string, version: number, createdAt: number): Uint8Array {
  return utf8.encode(`swarm-policy kek v1\u0000${id}\u0000${version}\u0000${new Date(createdAt).toISOString()}`);
}

export function wrapKek(unlock: SecretKey, id: string, version: number, createdAt: number, kek: SecretKey): StoredMaterial {
  const nonce = randomNonce();
  const sealed = nodeAead.seal("aes-256-gcm", unlock, nonce, kek.exposeBytes(), wrapContext(id, version, createdAt));
  return { kind: "wrapped", nonce, sealed };
}

export function unwrapKek(
  unlock: SecretKey,
  id: string,
  version: number,
  createdAt: number,
  material: { nonce: Uint8Array; sealed: Uint8Array },
  file: string,
): SecretKey {
  let bytes: Uint8Array;
  try {
    bytes = nodeAead.open("aes-256-gcm", unlock, material.nonce, material.sealed, wrapContext(id, version, createdAt));
  } catch (e) {
    if (e instanceof CryptoError) throw new KeyringError("malformed", `${file}: the wrapped key is not authentic (file altered?)`);
    throw e;
  }
  const key = SecretKey.from(bytes);
  bytes.fill(0);
  return key;
}
