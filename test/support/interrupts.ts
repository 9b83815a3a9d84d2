import type { ChildProcess } from "node:child_process";

/** The signals a key verb must clean up after, with the exit code it then ends with (128 + n). */
export const INTERRUPTS = [
  ["SIGINT", 130],
  ["SIGTERM", 143],
  ["SIGHUP", 129],
] as const;

/**
 * Once `child` writes `marker` on its stderr (a hang hook such as hang-fsync.mjs announcing
 * that the write is in progress), send it `signal`. Waits on the condition, never on a time;
 * rejects, naming `before`, when the child ends before the marker.
 */
export function signalAtMarker(child: ChildProcess, marker: string, signal: NodeJS.Signals, before: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let err = "";
    let sent = false;
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      if (!sent && err.includes(marker)) {
        sent = true;
        child.kill(signal);
        resolve();
      }
    });
    child.on("exit", () => reject(new Error(`ended ${before}: ${err}`)));
  });
}
