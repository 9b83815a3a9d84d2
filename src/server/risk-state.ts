/**
 * The server's risk store kept in a file (`risk.state_file`, `serve
 * --risk-state FILE`), so a restart or a crash does not lift the quarantines
 * and risk raises the correlation engine wrote.
 *
 * - At start the file, when it exists, is read into the store before
 *   anything is answered; a file that cannot be read or is not a risk
 *   snapshot (src/runtime/risk-snapshot.ts, the format `detect --risk-out`
 *   writes and `--risk` reads), or one group or others may write, refuses the
 *   start: serving with nobody quarantined would be failing open. Then the
 *   state is written once, so a path the service cannot write refuses the
 *   start too rather than every later save failing.
 * - A change to the store schedules a save `saveIntervalMs` later (one save
 *   per interval however many changes); saves never overlap, and a change
 *   during one is saved by the next. Each save writes what is in force at the
 *   clock, atomically (temporary file, fsync, rename) with mode 0600.
 * - A save writes the file a slice of entries at a time and lets the event
 *   loop turn between slices, so a large store does not hold answers up for
 *   the whole save (500,000 entries held it for seconds).
 * - A failed save is reported (`onError`) and retried `saveIntervalMs` later
 *   (and at close), whether or not anything changed meanwhile; while saves
 *   keep failing the wait doubles, up to a minute (never less than the
 *   interval); the store in memory holds regardless.
 * - `close()` saves what changed since the last save. A SIGKILL loses at most
 *   the changes of the last interval.
 *
 * One server per file: two writing one file would each overwrite the other's
 * entries.
 */
import type { Stats } from "node:fs";
import { MemoryRiskStore, type MemoryRiskStoreOptions } from "../evaluator/stores.js";
import { AtomicFile } from "../runtime/atomic-file.js";
import { RiskSnapshotError, riskSnapshotText, storeFromSnapshot } from "../runtime/risk-snapshot.js";
import { readStateFile, StateFileError } from "../runtime/state-file.js";

/**
 * The largest state file, read or written: 500 MiB, below V8's longest string (2^29 - 24 code
 * units), which the JSON text must fit in both ways (some millions of entries). A save whose
 * state is larger fails as a save (reported, retried, the file keeps the last state that fit):
 * it was written, and the next start refused the file (64 MiB then, about 500,000 entries with
 * ids of 100 characters), so the server could not come back after a restart.
 */
export const MAX_STATE_BYTES = 500 * 1024 * 1024;

/** A MemoryRiskStore that says when it was written to. */
export class ObservedRiskStore extends MemoryRiskStore {
  /** Called after every write (raise, quarantine, release, clear). */
  onChange: () => void = () => undefined;

  constructor(options: MemoryRiskStoreOptions = {}) {
    super(options);
  }

  override raiseUntil(id: string, amount: number, until: number): void {
    super.raiseUntil(id, amount, until);
    this.onChange();
  }

  override raise(id: string, amount: number, now: number, forMs?: number): void {
    super.raise(id, amount, now, forMs);
    this.onChange();
  }

  override quarantineUntil(id: string, until: number): void {
    super.quarantineUntil(id, until);
    this.onChange();
  }

  override release(id: string): void {
    super.release(id);
    this.onChange();
  }

  override clear(id: string): void {
    super.clear(id);
    this.onChange();
  }
}

export class RiskStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RiskStateError";
  }
}

export interface RiskStateOptions {
  /** Absolute path of the state file. */
  path: string;
  /** How the file is named in errors (default `path`). */
  name?: string;
  store: ObservedRiskStore;
  /** Delay from a change to its save, ms. */
  saveIntervalMs: number;
  /** Epoch ms: a save writes what is in force at this time. */
  clock: () => number;
  /** A save that failed (the message names the file; the store holds no secret). */
  onError: (err: Error) => void;
  /** Largest file read or written (default MAX_STATE_BYTES; tests). */
  maxBytes?: number;
  /** Runs `fn` after `ms` unless cancelled (default: an unref'd setTimeout; tests record the delays). */
  schedule?: (fn: () => void, ms: number) => { cancel(): void };
}

const scheduleTimeout = (fn: () => void, ms: number): { cancel(): void } => {
  const timer = setTimeout(fn, ms);
  timer.unref();
  return { cancel: () => clearTimeout(timer) };
};

/** The longest wait before retrying a save that failed (unless the interval is longer). */
export const MAX_RETRY_MS = 60_000;

/** Entities serialized between two turns of the event loop. */
const SLICE = 2048;

/**
 * The wait before the next save after `failures` failed saves in a row: the interval, then doubling
 * from it (a full disk fails every save: one report a second for hours helps nobody), at most
 * MAX_RETRY_MS, never less than the interval.
 */
export function retryDelayMs(intervalMs: number, failures: number): number {
  if (failures === 0) return intervalMs;
  return Math.max(intervalMs, Math.min(intervalMs * 2 ** failures, MAX_RETRY_MS));
}

