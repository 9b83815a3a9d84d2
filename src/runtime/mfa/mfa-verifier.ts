/**
 * verify(user, code): the whole MFA check (issue #4 "MFA"). In order:
 *
 * 1. The user name must be one (enrollments.ts `checkUserName`) and
 *    enrolled; otherwise a failure ("invalid" / "not-enrolled") that touches
 *    no store, unless `unenrolledLockout` is given: then a name that is not
 *    enrolled is counted and locked there like an enrolled one.
 * 2. Lockout (lockout.ts `beginAttempt`, one atomic store update): a locked
 *    user is refused without the code being looked at; otherwise the attempt
 *    is counted as a failure up front, so parallel guesses all count.
 * 3. TOTP with one step either side, each (user, step) accepted at most once
 *    (verifier.ts over the replay store). Malformed codes, of any type, are
 *    "invalid", never a throw.
 * 4. A success clears the user's lockout record and yields `verifiedAt` and
 *    the `context.mfa.verified_at` access policies read (`require mfa
 *    within D`, spec/LANGUAGE.md section 4).
 *
 * Every attempt emits one `mfa-verify` event, and a failure that starts a
 * lock one `mfa-lockout` event (events.ts); never the code or the secret.
 * A store or keyring that fails makes `verify` reject (fail closed), after
 * a failure event with reason "error": an unreachable store never turns
 * into a success.
 */
import type { SecretKey } from "../crypto/secret-key.js";
import { checkUserName, type TotpSecretSource } from "./enrollments.js";
import { mfaLockoutEvent, mfaVerifyEvent, type MfaFailureReason, type SecurityEventSink } from "./events.js";
import { MemoryLockoutStore, beginAttempt, lockoutPolicy, type LockoutPolicy, type LockoutState, type LockoutStore } from "./lockout.js";
import { MemoryReplayStore, type ReplayStore } from "./replay-store.js";
import { TotpVerifier } from "./verifier.js";
import { refuseUnknownOptions } from "../option-keys.js";

export interface MfaVerifierOptions {
  /** Where enrolled users' secrets come from (e.g. KeyringEnrollments). */
  readonly secrets: TotpSecretSource;
  /** Used (user, step) pairs; default in memory. */
  readonly replay?: ReplayStore;
  /** Failure counters and locks; default in memory. */
  readonly lockout?: LockoutStore;
  /**
   * Counts the attempts for names that are not enrolled, with the same
   * policy, so that a lock starting (`retryAfterMs`) and `locked` answer
   * alike for enrolled users and made-up names: a caller that maps
   * "not-enrolled" to "invalid" then reveals nobody (the server). Anyone
   * may make names up, so give it a store of its own, bounded
   * (`new MemoryLockoutStore(clock, { maxRecords })`). Default: none, and
   * a name that is not enrolled touches no store.
   */
  readonly unenrolledLockout?: LockoutStore;
  /** Failures before a lock, lock lengths (docs/mfa.md "Lockout"). */
  readonly lockoutPolicy?: Partial<LockoutPolicy>;
  /** Receives every security event. */
  readonly onEvent?: SecurityEventSink;
  /** ms since the epoch (default Date.now). */
  readonly clock?: () => number;
}

const MFA_VERIFIER_OPTION_KEYS: readonly (keyof MfaVerifierOptions)[] = ["secrets", "replay", "lockout", "unenrolledLockout", "lockoutPolicy", "onEvent", "clock"];

export type MfaVerifyResult =
  | {
      readonly valid: true;
      readonly user: string;
      /** RFC 3339 time of the verification. */
      readonly verifiedAt: string;
      /** What to merge into an access request's context. */
      readonly context: { readonly mfa: { readonly verified_at: string } };
    }
  | {
      readonly valid: false;
      readonly reason: MfaFailureReason;
      /** While locked (or when this failure started a lock): ms until the next attempt counts. */
      readonly retryAfterMs?: number;
    };

export interface VerifyOptions {
  /** The client's address, recorded in events as `source.ip`. */
  readonly sourceIp?: string;
}

type Begun = { state: LockoutState | undefined; locked: boolean; lockedNow: boolean };

export class MfaVerifier {
  readonly #secrets: TotpSecretSource;
  readonly #replay: ReplayStore;
  readonly #lockout: LockoutStore;
  readonly #unenrolledLockout: LockoutStore | undefined;
  readonly #policy: Required<LockoutPolicy>;
  readonly #emit: SecurityEventSink;
  readonly #clock: () => number;

  constructor(options: MfaVerifierOptions) {
    // A misspelt `replay` or `lockout` store would fall back to one in this process's memory.
    refuseUnknownOptions("MfaVerifier", options, MFA_VERIFIER_OPTION_KEYS);
    this.#secrets = options.secrets;
    this.#clock = options.clock ?? Date.now;
    this.#replay = options.replay ?? new MemoryReplayStore(() => this.#clock() / 1000);
    this.#lockout = options.lockout ?? new MemoryLockoutStore(this.#clock);
    this.#unenrolledLockout = options.unenrolledLockout;
    this.#policy = lockoutPolicy(options.lockoutPolicy);
    this.#emit = options.onEvent ?? (() => undefined);
  }

