/**
 * The keyring (docs/keyring.md): key-encryption keys (KEKs) with ids and
 * versions in a private directory. Each id has a series of versions; the
 * highest version not retired is the id's primary, which wraps new data keys.
 * Older versions keep decrypting until retired; retiring erases the key
 * material, so a retired version refuses with a clear error.
 *
 * Key material lives only in SecretKey objects; files are written atomically
 * with mode 0600 (exclusive creation for new versions, so two concurrent
 * rotations cannot both claim a version); loading refuses a directory or key
 * file that group or others can access.
 *
 * `sealSecret` / `openSecret` / `resealSecret` are the small-secret API other
 * runtime parts use (TOTP seeds): an envelope under the default KEK's primary
 * with the caller's context string bound as AAD, so a secret sealed for one
 * user cannot be opened as another's; `resealSecret` moves one to a new
 * primary after rotation.
 */
import { mkdir, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "../atomic-file.js";
import { StateFileError, readStateFile } from "../state-file.js";
import { EnvelopeError, openEnvelope, readEnvelopeHeader, sealEnvelope, type Kek } from "./envelope.js";
import type { AsyncKekUsage, KekUsage } from "./kek-usage.js";
import { FileKekUsage } from "./kek-usage-file.js";
import {
  KEK_ID_PATTERN,
  KeyringError,
  MANIFEST_FILE,
  MAX_KEK_VERSION,
  checkPrivate,
  checkScryptParams,
  keyFileName,
  parseKeyFile,
  parseKeyFileName,
  parseManifest,
  serializeKeyFile,
  serializeManifest,
  type KeyFile,
  type Manifest,
  type Protection,
  type ProtectionKind,
  type ScryptParams,
} from "./keyring-format.js";
import { DEFAULT_SCRYPT, deriveUnlockKey, makeCheck, unwrapKek, verifyCheck, wrapKek } from "./keyring-unlock.js";
import { SecretKey } from "./secret-key.js";

export { KeyringError, type KeyringErrorCode, type ScryptParams, type ProtectionKind } from "./keyring-format.js";
export { KEYRING_KEY_ENV, DEFAULT_SCRYPT, parseUnlockKey } from "./keyring-unlock.js";

export interface KekInfo {
  readonly id: string;
  readonly version: number;
  readonly createdAt: Date;
  readonly retiredAt: Date | null;
  /** "primary": wraps new data keys; "active": still decrypts; "retired": erased, refuses. */
  readonly status: "primary" | "active" | "retired";
}

/** The KEK that wraps new data keys, with its creation time (for `key_age`). */
export interface PrimaryKek extends Kek {
  readonly createdAt: Date;
}

export interface KeyringOptions {
  /** Unlocks a keyring protected by a passphrase. */
  readonly passphrase?: string;
  /** Unlocks a keyring protected by an unlock key (see `parseUnlockKey` for the environment variable). */
  readonly unlockKey?: SecretKey;
  /** Epoch milliseconds for creation and retirement times (default Date.now). */
  readonly clock?: () => number;
  /**
   * Counts wraps per KEK version against the per-key limit (docs/envelope.md
   * "Nonces and the per-key limit"). Default: a FileKekUsage in the keyring
   * directory, shared by every process that opens it.
   */
  readonly usage?: AsyncKekUsage;
}

export interface CreateKeyringOptions extends KeyringOptions {
  /** The first KEK's id, also the keyring's default (default "kek"). */
  readonly id?: string;
  /** How key files are protected at rest (default "none": mode 0600 only). */
  readonly protect?: ProtectionKind;
  /** scrypt cost for "passphrase" (default DEFAULT_SCRYPT). */
  readonly scrypt?: ScryptParams;
}

/** What `resealSecret` did: the KEK versions before and after, and the (new or unchanged) sealed bytes. */
export interface ResealedSecret {
  readonly sealed: Uint8Array;
  readonly from: { readonly id: string; readonly version: number };
  readonly to: { readonly id: string; readonly version: number };
  /** false when the secret was already under the primary and is returned unchanged. */
  readonly resealed: boolean;
}

/** For sealEnvelope inside sealSecret: the wrap was already counted by the keyring's (async) counter. */
const COUNTED: KekUsage = { take: () => true };

/** The AAD field `sealSecret` binds the caller's context to. */
export const SECRET_CONTEXT_FIELD = "swarm-policy.secret-context";

interface Entry {
  file: KeyFile;
  key: SecretKey | null;
}

const entryKey = (id: string, version: number) => `${id}\u0000${version}`;

/** A manifest or key file is a few hundred bytes; anything near this is not one. */
const MAX_KEYRING_FILE_BYTES = 1024 * 1024;

/** A manifest or key file: private, regular, not a link, not huge (state-file.ts); refusals are `insecure`. */
async function readPrivateFile(file: string): Promise<string> {
  try {
    return await readStateFile(file, MAX_KEYRING_FILE_BYTES, (st) => checkPrivate(st, file, "file"));
  } catch (err) {
    if (err instanceof StateFileError) throw new KeyringError("insecure", err.message);
    throw err;
  }
}

/** Words for the file-system errors a keyring path meets (a service user without permission, a file where a directory should be). */
const FS_REASONS: Readonly<Record<string, string>> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOTDIR: "not a directory",
  EISDIR: "is a directory",
  ELOOP: "too many levels of symbolic links",
};

