// Preloaded (`node --import`) by tests that must interrupt a write at a known point: every
// FileHandle.sync() announces itself on stderr ("fsync-hangs") and never completes, so the
// process sits between "temporary file written" and "renamed into place". With
// HANG_FSYNC_AFTER=N the first N syncs complete as usual (each atomic write syncs its file and
// then its directory: two), so the hang comes N/2 whole writes in. Not a test file.
import { open } from "node:fs/promises";

const probe = await open(process.execPath, "r");
const proto = Object.getPrototypeOf(probe);
await probe.close();
const realSync = proto.sync;
let passes = Number(process.env.HANG_FSYNC_AFTER ?? 0);
proto.sync = function hangingSync() {
  if (passes-- > 0) return realSync.call(this);
  process.stderr.write("fsync-hangs\n");
  setInterval(() => {}, 1 << 30); // keeps the process alive while the promise never settles
  return new Promise(() => {});
};
