/**
 * TOTP secrets at rest: one file per enrolled user in the keyring's `mfa/`
 * directory, the secret sealed by the keyring (`sealSecret`, AES-256-GCM
 * under the default KEK's primary) bound to the user and the TOTP settings
 * (`secretContext`), so a file copied over another user's cannot be opened
 * as theirs, and settings edited in the file make it refuse to open.
 *
 * - File name: sha256 of the user name (hex), so any user name is a safe
 *   file name and names differing only in case stay apart on every file
 *   system. The file also carries the name, checked on load.
 * - Written atomically, mode 0600; a first enrolment is an exclusive
 *   creation, so two concurrent enrolments of one user cannot both win, and
 *   replacing a secret needs `force`.
 * - The secret leaves this module only as a SecretKey (redacting itself in
 *   logs and JSON) and once, at enrolment, for the caller to show.
 * - After `keys rotate`, `reseal()` moves every secret to the new primary
 *   KEK (`Keyring.resealSecret`), so the old version can be retired;
 *   `list()` says which KEK version each secret is sealed under, without
 *   opening any. Enrolling and resealing a user take one lock file
 *   (`mfa/enrollments.lock`, file-lock.ts), so a reseal can never write an
 *   old secret back over a concurrent `enroll --force`.
 */
import { createHash } from "node:crypto";
import { mkdir, readdir } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "../atomic-file.js";
import { EnvelopeError, readEnvelopeHeader } from "../crypto/envelope.js";
import { KeyringError, type Keyring } from "../crypto/keyring.js";
import { SecretKey } from "../crypto/secret-key.js";
import { FileLockTimeout, withFileLock, type FileLockOptions } from "../file-lock.js";
import { StateFileError, readStateFile } from "../state-file.js";
import { mfaEnrollEvent, type SecurityEventSink } from "./events.js";
import type { TotpOptions } from "./totp.js";

/** The directory, inside a keyring, of MFA secrets and state. */
export const MFA_DIR = "mfa";
/** Secret length: 160 bits, RFC 4226's recommendation and what authenticator apps expect for SHA-1. */
export const TOTP_SECRET_BYTES = 20;
/** The lock file, in MFA_DIR, that enrolling and resealing take per user. */
export const ENROLLMENTS_LOCK = "enrollments.lock";
const FORMAT = "swarm-policy-mfa-secret";
const MAX_USER_LENGTH = 256;
const SECRET_FILE = /^[0-9a-f]{64}\.json$/;
/** A secret file is well under a kilobyte. */
const MAX_SECRET_FILE_BYTES = 1024 * 1024;

/** Where a verifier gets a user's secret. */
export interface TotpSecretSource {
  /** The user's secret (a fresh SecretKey the caller destroys) and TOTP settings; null when not enrolled. */
  secretFor(user: string): Promise<{ secret: SecretKey; totp: Required<TotpOptions> } | null>;
}

/** Why an enrolment or a secret could not be handled. Messages never hold secret material. */
export class MfaEnrollmentError extends Error {
  readonly code: "bad-user" | "enrolled" | "malformed" | "busy";
  constructor(code: MfaEnrollmentError["code"], message: string) {
    super(message);
    this.name = "MfaEnrollmentError";
    this.code = code;
  }
}

/**
 * The user name, when it is one: a string of 1 to 256 characters without
 * control characters (they would forge lines in logs and events) and
 * without lone surrogates (as UTF-8 each becomes U+FFFD, so "x\ud800" and
 * "x\ufffd" would hash to one secret file); null otherwise.
 */
export function checkUserName(user: unknown): string | null {
  if (typeof user !== "string" || user.length === 0 || user.length > MAX_USER_LENGTH) return null;
  // With the u flag a surrogate pair is one code point, so \p{Cs} matches only lone halves.
  return /[\u0000-\u001f\u007f-\u009f\u2028\u2029]|\p{Cs}/u.test(user) ? null : user;
}

export interface Enrollment {
  readonly user: string;
  readonly createdAt: string;
  readonly totp: Required<TotpOptions>;
}

