/**
 * Files that appear whole or not at all. Data goes to a temporary file in the
 * target's directory (so the rename never crosses a file system), is fsynced,
 * then renamed over the target (or hard-linked, for exclusive creation) and
 * the directory is fsynced. On any failure the temporary file is removed, so
 * a failed write (or a failed decryption streaming into an `AtomicFile`)
 * leaves nothing behind and the old content stays.
 *
 * Modes: an explicit `mode` is applied with chmod, so the umask can neither
 * widen nor narrow it (key files are 0600). Without one, a file being
 * replaced keeps its permission bits and a new one gets the umask's default.
 *
 * Symlinks: by default an output path that is itself a symbolic link is
 * refused (`OutputIsSymlinkError`), so a link planted where a verb will write
 * plaintext or key material cannot redirect it elsewhere (side-stepping the
 * kernel's protected_symlinks, since nothing opens the link itself). Without
 * `followSymlinks` nothing resolves the path: the temporary file is created
 * with O_EXCL beside the name and renamed over the name, and rename replaces
 * a link planted after the check rather than following it (link(2), for
 * exclusive creation, fails on it with EEXIST). `followSymlinks: true` (for
 * `fmt`, rewriting a policy file reached through a link) writes to the link's
 * target, so the link stays a link.
 *
 * Special files: an output path (or a followed link's target) that exists and
 * is not a regular file (/dev/null, a FIFO, a directory) is refused with
 * `OutputNotRegularFileError` before anything is written: the rename would
 * replace a device or FIFO with a regular file holding the output.
 *
 * A process ended by a signal runs no `finally` and no abort: whoever owns
 * the process calls `removeTempFilesSync` from its signal handler (the CLI's
 * key verbs do, on SIGINT, SIGTERM and SIGHUP), so an interrupted `decrypt`
 * leaves no half-written plaintext behind.
 *
 * A process killed outright (SIGKILL, the OOM killer, a power cut) cleans up
 * nothing: its temporary files stay, dot files the readers of these files
 * never take for the real one. The next write of the same target removes
 * them (`removeStaleTemps`: the temporary files of that target whose process
 * is gone). That matters beyond tidiness: an exclusive creation killed
 * between its link and the removal of the temporary file leaves a second
 * name for the new file's inode, so a key file later retired (replaced by
 * one without key material) kept its key under that name.
 */
import { randomBytes } from "node:crypto";
import { rmSync, type Stats } from "node:fs";
import { link, lstat, open, readdir, realpath, rename, rm, stat, type FileHandle } from "node:fs/promises";
import path from "node:path";

/** Temporary files of AtomicFiles neither committed nor aborted yet. */
const liveTemps = new Set<string>();

/**
 * Removes, synchronously, the temporary file of every AtomicFile not yet
 * committed or aborted; for a signal handler about to end the process.
 * Returns how many there were.
 */
export function removeTempFilesSync(): number {
  const n = liveTemps.size;
  for (const temp of liveTemps) {
    try {
      rmSync(temp, { force: true });
    } catch {
      // on the way out: nothing more to do
    }
  }
  liveTemps.clear();
  return n;
}

export interface AtomicWriteOptions {
  /** Permission bits of the file, applied exactly. Default: the replaced file's, else the umask's default. */
  readonly mode?: number;
  /** Fail with EEXIST instead of replacing an existing file (a rename cannot do that; a hard link can). */
  readonly exclusive?: boolean;
  /**
   * Write to the file a symlink at the target points to (the link stays a link). Default false:
   * a target that is a symlink is refused with `OutputIsSymlinkError` and nothing is written.
   */
  readonly followSymlinks?: boolean;
}

/** The output path is a symbolic link and the writer does not follow links: nothing was written. */
export class OutputIsSymlinkError extends Error {
  readonly code = "output-is-symlink";
  /** The output path as given. */
  readonly path: string;
  constructor(file: string) {
    super(`${file} is a symbolic link: refusing to write through it (remove the link, or name the file itself)`);
    this.name = "OutputIsSymlinkError";
    this.path = file;
  }
}

/**
 * The output path names something other than a regular file (a device such as /dev/null, a FIFO,
 * a socket, a directory): nothing was written. A rename would replace it (as root, /dev/null
 * would become a regular file holding the output) or fail only after the whole output was written.
 */
export class OutputNotRegularFileError extends Error {
  readonly code = "output-not-regular-file";
  /** The output path as given. */
  readonly path: string;
  constructor(file: string, what: string) {
    super(`${file} is ${what}: refusing to replace it (name a regular file)`);
    this.name = "OutputNotRegularFileError";
    this.path = file;
  }
}

function notRegular(st: Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return "a directory";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isFIFO()) return "a FIFO";
  if (st.isSocket()) return "a socket";
  return "not a regular file";
}

function tempName(target: string): string {
  // A dot file, so tools walking the directory meanwhile (fmt, a keyring load) skip it.
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
}

/**
 * A fresh temporary name beside `target`, held as live until `releaseTempName`: a signal handler's
 * `removeTempFilesSync` removes it, and no `removeStaleTemps` of this process takes it meanwhile.
 * For writers that move a temporary file into place themselves (file-lock.ts).
 */
export function reserveTempName(target: string): string {
  const temp = tempName(target);
  liveTemps.add(temp);
  return temp;
}

