// Preloaded (`node --import`) by tests that must kill a process at a known point of taking a lock:
// every FileHandle.writeFile() announces itself on stderr ("writefile-hangs") and never completes,
// so the process sits between creating a file and writing its content. Not a test file.
import { open } from "node:fs/promises";

const probe = await open(process.execPath, "r");
const proto = Object.getPrototypeOf(probe);
await probe.close();
proto.writeFile = function hangingWriteFile() {
  process.stderr.write("writefile-hangs\n");
  setInterval(() => {}, 1 << 30); // keeps the process alive while the promise never settles
  return new Promise(() => {});
};
