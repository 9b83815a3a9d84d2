/**
 * A lock file for read-modify-write of a small state file shared by
 * processes on one machine (the CLI runs one process per `mfa verify`, and
 * two verifications of one code must not both read "unused"; two processes
 * reserving wraps under one KEK must not both read the same count).
 *
 * The lock is a file created exclusively (O_EXCL) holding the owner's pid
 * and a random token. It is taken over when its owner is gone (no process
 * with that pid) or when it is older than `staleMs` (a hung owner): it is
 * renamed away first, so of two processes that found it stale only one
 * removes it. Release removes the file only while it still holds our token,
 * so a lock taken over from us is never removed by us. Not a lock across
 * machines (NFS): a shared store (Redis) is the answer there.
 */
import { randomBytes } from "node:crypto";
import { open, readFile, rename, rm, stat } from "node:fs/promises";

export interface FileLockOptions {
  /** Give up after this long (ms, default 5000). */
  readonly timeoutMs?: number;
  /** A lock older than this is taken over (ms, default 30000). */
  readonly staleMs?: number;
}

/** The lock could not be taken in time. */
export class FileLockTimeout extends Error {
  constructor(file: string) {
    super(`${file} is held by another process`);
    this.name = "FileLockTimeout";
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}

async function takeOverIfStale(file: string, staleMs: number): Promise<void> {
  let text: string;
  let mtimeMs: number;
  try {
    [text, mtimeMs] = await Promise.all([readFile(file, "utf8"), stat(file).then((s) => s.mtimeMs)]);
  } catch {
    return; // gone meanwhile: just try again
  }
  const pid = Number(text.split(" ", 1)[0]);
  const ownerGone = Number.isInteger(pid) && pid > 0 && pid !== process.pid && !alive(pid);
  // A lock still being written (empty) is young; only age makes it stale.
  if (!ownerGone && Date.now() - mtimeMs <= staleMs) return;
  const aside = `${file}.stale.${randomBytes(6).toString("hex")}`;
  try {
    await rename(file, aside);
  } catch {
    return; // someone else took it over first
  }
  await rm(aside, { force: true });
}

/** Runs `fn` holding the lock `file`; the lock is released however `fn` ends. */
export async function withFileLock<T>(file: string, fn: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const staleMs = options.staleMs ?? 30_000;
  const token = `${process.pid} ${randomBytes(12).toString("hex")}\n`;
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(file, "wx", 0o600);
      try {
        await handle.writeFile(token);
      } finally {
        await handle.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    await takeOverIfStale(file, staleMs);
    if (Date.now() - started > timeoutMs) throw new FileLockTimeout(file);
    await sleep(Math.min(50, 2 + attempt * 3) + Math.random() * 5);
  }
  try {
    return await fn();
  } finally {
    const held = await readFile(file, "utf8").catch(() => null);
    if (held === token) await rm(file, { force: true });
  }
}
