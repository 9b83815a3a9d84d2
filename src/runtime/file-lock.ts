/**
 * A lock file for read-modify-write of a small state file shared by
 * processes on one machine (the CLI runs one process per `mfa verify`, and
 * two verifications of one code must not both read "unused"; two processes
 * reserving wraps under one KEK must not both read the same count).
 *
 * The lock is a file created exclusively (O_EXCL) holding the owner's pid,
 * a random token, the host name and the owner's incarnation (boot id and
 * process start time, Linux). It is taken over when its owner is gone (no
 * process with that pid; or our own pid on our host in another incarnation,
 * as when a restarted container is pid 1 again and finds its predecessor's
 * lock) or when it is older than `staleMs` (a hung owner).
 *
 * Taking over is itself serialised by a second exclusive file, `<lock>.break`:
 * only its holder may remove the lock, and only after reading the lock again
 * under it and finding the very same stale content. Without that, two
 * waiters that both judged one dead lock stale could each remove a lock: the
 * second would remove the first's new, live one, and both would run. A
 * `.break` file is held for a read and a remove (milliseconds); one older
 * than BREAK_STALE_MS is left by a crash there and is removed by age.
 *
 * Anything at the lock path that is not a regular file (a FIFO, a symbolic
 * link) is never read through a blocking open and never broken: waiters time
 * out, as for a live owner, until someone removes it.
 *
 * The lock appears whole: its line is written to a temporary file, which is
 * then hard-linked to the lock path (link(2) fails if the lock exists, as
 * O_EXCL does). Created empty and then written, a lock whose owner was killed
 * between the two (SIGKILL, the OOM killer) named no owner, so it was judged
 * by age only: every `mfa verify` failed as "locked by another process" for
 * 30 s, every `mesh plan` into that DIR for 10 minutes. A file system without
 * hard links gets the old create-then-write. The temporary files a killed
 * process leaves are removed by the next holder (atomic-file.ts
 * `removeStaleTemps`).
 *
 * Release removes the file only while it still holds our token, so a lock
 * taken over from us is never removed by us. Not a lock across machines
 * (NFS) or pid namespaces (containers sharing a volume see each other's pids
 * as gone): a shared store (Redis) is the answer there.
 */
import { randomBytes } from "node:crypto";
import { closeSync, constants as fsc, fstatSync, openSync, readFileSync, readSync, unlinkSync } from "node:fs";
import { link, open, rm, stat } from "node:fs/promises";
import { releaseTempName, removeStaleTemps, reserveTempName } from "./atomic-file.js";
import { hostname } from "node:os";
import { readStateFile } from "./state-file.js";

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

/** A `.break` file older than this was left by a process that died while breaking a lock. */
export const BREAK_STALE_MS = 10_000;

/** A lock holds one line of a few dozen bytes. */
const MAX_LOCK_BYTES = 4096;

/**
 * The lock's content and age, from one open of it (state-file.ts: no link followed, no blocking
 * open, so a FIFO planted at the lock path cannot hang every waiter). Null when it is gone, or is
 * anything a lock of ours never is: such a "lock" is never broken, and waiters time out.
 */
async function readLock(file: string): Promise<{ text: string; mtimeMs: number } | null> {
  try {
    let mtimeMs = 0;
    const text = await readStateFile(file, MAX_LOCK_BYTES, (st) => void (mtimeMs = st.mtimeMs));
    return { text, mtimeMs };
  } catch {
    return null; // gone meanwhile, or not a lock file
  }
}

/**
 * What tells this process apart from an earlier one with the same pid: the boot id and the
 * process's start time in clock ticks since boot (/proc/self/stat field 22). Per process, not
 * per module or thread, so worker threads and a second copy of this module agree and never
 * take each other's live locks. Undefined off Linux: a lock of our own pid is then judged by
 * age only, as before.
 */
function readIncarnation(): string | undefined {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    // Fields after the command name, which is in parentheses and may itself hold spaces or ')'.
    const start = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    return start !== undefined && /^\d+$/.test(start) && /^[0-9a-f-]+$/.test(boot) ? `${boot}.${start}` : undefined;
  } catch {
    return undefined;
  }
}

let self: { host: string; incarnation: string | undefined } | undefined;
function owner(): { host: string; incarnation: string | undefined } {
  return (self ??= { host: encodeURIComponent(hostname()), incarnation: readIncarnation() });
}

/**
 * True when a lock naming our own pid was written by another process: one on our host (same
 * host name: a restarted container keeps its name; another container sharing the volume
 * usually does not, and its pid 1 is not ours to judge) in another incarnation. Our pid is
 * ours now, so that process is gone. A lock of ours in this incarnation is held by another
 * part of this very process and is live.
 */
