/**
 * The keyring's files on disk (docs/keyring.md): the manifest `keyring.json`
 * and one `<id>.v<version>.kek` file per key-encryption key version, both
 * JSON, both mode 0600 in a directory of mode 0700. Parsing is strict: a file
 * that does not have exactly the expected shape is "malformed", and error
 * messages name files and fields, never key material.
 */
import type { Stats } from "node:fs";

export const MANIFEST_FILE = "keyring.json";
const MANIFEST_FORMAT = "swarm-policy-keyring";
/** The check value's length (keyring-unlock.ts makeCheck: a 12-byte nonce and a 16-byte tag). */
const CHECK_BYTES = 28;
const KEY_FORMAT = "swarm-policy-kek";
const FORMAT_VERSION = 1;

/** KEK ids: safe as file names on every platform, and short. */
export const KEK_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const KEY_FILE = /^([A-Za-z0-9][A-Za-z0-9_-]{0,63})\.v([1-9][0-9]{0,9})\.kek$/;
export const MAX_KEK_VERSION = 0xffffffff;

export type KeyringErrorCode =
  | "insecure"
  | "not-a-keyring"
  | "exists"
  | "locked"
  | "wrong-secret"
  | "unknown-kek"
  | "retired"
  | "no-primary"
  | "malformed"
  | "bad-request"
  /** A keyring directory or file the file system will not let us read (permission denied, a file in the path). */
  | "unreadable"
  /** A lock in the keyring directory (the KEK usage counter) is held by another process. */
  | "busy";

/** Keyring failures. Messages name the directory, files, KEK ids and versions; never key bytes. */
export class KeyringError extends Error {
  readonly code: KeyringErrorCode;
  constructor(code: KeyringErrorCode, message: string) {
    super(message);
    this.name = "KeyringError";
    this.code = code;
  }
}