export interface EnrollOptions {
  /** Replace an existing secret (default false: an enrolled user is an error). */
  readonly force?: boolean;
  /** ms since the epoch (default Date.now). */
  readonly now?: number;
  /** TOTP settings (default SHA-1, 6 digits, 30 s: what every authenticator app supports). */
  readonly totp?: TotpOptions;
}

/**
 * What a secret is sealed to. Version 1 files bound the user only, so their TOTP settings could
 * be edited (8 digits down to 6, a 30 s period up to 300 s) without the seal noticing; version 2
 * binds the settings too. The prefixes differ ("mfa:" never starts "mfa-totp:"), so no version 1
 * context of any user name equals a version 2 one.
 */
function secretContext(version: 1 | 2, user: string, totp: Required<TotpOptions>): string {
  return version === 1 ? `mfa:${user}` : `mfa-totp:${JSON.stringify([user, totp.algorithm, totp.digits, totp.period])}`;
}

/** The file's version and settings, checked (a bad one is "malformed"). */
function docSettings(d: Record<string, unknown>, file: string): { version: 1 | 2; totp: Required<TotpOptions> } {
  const totp = { algorithm: d["algorithm"], digits: d["digits"], period: d["period"] };
  if (!validTotp(totp)) throw new MfaEnrollmentError("malformed", `${file}: bad TOTP settings`);
  return { version: d["version"] as 1 | 2, totp };
}

type KekRef = { readonly id: string; readonly version: number };

/** One enrolled user and the KEK version its secret is sealed under (read from the envelope header; nothing is opened). */
export interface EnrolledSecret {
  readonly user: string;
  readonly createdAt: string;
  readonly kek: KekRef;
}

/** What `reseal` did for one secret file; `error` holds a message without secret material. */
export interface ResealResult {
  readonly user: string;
  readonly status: "resealed" | "current" | "error";
  readonly from?: KekRef;
  readonly to?: KekRef;
  readonly error?: string;
}

function validTotp(t: Record<string, unknown>): t is Required<TotpOptions> {
  const { algorithm, digits, period } = t;
  return (
    (algorithm === "sha1" || algorithm === "sha256" || algorithm === "sha512") &&
    (digits === 6 || digits === 7 || digits === 8) &&
    typeof period === "number" &&
    Number.isInteger(period) &&
    period >= 1 &&
    period <= 300
  );
}

export class KeyringEnrollments implements TotpSecretSource {
  readonly #ring: Keyring;
  readonly #emit: SecurityEventSink;
  readonly #lockOptions: FileLockOptions;
  /** The directory of secret files (`<keyring>/mfa/users`). */
  readonly dir: string;

  /**
   * `onEvent` receives an `mfa-enroll` event for every enrolment; `lock`
   * tunes the enrolment lock (timeout, staleness; file-lock.ts defaults).
   */
  constructor(ring: Keyring, options: { onEvent?: SecurityEventSink; lock?: FileLockOptions } = {}) {
    this.#ring = ring;
    this.#emit = options.onEvent ?? (() => undefined);
    this.#lockOptions = options.lock ?? {};
    this.dir = path.join(ring.dir, MFA_DIR, "users");
  }

  /** Runs `fn` holding the enrolment lock (one writer of secret files at a time). */
  async #locked<T>(fn: () => Promise<T>): Promise<T> {
    const mfaDir = path.dirname(this.dir);
    await mkdir(mfaDir, { recursive: true, mode: 0o700 });
    try {
      return await withFileLock(path.join(mfaDir, ENROLLMENTS_LOCK), fn, this.#lockOptions);
    } catch (err) {
      if (err instanceof FileLockTimeout) throw new MfaEnrollmentError("busy", `MFA enrolments in ${mfaDir} are locked by another process; try again`);
      throw err;
    }
  }