/** The temporary name is no longer in use (the file was moved into place or removed). */
export function releaseTempName(temp: string): void {
  liveTemps.delete(temp);
}

/** What follows `.<target's name>.` in the name of one of its temporary files (tempName). */
const TEMP_SUFFIX = /^(\d{1,10})\.[0-9a-f]{12}\.tmp$/;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}

/**
 * Removes the temporary files of `target` (named as tempName names them) left by processes that
 * are gone, killed before they could commit or abort; returns the names removed. Our own pid
 * counts as gone for a temporary file this process does not hold (an earlier process with our
 * pid: a restarted container is pid 1 again). Best effort: a directory that cannot be listed or a
 * file that cannot be removed is left as it is. Not across pid namespaces: a process of another
 * container sharing the directory looks gone, and its write in flight would fail (not corrupt).
 */
export async function removeStaleTemps(target: string): Promise<string[]> {
  const dir = path.dirname(target);
  const prefix = `.${path.basename(target)}.`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = TEMP_SUFFIX.exec(name.slice(prefix.length));
    if (m === null) continue;
    const temp = path.join(dir, name);
    const pid = Number(m[1]);
    if (liveTemps.has(temp) || (pid !== process.pid && processAlive(pid))) continue;
    try {
      await rm(temp); // not recursive: only a file (or a link, itself) goes
      removed.push(name);
    } catch {
      // gone meanwhile, or not ours to remove
    }
  }
  return removed;
}

/** Make a rename or link durable; some platforms cannot open a directory, which only costs durability. */
export async function syncDirectory(dir: string): Promise<void> {
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

/**
 * A file being written that becomes visible at `target` only on `commit()`.
 * `abort()` (or any failed commit) removes the temporary file.
 */
export class AtomicFile {
  readonly target: string;
  readonly temp: string;
  readonly #exclusive: boolean;
  #handle: FileHandle | undefined;
  #done = false;
  /** Bytes written so far. */
  written = 0;

  private constructor(target: string, temp: string, handle: FileHandle, exclusive: boolean) {
    this.target = target;
    this.temp = temp;
    this.#handle = handle;
    this.#exclusive = exclusive;
  }

  static async create(target: string, options: AtomicWriteOptions = {}): Promise<AtomicFile> {
    let resolved = target;
    let existingMode: number | undefined;
    const absent = (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return undefined;
      throw err;
    };
    let st: Stats | undefined;
    if (options.followSymlinks === true) {
      // The only place a link is followed.
      resolved = await realpath(target).catch(() => target);
      st = await stat(resolved).catch(absent);
    } else {
      st = await lstat(target).catch(absent);
      if (st?.isSymbolicLink()) throw new OutputIsSymlinkError(target);
    }
    const what = st === undefined ? undefined : notRegular(st);
    if (what !== undefined) throw new OutputNotRegularFileError(target, what);
    if (st !== undefined) existingMode = st.mode & 0o7777;
    const mode = options.mode ?? existingMode;
    await removeStaleTemps(resolved);
    // Known as live before it exists, so a sweep running meanwhile in this process never takes it.
    const temp = reserveTempName(resolved);
    let handle: FileHandle;
    try {
      handle = await open(temp, "wx", mode ?? 0o666);
    } catch (err) {
      liveTemps.delete(temp);
      throw err;
    }
    try {
      if (mode !== undefined) await handle.chmod(mode); // open()'s mode is filtered by the umask
    } catch (err) {
      await handle.close().catch(() => undefined);
      await rm(temp, { force: true });
      liveTemps.delete(temp);
      throw err;
    }
    return new AtomicFile(resolved, temp, handle, options.exclusive === true);
  }

  async write(data: Uint8Array | string): Promise<void> {
    if (this.#handle === undefined) throw new Error("atomic file is closed");
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    let at = 0;
    while (at < bytes.length) {
      const { bytesWritten } = await this.#handle.write(bytes, at, bytes.length - at);
      at += bytesWritten;
    }
    this.written += bytes.length;
  }

  /** fsync, close, move into place, fsync the directory. Removes the temporary file if any step fails. */
  async commit(): Promise<void> {
    if (this.#done || this.#handle === undefined) throw new Error("atomic file already committed or aborted");
    const handle = this.#handle;
    try {
      await handle.sync();
      await handle.close();
      this.#handle = undefined;
      if (this.#exclusive) {
        await link(this.temp, this.target);
        await rm(this.temp, { force: true });
      } else {
        await rename(this.temp, this.target);
      }
      liveTemps.delete(this.temp);
      this.#done = true;
    } catch (err) {
      await this.abort();
      throw err;
    }
    await syncDirectory(path.dirname(this.target));
  }

  /** Closes and removes the temporary file; the target is untouched. Safe to call twice. */
  async abort(): Promise<void> {
    this.#done = true;
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close().catch(() => undefined);
    await rm(this.temp, { force: true });
    liveTemps.delete(this.temp);
  }
}

/** Write `data` to `file` atomically (see the top of this file). */
export async function writeFileAtomic(file: string, data: Uint8Array | string, options: AtomicWriteOptions = {}): Promise<void> {
  const out = await AtomicFile.create(file, options);
  try {
    await out.write(data);
  } catch (err) {
    await out.abort();
    throw err;
  }
  await out.commit();
}
