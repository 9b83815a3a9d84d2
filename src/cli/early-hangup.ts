/**
 * `serve` takes SIGHUP as "reload the policies". Until a process has a
 * listener for it, SIGHUP's default action ends the process (exit 129), and
 * serve's own listener exists only once every module of the CLI is loaded and
 * the verb is running. bin.ts holds hangups from its first statement, before
 * it loads the rest, and serve takes the one held (if any) when it installs
 * its own listener, so `kill -HUP` just after a (re)start is a reload.
 */
let held = false;
const hold = (): void => void (held = true);

/** From now on a SIGHUP is noted, not the end of the process. */
export function holdEarlyHangups(): void {
  process.on("SIGHUP", hold);
}

/**
 * Whether a SIGHUP arrived while held; stops holding. Call it after installing
 * the listener that takes over, so no moment is left without one.
 */
export function takeEarlyHangup(): boolean {
  process.off("SIGHUP", hold);
  const was = held;
  held = false;
  return was;
}