  /**
   * Runs `fn` holding the enrolment lock that `enroll` and `reseal` seal under: `keys retire`
   * checks that no secret needs a version and retires it inside, so no enrolment or reseal can
   * seal a secret under that version between the check and the retirement.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.#locked(fn);
  }

  #file(user: string): string {
    return path.join(this.dir, `${createHash("sha256").update(user, "utf8").digest("hex")}.json`);
  }

  #user(user: unknown): string {
    const name = checkUserName(user);
    if (name === null) throw new MfaEnrollmentError("bad-user", "a user name is 1 to 256 characters of valid Unicode without control characters");
    return name;
  }

  /**
   * Enrols `user` with a fresh secret from the CSPRNG. Resolves to the
   * secret (for the one-time display; destroy it after) and the enrolment.
   */
  async enroll(user: string, options: EnrollOptions = {}): Promise<{ secret: SecretKey; enrollment: Enrollment; replaced: boolean }> {
    const name = this.#user(user);
    const totp: Required<TotpOptions> = { digits: options.totp?.digits ?? 6, period: options.totp?.period ?? 30, algorithm: options.totp?.algorithm ?? "sha1" };
    if (!validTotp(totp)) throw new RangeError("TOTP settings: algorithm sha1|sha256|sha512, 6 to 8 digits, a period of 1 to 300 s");
    return this.#locked(() => this.#enrollLocked(name, totp, options));
  }

