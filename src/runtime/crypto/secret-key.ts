/**
 * SecretKey: key bytes behind a wrapper that redacts itself everywhere a
 * value is usually printed (JSON, util.inspect / console.log, template
 * strings), so key material cannot leak through a log line by accident.
 */

import { fillRandom } from "./random-pool.js";

const REDACTED = "SecretKey(<redacted>)";
// The well-known symbol node:util uses; Symbol.for keeps this file portable.
const INSPECT = Symbol.for("nodejs.util.inspect.custom");

export class SecretKey {
  readonly #bytes: Uint8Array;
  #destroyed = false;

  private constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  /** Wraps a copy of `bytes` (the caller may wipe its own buffer afterwards). */
  static from(bytes: Uint8Array): SecretKey {
    return new SecretKey(new Uint8Array(bytes)); // a copy (Uint8Array.from would go through the iterator)
  }

  /** A fresh key of `length` bytes (default 32, AES-256) from the platform CSPRNG. */
  static generate(length = 32): SecretKey {
    if (!Number.isInteger(length) || length < 1 || length > 1024) {
      throw new RangeError("secret key length must be an integer from 1 to 1024");
    }
    return new SecretKey(fillRandom(new Uint8Array(length)));
  }

  /** Key length in bytes (not secret). */
  get length(): number {
    return this.#bytes.length;
  }

  /**
   * The raw bytes, for handing to a cipher. Named loudly so that every use is
   * easy to find in review; never log or serialise the result.
   */
  exposeBytes(): Uint8Array {
    if (this.#destroyed) throw new Error("secret key was destroyed");
    return this.#bytes;
  }

  /** Overwrites the bytes with zeros; later use throws. */
  destroy(): void {
    this.#bytes.fill(0);
    this.#destroyed = true;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [INSPECT](): string {
    return REDACTED;
  }
}
