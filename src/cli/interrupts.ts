/**
 * Ending on SIGINT, SIGTERM or SIGHUP while files are being written. A
 * process ended by a signal runs no `finally`, so the temporary files of
 * atomic writes in flight (runtime/atomic-file.ts) would stay behind beside
 * their targets (a half-decrypted plaintext, a key, a wg-quick config), and
 * so would the lock files it holds (`mesh plan`'s DIR/.plan.json.lock):
 * while `body` runs, a signal removes them first, then ends the process with
 * 128 + the signal's number, as a shell reports it.
 */
import { removeTempFilesSync } from "../index.js";
import { releaseLocksSync } from "../runtime/file-lock.js";

const INTERRUPTS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

function onInterrupt(signal: NodeJS.Signals): void {
  removeTempFilesSync();
  releaseLocksSync();
  process.exit(INTERRUPTS[signal as keyof typeof INTERRUPTS] ?? 130);
}

export async function removingTempFilesOnInterrupt<T>(body: () => Promise<T>): Promise<T> {
  for (const s of Object.keys(INTERRUPTS)) process.on(s, onInterrupt);
  try {
    return await body();
  } finally {
    for (const s of Object.keys(INTERRUPTS)) process.off(s, onInterrupt);
  }
}
