// Preloaded (`node --import`) by tests that must interrupt a write at a known point: every
// FileHandle.sync() announces itself on stderr ("fsync-hangs") and never completes, so the
// process sits between "temporary file written" and "renamed into place". Not a test file.
import { open } from "node:fs/promises";

const probe = await open(process.execPath, "r");
const proto = Object.getPrototypeOf(probe);
await probe.close();
proto.sync = function hangingSync() {
  process.stderr.write("fsync-hangs\n");
  setInterval(() => {}, 1 << 30); // keeps the process alive while the promise never settles
  return new Promise(() => {});
};