  async #enrollLocked(name: string, totp: Required<TotpOptions>, options: EnrollOptions): Promise<{ secret: SecretKey; enrollment: Enrollment; replaced: boolean }> {
    const file = this.#file(name);
    // The primary as it is on disk now: `keys retire` checks and retires under this lock.
    await this.#ring.refresh();
    let replaced: boolean;
    try {
      replaced = await this.isEnrolled(name);
    } catch (err) {
      // A damaged secret file may be replaced deliberately; never silently.
      if (!(options.force === true && err instanceof MfaEnrollmentError && err.code === "malformed")) throw err;
      replaced = true;
    }
    if (replaced && options.force !== true) throw new MfaEnrollmentError("enrolled", `${name} is already enrolled; replacing the secret needs force`);
    const secret = SecretKey.generate(TOTP_SECRET_BYTES);
    try {
      const sealed = await this.#ring.sealSecret(secret.exposeBytes(), secretContext(2, name, totp));
      const enrollment: Enrollment = { user: name, createdAt: new Date(options.now ?? Date.now()).toISOString(), totp };
      const doc = {
        format: FORMAT,
        version: 2,
        user: name,
        created_at: enrollment.createdAt,
        algorithm: totp.algorithm,
        digits: totp.digits,
        period: totp.period,
        sealed: Buffer.from(sealed).toString("base64"),
      };
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      try {
        await writeFileAtomic(file, JSON.stringify(doc, null, 2) + "\n", { mode: 0o600, exclusive: !replaced });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST") throw new MfaEnrollmentError("enrolled", `${name} was enrolled meanwhile by another process`);
        throw err;
      }
      this.#emit(mfaEnrollEvent({ at: options.now ?? Date.now(), user: name, replaced }));
      return { secret, enrollment, replaced };
    } catch (err) {
      secret.destroy();
      throw err;
    }
  }

  async isEnrolled(user: string): Promise<boolean> {
    return (await this.#readDoc(this.#user(user))) !== null;
  }

  async #readDoc(name: string): Promise<Record<string, unknown> | null> {
    return this.#readFile(this.#file(name), name);
  }

  /** The secret document in `file`, which must belong to `name`; null when there is no file. */
  async #readFile(file: string, name: string | undefined): Promise<Record<string, unknown> | null> {
    let text: string;
    try {
      text = await readStateFile(file, MAX_SECRET_FILE_BYTES);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      if (err instanceof StateFileError) throw new MfaEnrollmentError("malformed", err.message);
      throw err;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new MfaEnrollmentError("malformed", `${file} is not valid JSON`);
    }
    const d = doc as Record<string, unknown>;
    if (typeof doc !== "object" || doc === null || d["format"] !== FORMAT || (d["version"] !== 1 && d["version"] !== 2)) throw new MfaEnrollmentError("malformed", `${file}: unknown format`);
    if (typeof d["user"] !== "string" || (name !== undefined && d["user"] !== name) || this.#file(d["user"]) !== file) {
      throw new MfaEnrollmentError("malformed", `${file} belongs to another user`);
    }
    if (typeof d["sealed"] !== "string") throw new MfaEnrollmentError("malformed", `${file}: no sealed secret`);
    return d;
  }

  /** The secret files present, sorted (other names in the directory are not ours). */
  async #files(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((n) => SECRET_FILE.test(n)).sort().map((n) => path.join(this.dir, n));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
  }

  #kekOf(d: Record<string, unknown>, file: string): KekRef {
    try {
      const h = readEnvelopeHeader(Buffer.from(d["sealed"] as string, "base64"));
      return { id: h.kekId, version: h.kekVersion };
    } catch (err) {
      if (err instanceof EnvelopeError) throw new MfaEnrollmentError("malformed", `${file}: the sealed secret is not an envelope (${err.code})`);
      throw err;
    }
  }

  /**
   * Every enrolled user with the KEK version its secret is sealed under,
   * sorted by file. Opens nothing (no key is needed); a damaged file throws
   * MfaEnrollmentError "malformed", so a caller deciding whether a KEK
   * version is still needed never decides on partial knowledge.
   */
  async list(): Promise<EnrolledSecret[]> {
    const out: EnrolledSecret[] = [];
    for (const file of await this.#files()) {
      const d = await this.#readFile(file, undefined);
      if (d === null) continue; // removed meanwhile
      out.push({ user: d["user"] as string, createdAt: String(d["created_at"]), kek: this.#kekOf(d, file) });
    }
    return out;
  }

  /**
   * Re-seals every enrolled secret under the default KEK's current primary
   * (run after `Keyring.rotate`, before `retire`): each file is read,
   * resealed (`Keyring.resealSecret`) and replaced atomically under the
   * enrolment lock; a secret already under the primary is left as it is.
   * A file that cannot be resealed (damaged, tampered, its KEK retired) is
   * reported and left unchanged, and the others are still processed.
   */
  async reseal(): Promise<ResealResult[]> {
    const results: ResealResult[] = [];
    for (const file of await this.#files()) {
      // The name for the report, read before the lock so a busy lock still names the user.
      let user = await this.#readFile(file, undefined).then(
        (d) => (d?.["user"] as string | undefined) ?? path.basename(file),
        () => path.basename(file),
      );
      try {
        const result = await this.#locked(async () => {
          await this.#ring.refresh();
          const d = await this.#readFile(file, undefined);
          if (d === null) return null;
          user = d["user"] as string;
          const { version, totp } = docSettings(d, file);
          const r = await this.#ring.resealSecret(Buffer.from(d["sealed"] as string, "base64"), secretContext(version, user, totp));
          if (r.resealed) {
            const doc = { ...d, sealed: Buffer.from(r.sealed).toString("base64") };
            await writeFileAtomic(file, JSON.stringify(doc, null, 2) + "\n", { mode: 0o600 });
          }
          return { user, status: r.resealed ? ("resealed" as const) : ("current" as const), from: r.from, to: r.to };
        });
        if (result !== null) results.push(result);
      } catch (err) {
        if (!(err instanceof MfaEnrollmentError || err instanceof EnvelopeError || err instanceof KeyringError)) throw err;
        results.push({ user, status: "error", error: err.message });
      }
    }
    return results;
  }

  async secretFor(user: string): Promise<{ secret: SecretKey; totp: Required<TotpOptions> } | null> {
    const name = checkUserName(user);
    if (name === null) return null;
    const d = await this.#readDoc(name);
    if (d === null) return null;
    const { version, totp } = docSettings(d, this.#file(name));
    // A server opened the keyring at start: versions rotated in or retired since by other processes.
    await this.#ring.refresh();
    // Throws EnvelopeError / KeyringError when the file was tampered with (its settings too, from version 2), swapped, or its KEK retired.
    const bytes = this.#ring.openSecret(Buffer.from(d["sealed"] as string, "base64"), secretContext(version, name, totp));
    const secret = SecretKey.from(bytes);
    bytes.fill(0);
    return { secret, totp };
  }
}
