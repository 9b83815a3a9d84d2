/**
 * CSPRNG bytes drawn in blocks. Each call to the platform generator costs far
 * more than the bytes (a data key and two nonces per envelope cost more than
 * sealing a 1 KiB payload), so bytes are drawn 4 KiB at a time and handed out
 * once each; every byte handed out is zeroed in the pool at once, so the pool
 * never holds randomness that became a key or a nonce. Node's own
 * `crypto.randomUUID` caches entropy the same way.
 */

const POOL_BYTES = 4096;
/** The platform generator fills at most 65,536 bytes per call. */
const MAX_PER_CALL = 65_536;
const pool = new Uint8Array(POOL_BYTES);
let next = POOL_BYTES;

/** Fills `out` with fresh random bytes and returns it. */
export function fillRandom(out: Uint8Array): Uint8Array {
  if (out.length > POOL_BYTES / 8) {
    for (let at = 0; at < out.length; at += MAX_PER_CALL) globalThis.crypto.getRandomValues(out.subarray(at, at + MAX_PER_CALL));
    return out;
  }
  if (next + out.length > POOL_BYTES) {
    globalThis.crypto.getRandomValues(pool);
    next = 0;
  }
  const end = next + out.length;
  out.set(pool.subarray(next, end));
  pool.fill(0, next, end);
  next = end;
  return out;
}
