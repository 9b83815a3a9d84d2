/**
 * TOTP verification for a user: a valid code is accepted once per
 * (user, time step); a second use of the same step is refused even within
 * the window.
 */
import { matchTotp, type TotpOptions } from "./totp.js";
import { MemoryReplayStore, type ReplayStore } from "./replay-store.js";
import type { SecretKey } from "../crypto/secret-key.js";

export type TotpVerdict =
  | { readonly valid: true; readonly timeStep: number }
  | { readonly valid: false; readonly reason: "invalid" | "replay" };

export class TotpVerifier {
  readonly #replay: ReplayStore;
  readonly #options: TotpOptions;

  constructor(options: { replay?: ReplayStore; totp?: TotpOptions } = {}) {
    this.#replay = options.replay ?? new MemoryReplayStore();
    this.#options = options.totp ?? {};
  }

  /** Checks `code` for `user` at `unixSeconds`; never throws for malformed input. */
  async verify(user: string, secret: SecretKey | Uint8Array, code: unknown, unixSeconds: number): Promise<TotpVerdict> {
    if (typeof user !== "string" || user.length === 0) return { valid: false, reason: "invalid" };
    const step = matchTotp(secret, code, unixSeconds, this.#options);
    if (step === null) return { valid: false, reason: "invalid" };
    const period = this.#options.period ?? 30;
    // After step+2 begins the step is outside every window, so the record can go.
    const expiresAt = (step + 2) * period;
    const fresh = await this.#replay.claim(user, step, expiresAt);
    return fresh ? { valid: true, timeStep: step } : { valid: false, reason: "replay" };
  }
}