  /** Checks `code` for `user`; never throws for malformed input (rejects only when a store or the keyring fails). */
  async verify(user: unknown, code: unknown, options: VerifyOptions = {}): Promise<MfaVerifyResult> {
    const at = this.#clock();
    const sourceIp = typeof options.sourceIp === "string" ? options.sourceIp : undefined;
    const name = checkUserName(user);
    const fail = (reason: MfaFailureReason, extra: { failures?: number; retryAfterMs?: number } = {}): MfaVerifyResult => {
      this.#emit(mfaVerifyEvent({ at, user: name ?? undefined, outcome: "failure", reason, ...(sourceIp === undefined ? {} : { sourceIp }), ...extra }));
      return { valid: false, reason, ...(extra.retryAfterMs === undefined ? {} : { retryAfterMs: extra.retryAfterMs }) };
    };
    if (name === null) return fail("invalid");
    let failed: MfaFailureReason | null = null;
    const failOnce = (reason: MfaFailureReason, extra?: { failures?: number; retryAfterMs?: number }) => {
      failed = reason;
      return fail(reason, extra);
    };
    try {
      const enrolled = await this.#secrets.secretFor(name);
      if (enrolled === null) {
        if (this.#unenrolledLockout === undefined) return failOnce("not-enrolled");
        const begun = await this.#begin(this.#unenrolledLockout, name, at);
        return begun.locked ? failOnce("locked", { retryAfterMs: Math.max(0, begun.state!.lockedUntil - at) }) : this.#failed(name, begun, "not-enrolled", at, sourceIp, failOnce);
      }
      try {
        return await this.#attempt(name, enrolled.secret, enrolled.totp, code, at, sourceIp, failOnce);
      } finally {
        enrolled.secret.destroy();
      }
    } catch (err) {
      // A tampered secret file or a store that went away is worth a SIEM's attention too.
      if (failed === null) {
        try {
          fail("error");
        } catch {
          // the sink failing as well changes nothing: the attempt is refused either way
        }
      }
      throw err;
    }
  }

  async #attempt(
    name: string,
    secret: SecretKey,
    totp: { digits: 6 | 7 | 8; period: number; algorithm: "sha1" | "sha256" | "sha512" },
    code: unknown,
    at: number,
    sourceIp: string | undefined,
    fail: (reason: MfaFailureReason, extra?: { failures?: number; retryAfterMs?: number }) => MfaVerifyResult,
  ): Promise<MfaVerifyResult> {
    const begun = await this.#begin(this.#lockout, name, at);
    if (begun.locked) return fail("locked", { retryAfterMs: Math.max(0, begun.state!.lockedUntil - at) });

    const verdict = await new TotpVerifier({ replay: this.#replay, totp }).verify(name, secret, code, Math.floor(at / 1000));
    if (verdict.valid) {
      await this.#lockout.update(name, () => undefined);
      const verifiedAt = new Date(at).toISOString();
      this.#emit(mfaVerifyEvent({ at, user: name, outcome: "success", ...(sourceIp === undefined ? {} : { sourceIp }) }));
      return { valid: true, user: name, verifiedAt, context: { mfa: { verified_at: verifiedAt } } };
    }
    return this.#failed(name, begun, verdict.reason, at, sourceIp, fail);
  }

  /** Counts one attempt up front in `store` (lockout.ts `beginAttempt`, one atomic update). */
  async #begin(store: LockoutStore, name: string, at: number): Promise<Begun> {
    let begun: Begun | undefined;
    await store.update(name, (current) => {
      begun = beginAttempt(current, at, this.#policy);
      return begun.state;
    });
    if (begun === undefined) throw new Error("lockout store did not apply the update");
    return begun;
  }

  /** A counted failure: its event, and the lockout event when it started a lock. */
  #failed(
    name: string,
    begun: Begun,
    reason: MfaFailureReason,
    at: number,
    sourceIp: string | undefined,
    fail: (reason: MfaFailureReason, extra?: { failures?: number; retryAfterMs?: number }) => MfaVerifyResult,
  ): MfaVerifyResult {
    const state = begun.state!;
    const result = fail(reason, { failures: state.failures, ...(begun.lockedNow ? { retryAfterMs: state.lockedUntil - at } : {}) });
    if (begun.lockedNow) {
      this.#emit(mfaLockoutEvent({ at, user: name, failures: state.failures, lockedUntil: state.lockedUntil, ...(sourceIp === undefined ? {} : { sourceIp }) }));
    }
    return result;
  }
}
