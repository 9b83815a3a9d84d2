/**
 * Replacing a file so that readers see the old content or the new, never a
 * torn mix, even across a crash: write a temporary file beside it, fsync,
 * rename over it, fsync the directory. The file keeps its permission bits;
 * a symlink is followed, so the link stays a link.
 */
import { randomBytes } from "node:crypto";
import { open, realpath, rename, rm, stat, type FileHandle } from "node:fs/promises";
import path from "node:path";

export async function writeFileAtomic(file: string, data: string): Promise<void> {
  const target = await realpath(file).catch(() => file);
  const dir = path.dirname(target);
  // An existing file keeps its mode; a new one gets the umask's default.
  const mode = await stat(target).then(
    (st) => st.mode & 0o7777,
    () => undefined,
  );
  // Same directory, so the rename never crosses a file system; a dot file, so
  // `fmt` run over the directory meanwhile does not pick it up.
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(tmp, "wx", mode ?? 0o666);
    await handle.writeFile(data, "utf8");
    if (mode !== undefined) await handle.chmod(mode); // open()'s mode is filtered by the umask
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, target);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDirectory(dir);
}

/** Make the rename durable; some platforms cannot open a directory, which only costs durability. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch {
    // not supported here (e.g. Windows)
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