/**
 * A file-system error reading the keyring as a KeyringError naming the path, so the verbs and
 * `serve` say which file a service user cannot read instead of failing as an internal error.
 */
function unreadable(file: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (err instanceof KeyringError || typeof code !== "string") return err;
  return new KeyringError("unreadable", `cannot read ${file}: ${Object.hasOwn(FS_REASONS, code) ? FS_REASONS[code] : code}`);
}

function checkId(id: string): string {
  if (typeof id !== "string" || !KEK_ID_PATTERN.test(id)) {
    throw new KeyringError("bad-request", "a KEK id is 1 to 64 letters, digits, '-' or '_', starting with a letter or digit");
  }
  return id;
}

export class Keyring {
  /** The keyring directory (absolute). */
  readonly dir: string;
  /** The KEK id used when none is named. */
  readonly defaultId: string;
  readonly protection: ProtectionKind;
  readonly #entries = new Map<string, Entry>();
  readonly #unlock: SecretKey | null;
  readonly #clock: () => number;
  /**
   * The wrap counter of this keyring: pass it as `usage` to `sealStream`,
   * `rewrapStream` and `encryptByPolicy` (which defaults to it) so wraps
   * under these KEKs count against the persistent limit.
   */
  readonly usage: AsyncKekUsage;

  private constructor(dir: string, manifest: Manifest, unlock: SecretKey | null, options: KeyringOptions) {
    this.dir = dir;
    this.defaultId = manifest.defaultId;
    this.protection = manifest.protection.kind;
    this.#unlock = unlock;
    this.#clock = options.clock ?? Date.now;
    this.usage = options.usage ?? new FileKekUsage(dir);
  }