const why = (err: unknown): string => {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "is a directory";
  return (err as Error).message;
};

export class RiskStateFile {
  private readonly options: RiskStateOptions;
  private timer: { cancel(): void } | null = null;
  private saving: Promise<void> | null = null;
  /** Changes not yet in a save that succeeded (or started). */
  private dirty = false;
  private closed = false;
  /** Saves that failed since the last one that succeeded. */
  private failures = 0;
  /** Saves that completed, for tests and metrics. */
  saves = 0;
  /** The clock (epoch ms) the last completed save wrote as of; null before one. */
  savedAt: number | null = null;

  constructor(options: RiskStateOptions) {
    this.options = options;
  }

  private get maxBytes(): number {
    return this.options.maxBytes ?? MAX_STATE_BYTES;
  }

  private get name(): string {
    return this.options.name ?? this.options.path;
  }

  /**
   * Read the file into the store (a missing file is a first start), write the state back, then
   * follow the store's changes. RiskStateError names the file and the problem.
   */
  async start(): Promise<{ raises: number; quarantines: number }> {
    const { store } = this.options;
    let text: string | null = null;
    try {
      text = await readStateFile(this.options.path, this.maxBytes, (st: Stats) => {
        if (process.platform !== "win32" && st.isFile() && (st.mode & 0o022) !== 0) {
          const mode = (st.mode & 0o777).toString(8).padStart(4, "0");
          throw new RiskStateError(`${this.name} has mode ${mode}: group or others may write it, and so lift its quarantines (chmod 600 ${this.name})`);
        }
      });
    } catch (err) {
      if (err instanceof RiskStateError) throw err;
      if (err instanceof StateFileError) throw new RiskStateError(err.message.replace(this.options.path, this.name));
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw new RiskStateError(`cannot read ${this.name}: ${why(err)}`);
    }
    let loaded = { raises: 0, quarantines: 0 };
    if (text !== null) {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new RiskStateError(`${this.name} is not valid JSON (a risk snapshot is expected)`);
      }
      let read: MemoryRiskStore;
      try {
        read = storeFromSnapshot(json);
      } catch (err) {
        if (err instanceof RiskSnapshotError) throw new RiskStateError(`${this.name}: ${err.message}`);
        throw err;
      }
      const { raises, quarantines } = read.entriesUnsorted(this.options.clock());
      for (const r of raises) store.raiseUntil(r.id, r.amount, r.until);
      for (const q of quarantines) store.quarantineUntil(q.id, q.until);
      loaded = { raises: raises.length, quarantines: quarantines.length };
    }
    try {
      await this.write();
    } catch (err) {
      throw new RiskStateError(`cannot write ${this.name}: ${why(err)}`);
    }
    store.onChange = () => this.changed();
    return loaded;
  }

  private changed(): void {
    this.dirty = true;
    if (this.timer !== null || this.closed) return;
    const delay = retryDelayMs(this.options.saveIntervalMs, this.failures);
    this.timer = (this.options.schedule ?? scheduleTimeout)(() => {
      this.timer = null;
      void this.save();
    }, delay);
  }

  private async write(): Promise<void> {
    const now = this.options.clock();
    await this.writeAt(now);
    this.savedAt = now;
  }

  private async writeAt(now: number): Promise<void> {
    const out = await AtomicFile.create(this.options.path, { mode: 0o600 });
    try {
      let bytes = 0;
      // Each piece is awaited into the file, so the event loop turns between slices of entries.
      for (const piece of riskSnapshotText(this.options.store, now, now, SLICE)) {
        const data = Buffer.from(piece, "utf8");
        bytes += data.length;
        // Never a file the next start refuses: the start would then not come back at all.
        if (bytes > this.maxBytes) {
          throw new Error(`the risk state is more than the ${this.maxBytes} bytes a start reads (not written; the file keeps the last state saved)`);
        }
        await out.write(data);
      }
    } catch (err) {
      await out.abort();
      throw err;
    }
    await out.commit();
  }

  /** Write the store now unless nothing changed; waits for a save in flight first. */
  async save(): Promise<void> {
    while (this.saving !== null) await this.saving;
    if (!this.dirty) return;
    this.dirty = false;
    this.saving = this.write().then(
      () => {
        this.saves++;
        this.failures = 0;
      },
      (err: unknown) => {
        this.failures++;
        this.options.onError(new RiskStateError(`cannot write ${this.name}: ${why(err)}`));
        // Retried an interval later, change or not: waiting for the next change left a quarantine
        // whose save failed out of the file while nothing else happened (a SIGKILL then lifted it).
        this.changed();
      },
    );
    try {
      await this.saving;
    } finally {
      this.saving = null;
    }
  }

  /** Stop following changes and save what changed since the last save. */
  async close(): Promise<void> {
    this.closed = true;
    this.timer?.cancel();
    this.timer = null;
    this.options.store.onChange = () => undefined;
    await this.save();
  }
}
