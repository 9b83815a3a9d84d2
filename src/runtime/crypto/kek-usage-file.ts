/**
 * The per-KEK wrap limit (kek-usage.ts) counted across processes and
 * restarts: a counter file in the keyring directory, `usage.json` (mode
 * 0600, replaced atomically), read and rewritten only under a lock file
 * (`usage.json.lock`, file-lock.ts). `Keyring` uses it by default.
 *
 * The file holds, per KEK version, how many wraps have been *reserved* by
 * any process: an upper bound on the wraps done. A process reserves a block
 * and hands wraps out of it in memory, so the file is written once per
 * block, not once per object. Blocks double from 1 up to `maxBlock`: a
 * one-shot CLI process (one wrap) reserves exactly one, a long-running one
 * writes the file once per 65,536 wraps at most.
 *
 * The trade-off: wraps reserved but not used when a process exits or
 * crashes are burned, never handed out again. The count can only overstate
 * what was used, so the limit is reached early, never late; at most one
 * block per process and KEK version is lost.
 *
 * Fail closed: a counter file that is malformed, or that group or others may
 * access, is a KeyringError, never a fresh start from zero (which would let
 * a KEK go past its limit). A keyring without the file (new, or from before
 * the counter existed) starts at zero.
 */
import path from "node:path";
import { writeFileAtomic } from "../atomic-file.js";
import { FileLockTimeout, withFileLock, type FileLockOptions } from "../file-lock.js";
import { StateFileError, readStateFile } from "../state-file.js";
import { MAX_WRAPS_PER_KEK, type AsyncKekUsage } from "./kek-usage.js";
import { KeyringError, checkPrivate, keyFileName } from "./keyring-format.js";

/** The counter file's name in a keyring directory. */
export const USAGE_FILE = "usage.json";
/** The largest block a process reserves at once. */
export const MAX_RESERVE_BLOCK = 65_536;
const FORMAT = "swarm-policy-kek-usage";
/** Some 30 bytes per KEK version counted: far more than any keyring has; a bigger file is not ours. */
const MAX_USAGE_FILE_BYTES = 64 * 1024 * 1024;
/** `<id>.v<version>`, as the KEK's file name without `.kek`. */
const ENTRY = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.v[1-9][0-9]{0,9}$/;

export interface FileKekUsageOptions {
  /** Wraps allowed per KEK version (default MAX_WRAPS_PER_KEK, 2^32). */
  readonly limit?: number;
  /** The largest block reserved at once (default MAX_RESERVE_BLOCK). */
  readonly maxBlock?: number;
  /** Lock timeout and staleness (file-lock.ts defaults: 5 s, 30 s). */
  readonly lock?: FileLockOptions;
}

interface Reserve {
  next: number;
  end: number;
  block: number;
}

const entryName = (kekId: string, kekVersion: number) => keyFileName(kekId, kekVersion).slice(0, -".kek".length);

export class FileKekUsage implements AsyncKekUsage {
  readonly file: string;
  readonly limit: number;
  readonly #maxBlock: number;
  readonly #lock: FileLockOptions;
  readonly #reserves = new Map<string, Reserve>();
  #queue: Promise<unknown> = Promise.resolve();

  /** A counter for the keyring directory `dir`; nothing is read until the first wrap. */
  constructor(dir: string, options: FileKekUsageOptions = {}) {
    this.file = path.join(path.resolve(dir), USAGE_FILE);
    this.limit = options.limit ?? MAX_WRAPS_PER_KEK;
    this.#maxBlock = Math.max(1, Math.floor(options.maxBlock ?? MAX_RESERVE_BLOCK));
    this.#lock = options.lock ?? {};
  }

  /** Counts one wrap: from this process's reserve when it has one, else by reserving a new block. */
  take(kekId: string, kekVersion: number): boolean | Promise<boolean> {
    const key = entryName(kekId, kekVersion);
    if (this.#fromReserve(key)) return true;
    // One refill at a time: wraps waiting behind it are served from the block it reserves.
    const run = this.#queue.then(() => (this.#fromReserve(key) ? true : this.#refill(key)));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #fromReserve(key: string): boolean {
    const r = this.#reserves.get(key);
    if (r === undefined || r.next >= r.end) return false;
    r.next++;
    return true;
  }

  async #refill(key: string): Promise<boolean> {
    const previous = this.#reserves.get(key);
    const want = previous === undefined ? 1 : Math.min(previous.block * 2, this.#maxBlock);
    return this.#locked(async () => {
      const counts = await this.#read();
      const used = counts.get(key) ?? 0;
      if (used >= this.limit) return false;
      const block = Math.min(want, this.limit - used);
      counts.set(key, used + block);
      await writeFileAtomic(this.file, serialize(counts), { mode: 0o600 });
      // The first wrap of the block is this one.
      this.#reserves.set(key, { next: used + 1, end: used + block, block });
      return true;
    });
  }

  /** Wraps reserved so far under (id, version) by every process, as the file says. */
  async reserved(kekId: string, kekVersion: number): Promise<number> {
    return (await this.#read()).get(entryName(kekId, kekVersion)) ?? 0;
  }

  async #locked<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await withFileLock(`${this.file}.lock`, fn, this.#lock);
    } catch (err) {
      if (err instanceof FileLockTimeout) throw new KeyringError("busy", `the KEK usage counter ${this.file} is locked by another process; try again`);
      throw err;
    }
  }

  async #read(): Promise<Map<string, number>> {
    let text: string;
    try {
      text = await readStateFile(this.file, MAX_USAGE_FILE_BYTES, (st) => checkPrivate(st, this.file, "file"));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return new Map();
      if (err instanceof StateFileError) throw new KeyringError("insecure", err.message);
      throw err;
    }
    return parse(text, this.file);
  }
}

function parse(text: string, file: string): Map<string, number> {
  const bad = (why: string) =>
    new KeyringError("malformed", `${file}: ${why}; it bounds how often each KEK has wrapped a key, so fix or restore it (deleting it would restart every count at zero)`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw bad("not valid JSON");
  }
  const d = doc as Record<string, unknown>;
  if (typeof doc !== "object" || doc === null || d["format"] !== FORMAT || d["version"] !== 1) throw bad("unknown format or version");
  const reserved = d["reserved"];
  if (typeof reserved !== "object" || reserved === null || Array.isArray(reserved)) throw bad(`"reserved" must be an object`);
  const counts = new Map<string, number>();
  for (const [key, n] of Object.entries(reserved)) {
    if (!ENTRY.test(key) || typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) throw bad(`bad entry ${JSON.stringify(key)}`);
    counts.set(key, n);
  }
  return counts;
}

function serialize(counts: Map<string, number>): string {
  const reserved = Object.fromEntries([...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return JSON.stringify({ format: FORMAT, version: 1, reserved }, null, 2) + "\n";
}