/** scrypt cost: N = 2^logN, block size r, parallelism p (RFC 7914). */
export interface ScryptParams {
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

export type Protection =
  | { readonly kind: "none" }
  | { readonly kind: "passphrase"; readonly scrypt: ScryptParams; readonly salt: Uint8Array; readonly check: Uint8Array }
  | { readonly kind: "env"; readonly check: Uint8Array };

export type ProtectionKind = Protection["kind"];

export interface Manifest {
  /** The KEK id used when a caller names none. */
  readonly defaultId: string;
  readonly protection: Protection;
}

/** Key material as stored: plain (protection "none"), wrapped under the unlock key, or erased (retired). */
export type StoredMaterial =
  | { readonly kind: "plain"; readonly key: Uint8Array }
  | { readonly kind: "wrapped"; readonly nonce: Uint8Array; readonly sealed: Uint8Array }
  | { readonly kind: "erased" };

export interface KeyFile {
  readonly id: string;
  readonly version: number;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly retiredAt: number | null;
  readonly material: StoredMaterial;
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("base64");

function malformed(file: string, what: string): KeyringError {
  return new KeyringError("malformed", `${file}: ${what}`);
}

function fromB64(value: unknown, file: string, field: string, length?: number): Uint8Array {
  if (typeof value !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw malformed(file, `"${field}" must be base64`);
  // The decoded Buffer itself, not a copy: a small Buffer.from lives in Node's shared pool, so a
  // caller wiping a copy (a plain key) would leave the key there.
  const bytes = Buffer.from(value, "base64");
  if (length !== undefined && bytes.length !== length) {
    bytes.fill(0);
    throw malformed(file, `"${field}" must hold ${length} bytes`);
  }
  return bytes;
}

function object(value: unknown, file: string, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw malformed(file, `${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

function parseJson(text: string, file: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text, which may hold key material.
    throw malformed(file, "not valid JSON");
  }
  return object(value, file, "the file");
}

function time(value: unknown, file: string, field: string): number {
  const ms = typeof value === "string" ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) throw malformed(file, `"${field}" must be an RFC 3339 time`);
  return ms;
}

/** Bounds on scrypt parameters read from disk, so an edited manifest cannot make loading hang or exhaust memory. */
export function checkScryptParams(params: ScryptParams, where: string): ScryptParams {
  const { logN, r, p } = params;
  const ok = (n: unknown, lo: number, hi: number) => Number.isInteger(n) && (n as number) >= lo && (n as number) <= hi;
  if (!ok(logN, 10, 22) || !ok(r, 1, 32) || !ok(p, 1, 16) || 128 * r * 2 ** logN > 2 ** 31) {
    throw new KeyringError("bad-request", `${where}: scrypt parameters out of range (logN 10-22, r 1-32, p 1-16, at most 2 GiB)`);
  }
  return { logN, r, p };
}

export function serializeManifest(m: Manifest): string {
  const p = m.protection;
  const protection =
    p.kind === "none"
      ? { kind: "none" }
      : p.kind === "env"
        ? { kind: "env", check: b64(p.check) }
        : { kind: "passphrase", kdf: "scrypt", logN: p.scrypt.logN, r: p.scrypt.r, p: p.scrypt.p, salt: b64(p.salt), check: b64(p.check) };
  return JSON.stringify({ format: MANIFEST_FORMAT, version: FORMAT_VERSION, default: m.defaultId, protection }, null, 2) + "\n";
}

export function parseManifest(text: string, file: string): Manifest {
  const doc = parseJson(text, file);
  if (doc.format !== MANIFEST_FORMAT) throw new KeyringError("not-a-keyring", `${file} is not a swarm-policy keyring manifest`);
  if (doc.version !== FORMAT_VERSION) throw malformed(file, `keyring format version ${String(doc.version)} is not supported`);
  if (typeof doc.default !== "string" || !KEK_ID_PATTERN.test(doc.default)) throw malformed(file, `"default" must be a KEK id`);
  const p = object(doc.protection, file, `"protection"`);
  let protection: Protection;
  if (p.kind === "none") protection = { kind: "none" };
  else if (p.kind === "env") protection = { kind: "env", check: fromB64(p.check, file, "check", CHECK_BYTES) };
  else if (p.kind === "passphrase" && p.kdf === "scrypt") {
    let scrypt: ScryptParams;
    try {
      scrypt = checkScryptParams({ logN: p.logN as number, r: p.r as number, p: p.p as number }, file);
    } catch (e) {
      // Out of range on disk is a damaged or edited file (malformed), not a bad request by the caller.
      if (e instanceof KeyringError) throw malformed(file, e.message.slice(file.length + 2));
      throw e;
    }
    protection = { kind: "passphrase", scrypt, salt: fromB64(p.salt, file, "salt", 32), check: fromB64(p.check, file, "check", CHECK_BYTES) };
  } else throw malformed(file, `unknown protection "${String(p.kind)}"`);
  return { defaultId: doc.default, protection };
}

export function keyFileName(id: string, version: number): string {
  return `${id}.v${version}.kek`;
}

/** The (id, version) a key file name stands for; undefined for any other name. */
export function parseKeyFileName(name: string): { id: string; version: number } | undefined {
  const m = KEY_FILE.exec(name);
  if (!m) return undefined;
  const version = Number(m[2]);
  return version <= MAX_KEK_VERSION ? { id: m[1]!, version } : undefined;
}

export function serializeKeyFile(k: KeyFile): string {
  const m = k.material;
  const material =
    m.kind === "plain" ? { key: b64(m.key) } : m.kind === "wrapped" ? { wrapped: { nonce: b64(m.nonce), sealed: b64(m.sealed) } } : {};
  const doc = {
    format: KEY_FORMAT,
    version: FORMAT_VERSION,
    id: k.id,
    kek_version: k.version,
    created_at: new Date(k.createdAt).toISOString(),
    retired_at: k.retiredAt === null ? null : new Date(k.retiredAt).toISOString(),
    ...material,
  };
  return JSON.stringify(doc, null, 2) + "\n";
}

/** Parses a key file; its id and version must match its name (`expected`), so files cannot be swapped silently. */
export function parseKeyFile(text: string, file: string, expected: { id: string; version: number }): KeyFile {
  const doc = parseJson(text, file);
  if (doc.format !== KEY_FORMAT || doc.version !== FORMAT_VERSION) throw malformed(file, "not a swarm-policy KEK file (format 1)");
  if (doc.id !== expected.id || doc.kek_version !== expected.version) throw malformed(file, "id or version does not match the file name");
  const createdAt = time(doc.created_at, file, "created_at");
  const retiredAt = doc.retired_at === null || doc.retired_at === undefined ? null : time(doc.retired_at, file, "retired_at");
  let material: StoredMaterial;
  if (retiredAt !== null) {
    if (doc.key !== undefined || doc.wrapped !== undefined) throw malformed(file, "a retired KEK must not hold key material");
    material = { kind: "erased" };
  } else if (doc.key !== undefined && doc.wrapped === undefined) {
    material = { kind: "plain", key: fromB64(doc.key, file, "key", 32) };
  } else if (doc.wrapped !== undefined && doc.key === undefined) {
    const w = object(doc.wrapped, file, `"wrapped"`);
    material = { kind: "wrapped", nonce: fromB64(w.nonce, file, "wrapped.nonce", 12), sealed: fromB64(w.sealed, file, "wrapped.sealed", 48) };
  } else throw malformed(file, `exactly one of "key" and "wrapped" is required`);
  return { id: expected.id, version: expected.version, createdAt, retiredAt, material };
}

/**
 * Refuses a file or directory that group or others may read, write or enter:
 * key material must be readable by its owner only. Skipped on Windows, where
 * POSIX mode bits do not describe access.
 */
export function checkPrivate(st: Stats, where: string, what: "directory" | "file"): void {
  if (process.platform === "win32") return;
  const isRightType = what === "directory" ? st.isDirectory() : st.isFile();
  if (!isRightType) throw new KeyringError("insecure", `${where} is not a regular ${what}`);
  const mode = st.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    const want = what === "directory" ? "700" : "600";
    throw new KeyringError(
      "insecure",
      `keyring ${what} ${where} has mode ${mode.toString(8).padStart(4, "0")}: it must not be accessible by group or others (chmod ${want} ${where})`,
    );
  }
}