function earlierIncarnation(fields: string[]): boolean {
  const me = owner();
  const [, , host, incarnation] = fields;
  return me.incarnation !== undefined && incarnation !== undefined && host === me.host && incarnation !== me.incarnation;
}

function isStale(lock: { text: string; mtimeMs: number }, staleMs: number): boolean {
  const fields = lock.text.trimEnd().split(" ");
  const pid = Number(fields[0]);
  const ownerGone = Number.isInteger(pid) && pid > 0 && (pid === process.pid ? earlierIncarnation(fields) : !alive(pid));
  // A lock still being written (empty) is young; only age makes it stale.
  return ownerGone || Date.now() - lock.mtimeMs > staleMs;
}

async function takeOverIfStale(file: string, staleMs: number): Promise<void> {
  const seen = await readLock(file);
  if (seen === null || !isStale(seen, staleMs)) return;
  const breaker = `${file}.break`;
  let handle;
  try {
    handle = await open(breaker, "wx", 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    // Someone else is breaking it; a .break left by a crash goes by age.
    const b = await stat(breaker).catch(() => null);
    if (b !== null && Date.now() - b.mtimeMs > BREAK_STALE_MS) await rm(breaker, { force: true });
    return;
  }
  try {
    await handle.close();
    // Under the break lock: remove the lock only if it is still the stale one we saw.
    const now = await readLock(file);
    if (now !== null && now.text === seen.text && now.mtimeMs === seen.mtimeMs && isStale(now, staleMs)) await rm(file, { force: true });
  } finally {
    await rm(breaker, { force: true });
  }
}

/** link(2) errors of a file system that has no hard links. */
const NO_LINKS = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"]);

/** Creates the lock holding `token`, whole; false when it exists (held by someone). */
async function createLock(file: string, token: string): Promise<boolean> {
  const temp = reserveTempName(file);
  try {
    const handle = await open(temp, "wx", 0o600);
    try {
      await handle.writeFile(token);
    } finally {
      await handle.close();
    }
    await link(temp, file);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    if (code !== undefined && NO_LINKS.has(code)) return createLockInPlace(file, token);
    throw err;
  } finally {
    await rm(temp, { force: true });
    releaseTempName(temp);
  }
}

/** Create-then-write, where hard links are not supported: a crash between the two leaves an empty lock, stale by age only. */
async function createLockInPlace(file: string, token: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(file, "wx", 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
  try {
    await handle.writeFile(token);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(file, { force: true }); // an empty lock would hold everyone off until it is stale
    throw err;
  }
  await handle.close();
  return true;
}

/** Locks this process holds now (path → token), for releaseLocksSync. */
const heldLocks = new Map<string, string>();

/**
 * Removes, synchronously, every lock this process holds (only while it still holds our token);
 * for a signal handler about to end the process (cli/interrupts.ts), which runs no `finally`.
 * A lock left behind would be taken over later as its owner's (the pid is gone), but it would
 * stay in the directory until then: `mesh plan` interrupted left `DIR/.plan.json.lock`.
 */
export function releaseLocksSync(): void {
  for (const [file, token] of heldLocks) {
    try {
      // No link followed and no blocking open (a FIFO put there is never read), as readStateFile.
      const fd = openSync(file, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
      try {
        if (!fstatSync(fd).isFile()) continue;
        const buf = Buffer.alloc(MAX_LOCK_BYTES);
        const n = readSync(fd, buf, 0, MAX_LOCK_BYTES, 0);
        if (buf.toString("utf8", 0, n) === token) unlinkSync(file);
      } finally {
        closeSync(fd);
      }
    } catch {
      // on the way out: nothing more to do
    }
  }
  heldLocks.clear();
}

/** Runs `fn` holding the lock `file`; the lock is released however `fn` ends. */
export async function withFileLock<T>(file: string, fn: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const staleMs = options.staleMs ?? 30_000;
  const { host, incarnation } = owner();
  const token = `${process.pid} ${randomBytes(12).toString("hex")} ${host}${incarnation === undefined ? "" : ` ${incarnation}`}\n`;
  // Elapsed time on the monotonic clock: a wall clock stepped back would stretch the wait by the step.
  const started = performance.now();
  for (let attempt = 0; ; attempt++) {
    if (await createLock(file, token)) break;
    await takeOverIfStale(file, staleMs);
    if (performance.now() - started > timeoutMs) throw new FileLockTimeout(file);
    await sleep(Math.min(50, 2 + attempt * 3) + Math.random() * 5);
  }
  heldLocks.set(file, token);
  try {
    await removeStaleTemps(file); // of lock attempts killed before their link
    return await fn();
  } finally {
    heldLocks.delete(file);
    const held = await readStateFile(file, MAX_LOCK_BYTES).catch(() => null);
    if (held === token) await rm(file, { force: true });
  }
}
