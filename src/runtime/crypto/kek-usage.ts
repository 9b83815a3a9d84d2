/**
 * The per-KEK message limit. Every wrap draws a random 96-bit nonce under
 * the KEK; NIST SP 800-38D section 8.3 caps random-nonce GCM at 2^32
 * invocations per key (collision probability below 2^-32). Data keys are
 * fresh per envelope and seal one payload each, so only KEKs need counting.
 */

export const MAX_WRAPS_PER_KEK = 2 ** 32;

export interface KekUsage {
  /** Counts one wrap under (id, version); false when the limit is reached (refuse and rotate). */
  take(kekId: string, kekVersion: number): boolean;
}

/**
 * A counter that may have to wait (for a lock, a file) before answering:
 * what streams, `rewrapStream` and `Keyring.sealSecret` accept.
 * `sealEnvelope` is synchronous and takes only a `KekUsage`.
 */
export interface AsyncKekUsage {
  take(kekId: string, kekVersion: number): boolean | Promise<boolean>;
}

/**
 * In-process counter. It only sees this process's wraps: a keyring shared by
 * several processes needs the persistent counter (FileKekUsage,
 * kek-usage-file.ts), which `Keyring` uses by default.
 */
export class MemoryKekUsage implements KekUsage {
  readonly #counts = new Map<string, number>();
  readonly limit: number;

  constructor(limit = MAX_WRAPS_PER_KEK) {
    this.limit = limit;
  }

  take(kekId: string, kekVersion: number): boolean {
    const key = `${kekVersion}\u0000${kekId}`;
    const used = this.#counts.get(key) ?? 0;
    if (used >= this.limit) return false;
    this.#counts.set(key, used + 1);
    return true;
  }

  count(kekId: string, kekVersion: number): number {
    return this.#counts.get(`${kekVersion}\u0000${kekId}`) ?? 0;
  }
}

/** The process-wide default used when the caller passes no counter. */
export const defaultKekUsage = new MemoryKekUsage();