  /** Creates a keyring in `dir` (made with mode 0700 if missing; an existing one must be private) with its first KEK. */
  static async create(dir: string, options: CreateKeyringOptions = {}): Promise<Keyring> {
    const abs = path.resolve(dir);
    const id = checkId(options.id ?? "kek");
    const kind = options.protect ?? "none";
    let unlock: SecretKey | null = null;
    let protection: Protection;
    if (kind === "passphrase") {
      if (options.passphrase === undefined) throw new KeyringError("bad-request", "a passphrase-protected keyring needs a passphrase");
      const scrypt = checkScryptParams(options.scrypt ?? DEFAULT_SCRYPT, "scrypt");
      const salt = globalThis.crypto.getRandomValues(new Uint8Array(32));
      unlock = await deriveUnlockKey(options.passphrase, salt, scrypt);
      protection = { kind, scrypt, salt, check: makeCheck(unlock) };
    } else if (kind === "env") {
      if (options.unlockKey === undefined) throw new KeyringError("bad-request", "a keyring protected by an unlock key needs the key");
      unlock = SecretKey.from(options.unlockKey.exposeBytes());
      protection = { kind, check: makeCheck(unlock) };
    } else if (kind === "none") {
      protection = { kind };
    } else throw new KeyringError("bad-request", `unknown protection "${String(kind)}" (none, passphrase or env)`);

    let made: string | undefined;
    try {
      made = await mkdir(abs, { recursive: true, mode: 0o700 });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EEXIST" || code === "ENOTDIR") throw new KeyringError("not-a-keyring", `cannot create a keyring at ${abs}: it, or a directory above it, is a file`);
      throw e;
    }
    checkPrivate(await stat(abs), abs, "directory");
    if (made === undefined) {
      const names = await readdir(abs);
      if (names.includes(MANIFEST_FILE)) {
        // The manifest is written first: a creation killed before its first KEK leaves just that.
        const unfinished = !names.some((n) => parseKeyFileName(n) !== undefined);
        throw new KeyringError("exists", `${abs} is already a keyring${unfinished ? " without any KEK (a creation that did not finish?): rotate it (keys rotate) to make its first KEK" : ""}`);
      }
      if (names.some((n) => parseKeyFileName(n) !== undefined)) throw new KeyringError("exists", `${abs} holds KEK files but no ${MANIFEST_FILE}`);
    }
    const manifest: Manifest = { defaultId: id, protection };
    // The manifest first: a crash before the KEK leaves an empty keyring that `rotate` can complete.
    try {
      await writeFileAtomic(path.join(abs, MANIFEST_FILE), serializeManifest(manifest), { mode: 0o600, exclusive: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new KeyringError("exists", `${abs} is already a keyring`);
      throw e;
    }
    const ring = new Keyring(abs, manifest, unlock, options);
    await ring.#addVersion(id, 1);
    return ring;
  }

  /** Opens the keyring in `dir`, checking permissions and unlocking it; throws KeyringError. */
  static async open(dir: string, options: KeyringOptions = {}): Promise<Keyring> {
    const abs = path.resolve(dir);
    let st;
    try {
      st = await stat(abs);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new KeyringError("not-a-keyring", `keyring directory ${abs} does not exist`);
      throw unreadable(abs, e);
    }
    checkPrivate(st, abs, "directory");
    const manifestFile = path.join(abs, MANIFEST_FILE);
    let text: string;
    try {
      text = await readPrivateFile(manifestFile);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new KeyringError("not-a-keyring", `${abs} is not a keyring (no ${MANIFEST_FILE})`);
      throw unreadable(manifestFile, e);
    }
    const manifest = parseManifest(text, manifestFile);
    const unlock = await unlockKeyFor(abs, manifest.protection, options);
    const ring = new Keyring(abs, manifest, unlock, options);
    await ring.refresh();
    return ring;
  }

  /**
   * Reads the key files again: versions another process added since (`keys rotate`) are loaded,
   * versions it retired are erased here too. A long-running process (the server) opened the
   * keyring once; without this it could not open a secret `mfa rewrap` moved to a new version,
   * and kept opening those sealed under a version retired on disk. Enrolling and resealing call
   * it under the enrolment lock, so they never seal under a version retired meanwhile.
   */
  async refresh(): Promise<void> {
    const names = await readdir(this.dir).catch((e: unknown) => {
      throw unreadable(this.dir, e);
    });
    for (const name of names.sort()) {
      const named = parseKeyFileName(name);
      if (named === undefined) continue; // temp files (dot files) and anything else are not ours
      const file = path.join(this.dir, name);
      const keyText = await readPrivateFile(file).catch((e: unknown) => {
        throw unreadable(file, e);
      });
      const parsed = parseKeyFile(keyText, file, named);
      const known = this.#entries.get(entryKey(parsed.id, parsed.version));
      if (known === undefined) {
        this.#load(parsed, file);
        continue;
      }
      // A version is never reused, so a known one can only have been retired since.
      if (parsed.material.kind === "plain") parsed.material.key.fill(0);
      if (parsed.material.kind === "erased" && known.key !== null) {
        known.key.destroy();
        known.key = null;
        known.file = parsed;
      }
    }
  }

  #load(file: KeyFile, where: string): void {
    const m = file.material;
    let key: SecretKey | null = null;
    if (m.kind === "plain") {
      try {
        if (this.#unlock !== null) throw new KeyringError("malformed", `${where}: an unwrapped key in a protected keyring`);
        key = SecretKey.from(m.key);
      } finally {
        m.key.fill(0);
      }
    } else if (m.kind === "wrapped") {
      if (this.#unlock === null) throw new KeyringError("malformed", `${where}: a wrapped key in an unprotected keyring`);
      key = unwrapKek(this.#unlock, file.id, file.version, file.createdAt, m, where);
    }
    this.#entries.set(entryKey(file.id, file.version), { file, key });
  }

  /** KEK ids in this keyring, sorted. */
  ids(): string[] {
    return [...new Set([...this.#entries.values()].map((e) => e.file.id))].sort();
  }

  /** Every KEK version, sorted by id then version. No key material. */
  list(): KekInfo[] {
    return [...this.#entries.values()]
      .sort((a, b) => (a.file.id === b.file.id ? a.file.version - b.file.version : a.file.id < b.file.id ? -1 : 1))
      .map((e) => this.#info(e));
  }

  #primaryEntry(id: string): Entry | undefined {
    let best: Entry | undefined;
    for (const e of this.#entries.values()) {
      if (e.file.id === id && e.key !== null && (best === undefined || e.file.version > best.file.version)) best = e;
    }
    return best;
  }

  #info(e: Entry): KekInfo {
    const { id, version, createdAt, retiredAt } = e.file;
    const status = e.key === null ? "retired" : this.#primaryEntry(id) === e ? "primary" : "active";
    return { id, version, createdAt: new Date(createdAt), retiredAt: retiredAt === null ? null : new Date(retiredAt), status };
  }

  /** The primary version of KEK `id` (default: the keyring's default); throws "no-primary" when it has none. */
  primary(id: string = this.defaultId): PrimaryKek {
    const e = this.#primaryEntry(id);
    if (e === undefined) throw new KeyringError("no-primary", `keyring ${this.dir} has no active version of KEK "${id}"`);
    return { id, version: e.file.version, key: e.key!, createdAt: new Date(e.file.createdAt) };
  }

  /** The key of one version; throws "unknown-kek" or "retired" (a clear refusal, never a fallback). */
  key(id: string, version: number): SecretKey {
    const e = this.#entries.get(entryKey(id, version));
    if (e === undefined) throw new KeyringError("unknown-kek", `KEK "${id}" version ${version} is not in keyring ${this.dir}`);
    if (e.key === null) {
      const when = e.file.retiredAt === null ? "" : ` on ${new Date(e.file.retiredAt).toISOString()}`;
      throw new KeyringError("retired", `KEK "${id}" version ${version} was retired${when} and no longer decrypts`);
    }
    return e.key;
  }

  /** `key` as the resolver `openEnvelope` takes. */
  readonly resolveKek = (id: string, version: number): SecretKey => this.key(id, version);

  /** Adds a new primary version of KEK `id` (default: the keyring's default). Older versions keep decrypting. */
  async rotate(id: string = this.defaultId): Promise<KekInfo> {
    checkId(id);
    const versions = [...this.#entries.values()].filter((e) => e.file.id === id).map((e) => e.file.version);
    if (versions.length === 0 && id !== this.defaultId) {
      throw new KeyringError("unknown-kek", `keyring ${this.dir} has no KEK "${id}" (add one with addKek / keys init --id)`);
    }
    const next = Math.max(0, ...versions) + 1;
    if (next > MAX_KEK_VERSION) throw new KeyringError("bad-request", `KEK "${id}" has no versions left`);
    return this.#addVersion(id, next);
  }

  /** Adds a new KEK id with its version 1. */
  async addKek(id: string): Promise<KekInfo> {
    checkId(id);
    if (this.ids().includes(id)) throw new KeyringError("exists", `keyring ${this.dir} already has KEK "${id}"`);
    return this.#addVersion(id, 1);
  }

  async #addVersion(id: string, version: number): Promise<KekInfo> {
    const createdAt = this.#clock();
    const key = SecretKey.generate(32);
    const material = this.#unlock === null ? { kind: "plain" as const, key: key.exposeBytes() } : wrapKek(this.#unlock, id, version, createdAt, key);
    const file: KeyFile = { id, version, createdAt, retiredAt: null, material };
    try {
      await writeFileAtomic(path.join(this.dir, keyFileName(id, version)), serializeKeyFile(file), { mode: 0o600, exclusive: true });
    } catch (e) {
      key.destroy();
      if ((e as NodeJS.ErrnoException).code === "EEXIST") {
        throw new KeyringError("exists", `KEK "${id}" version ${version} was created meanwhile by another process; reopen the keyring and retry`);
      }
      throw e;
    }
    const entry: Entry = { file: { ...file, material: { kind: "erased" } }, key };
    this.#entries.set(entryKey(id, version), entry);
    return this.#info(entry);
  }

  /**
   * Retires a version: its key material is erased from disk and memory, and
   * data sealed under it no longer opens (re-wrap it first). The primary
   * cannot be retired (rotate first). Retiring a retired version is a no-op.
   */
  async retire(id: string, version: number): Promise<KekInfo> {
    const e = this.#entries.get(entryKey(id, version));
    if (e === undefined) throw new KeyringError("unknown-kek", `KEK "${id}" version ${version} is not in keyring ${this.dir}`);
    if (e.key === null) return this.#info(e);
    if (this.#primaryEntry(id) === e) throw new KeyringError("bad-request", `KEK "${id}" version ${version} is the primary: rotate before retiring it`);
    const file: KeyFile = { ...e.file, retiredAt: this.#clock(), material: { kind: "erased" } };
    await writeFileAtomic(path.join(this.dir, keyFileName(id, version)), serializeKeyFile(file), { mode: 0o600 });
    e.key.destroy();
    e.key = null;
    e.file = file;
    return this.#info(e);
  }

  /**
   * Seals a small secret (a TOTP seed, a token) under the default KEK's
   * primary, bound to `context` (e.g. "mfa:alice"): an envelope (docs/envelope.md)
   * whose one AAD field is SECRET_CONTEXT_FIELD. The wrap is counted by the
   * keyring's counter (`usage`, persistent by default) first.
   */
  async sealSecret(plaintext: Uint8Array, context: string): Promise<Uint8Array> {
    checkContext(context);
    const kek = this.primary();
    if (!(await this.usage.take(kek.id, kek.version))) {
      throw new EnvelopeError("key-limit", `KEK "${kek.id}" version ${kek.version} reached its wrap limit; rotate it`);
    }
    return sealEnvelope(plaintext, {
      cipher: "aes-256-gcm",
      kek,
      aadFields: [SECRET_CONTEXT_FIELD],
      attributes: { [SECRET_CONTEXT_FIELD]: context },
      usage: COUNTED,
    });
  }

  /**
   * Opens what `sealSecret` sealed, with the same context. Throws
   * EnvelopeError ("not-authentic" for a wrong context or tampering) or
   * KeyringError ("retired", "unknown-kek"). The caller should wipe the
   * returned bytes after use.
   */
  openSecret(sealed: Uint8Array, context: string): Uint8Array {
    checkContext(context);
    const header = readEnvelopeHeader(sealed);
    // An envelope without the context field would open under any context: not a sealed secret.
    if (header.aadFields.length !== 1 || header.aadFields[0] !== SECRET_CONTEXT_FIELD) {
      throw new EnvelopeError("not-authentic", "not a sealed secret (no context bound)");
    }
    return openEnvelope(sealed, { resolveKek: this.resolveKek, attributes: { [SECRET_CONTEXT_FIELD]: context } });
  }

  /**
   * Re-seals what `sealSecret` sealed under the default KEK's current
   * primary (after `rotate`, before `retire`), bound to the same context.
   * A version-1 envelope binds its wrapped key into the payload's AAD, so
   * this opens the secret and seals it afresh (a new data key); the
   * plaintext is wiped at once. A secret already under the primary is
   * authenticated and returned as it is (`resealed: false`, no wrap used).
   * Throws as `openSecret` does (a retired or unknown KEK, a wrong context,
   * tampering) and as `sealSecret` does (the wrap limit).
   */
  async resealSecret(sealed: Uint8Array, context: string): Promise<ResealedSecret> {
    const header = readEnvelopeHeader(sealed);
    const from = { id: header.kekId, version: header.kekVersion };
    const primary = this.primary();
    const to = { id: primary.id, version: primary.version };
    const plain = this.openSecret(sealed, context);
    try {
      if (from.id === to.id && from.version === to.version) return { sealed, from, to, resealed: false };
      return { sealed: await this.sealSecret(plain, context), from, to, resealed: true };
    } finally {
      plain.fill(0);
    }
  }

  /** Wipes every key held in memory; the keyring is unusable afterwards. */
  close(): void {
    for (const e of this.#entries.values()) e.key?.destroy();
    this.#unlock?.destroy();
  }

  /** What JSON output may show: never key material. */
  toJSON(): { dir: string; defaultId: string; protection: ProtectionKind; keks: KekInfo[] } {
    return { dir: this.dir, defaultId: this.defaultId, protection: this.protection, keks: this.list() };
  }
}

function checkContext(context: string): void {
  if (typeof context !== "string" || context.length === 0) throw new KeyringError("bad-request", "a secret's context must be a non-empty string");
}

async function unlockKeyFor(dir: string, protection: Protection, options: KeyringOptions): Promise<SecretKey | null> {
  if (protection.kind === "none") return null;
  let unlock: SecretKey;
  if (protection.kind === "passphrase") {
    if (options.passphrase === undefined) throw new KeyringError("locked", `keyring ${dir} is protected by a passphrase and none was given`);
    unlock = await deriveUnlockKey(options.passphrase, protection.salt, protection.scrypt);
  } else {
    if (options.unlockKey === undefined) throw new KeyringError("locked", `keyring ${dir} is protected by an unlock key and none was given`);
    unlock = SecretKey.from(options.unlockKey.exposeBytes());
  }
  if (!verifyCheck(unlock, protection.check)) {
    unlock.destroy();
    throw new KeyringError("wrong-secret", `wrong ${protection.kind === "passphrase" ? "passphrase" : "unlock key"} for keyring ${dir}`);
  }
  return unlock;
}
