/**
 * Replay and lockout records in one file, for verifiers that run one
 * process per verification (`swarm-policy mfa verify`): the state must
 * outlive the process. docs/mfa.md "State between invocations".
 *
 * - One JSON file (`state.json` in the MFA directory of the keyring), mode
 *   0600, replaced atomically (temp file, fsync, rename) on every change.
 * - Every operation is a read-modify-write under a lock file (file-lock.ts),
 *   so a code claimed by one process is seen as used by the next, and
 *   concurrent failures all count. Within one process (the server) they
 *   queue first, so only one of them waits on the lock file.
 * - Bounded: every write drops replay records whose step is out of every
 *   window and lockout records past their `forgetAt`, so the file holds at
 *   most three steps per user who verified in the last 90 seconds plus one
 *   record per user who failed in the last day (or is still locked).
 * - Fail closed: a state file that is malformed, or that group or others may
 *   access, is an error (MfaStateError), never a fresh start that would
 *   forget locks and used codes.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "../atomic-file.js";
import { withFileLock, FileLockTimeout, type FileLockOptions } from "../file-lock.js";
import { StateFileError, readStateFile } from "../state-file.js";
import type { LockoutState, LockoutStore } from "./lockout.js";
import type { ReplayStore } from "./replay-store.js";

export const MFA_STATE_FILE = "state.json";
const FORMAT = "swarm-policy-mfa-state";
/** Expired records are pruned on every write; a file this large is damaged or not ours, and is refused rather than read into memory. */
const MAX_STATE_FILE_BYTES = 256 * 1024 * 1024;

/** The state file cannot be used; verification must not go on without it. */
export class MfaStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MfaStateError";
  }
}

interface State {
  /** user -> [step, expiresAt (Unix seconds)] */
  replay: Map<string, Array<[number, number]>>;
  lockout: Map<string, LockoutState>;
}

export interface FileMfaStateOptions extends FileLockOptions {
  /** ms since the epoch, for pruning (default Date.now). */
  readonly now?: () => number;
}

const isInt = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x);
const isTime = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x) && x >= 0;

function parseState(text: string, file: string): State {
  const bad = (why: string) => new MfaStateError(`${file} is not a valid MFA state file (${why}); move it aside only if you accept forgetting used codes and lockouts`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw bad("not JSON");
  }
  const d = doc as Record<string, unknown>;
  if (typeof doc !== "object" || doc === null || d["format"] !== FORMAT || d["version"] !== 1) throw bad("unknown format or version");
  const replay = new Map<string, Array<[number, number]>>();
  const lockout = new Map<string, LockoutState>();
  const r = d["replay"];
  const l = d["lockout"];
  if (typeof r !== "object" || r === null || Array.isArray(r) || typeof l !== "object" || l === null || Array.isArray(l)) throw bad("replay and lockout must be objects");
  for (const [user, steps] of Object.entries(r)) {
    if (!Array.isArray(steps) || !steps.every((s) => Array.isArray(s) && s.length === 2 && isInt(s[0]) && isTime(s[1]))) throw bad(`replay entry of ${JSON.stringify(user)}`);
    replay.set(user, steps as Array<[number, number]>);
  }
  for (const [user, st] of Object.entries(l)) {
    const s = st as Record<string, unknown>;
    if (typeof st !== "object" || st === null || !isInt(s["failures"]) || !isTime(s["locked_until"]) || !isTime(s["last_failure_at"]) || !isTime(s["forget_at"])) {
      throw bad(`lockout entry of ${JSON.stringify(user)}`);
    }
    lockout.set(user, { failures: s["failures"], lockedUntil: s["locked_until"], lastFailureAt: s["last_failure_at"], forgetAt: s["forget_at"] });
  }
  return { replay, lockout };
}

function serializeState(state: State): string {
  // Object.fromEntries defines own data properties, so a user named "__proto__" stays a key.
  const replay = Object.fromEntries(state.replay);
  const lockout = Object.fromEntries(
    [...state.lockout].map(([user, s]) => [user, { failures: s.failures, locked_until: s.lockedUntil, last_failure_at: s.lastFailureAt, forget_at: s.forgetAt }]),
  );
  return JSON.stringify({ format: FORMAT, version: 1, replay, lockout }) + "\n";
}

/** The last transaction queued on each state file in this process. */
const inProcess = new Map<string, Promise<void>>();

export class FileMfaStateStore implements ReplayStore, LockoutStore {
  /** The directory holding the state file (created 0700 when missing). */
  readonly dir: string;
  readonly file: string;
  readonly #now: () => number;
  readonly #lock: FileLockOptions;

  constructor(dir: string, options: FileMfaStateOptions = {}) {
    this.dir = path.resolve(dir);
    this.file = path.join(this.dir, MFA_STATE_FILE);
    this.#now = options.now ?? Date.now;
    this.#lock = { ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }), ...(options.staleMs === undefined ? {} : { staleMs: options.staleMs }) };
  }

  async claim(user: string, step: number, expiresAt: number): Promise<boolean> {
    return this.#transaction((state) => {
      const steps = state.replay.get(user) ?? [];
      if (steps.some(([s]) => s === step)) return { result: false, changed: false };
      steps.push([step, expiresAt]);
      state.replay.set(user, steps);
      return { result: true, changed: true };
    });
  }

  async get(user: string): Promise<LockoutState | undefined> {
    return this.#transaction((state) => ({ result: state.lockout.get(user), changed: false }));
  }

  async update(user: string, change: (current: LockoutState | undefined) => LockoutState | undefined): Promise<LockoutState | undefined> {
    return this.#transaction((state) => {
      const before = state.lockout.get(user);
      const next = change(before);
      if (next === undefined) state.lockout.delete(user);
      else state.lockout.set(user, next);
      return { result: next, changed: next !== before };
    });
  }

  /**
   * Rewrites the file unchanged, under the lock, as a counted failure does: the server does
   * this for names that are not enrolled, so that neither the time taken nor an unusable file
   * tells them from enrolled users.
   */
  async touch(): Promise<void> {
    await this.#transaction(() => ({ result: undefined, changed: true }));
  }

  /** Forgets the user's used codes (after a new secret is enrolled, old steps mean nothing). */
  async forgetReplay(user: string): Promise<void> {
    await this.#transaction((state) => ({ result: undefined, changed: state.replay.delete(user) }));
  }

  async #transaction<T>(body: (state: State) => { result: T; changed: boolean }): Promise<T> {
    // One transaction at a time per file in this process (a server verifies many codes at once):
    // waiters queue here instead of all polling the lock file, where a burst would time them out.
    const previous = inProcess.get(this.file) ?? Promise.resolve();
    const mine = previous.then(() => this.#locked(body));
    const tail = mine.then(
      () => undefined,
      () => undefined,
    );
    inProcess.set(this.file, tail);
    void tail.then(() => {
      if (inProcess.get(this.file) === tail) inProcess.delete(this.file);
    });
    return mine;
  }

  async #locked<T>(body: (state: State) => { result: T; changed: boolean }): Promise<T> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    try {
      return await withFileLock(
        path.join(this.dir, `${MFA_STATE_FILE}.lock`),
        async () => {
          const state = await this.#read();
          const { result, changed } = body(state);
          const pruned = this.#prune(state);
          if (changed || pruned) await writeFileAtomic(this.file, serializeState(state), { mode: 0o600 });
          return result;
        },
        this.#lock,
      );
    } catch (err) {
      if (err instanceof FileLockTimeout) throw new MfaStateError(`MFA state ${this.file} is locked by another process; try again`);
      throw err;
    }
  }

  async #read(): Promise<State> {
    let text: string;
    try {
      text = await readStateFile(this.file, MAX_STATE_FILE_BYTES, (st) => {
        // Whoever may write this file may reset lockouts and reuse codes.
        if (process.platform !== "win32" && (st.mode & 0o077) !== 0) {
          throw new MfaStateError(`MFA state ${this.file} has mode 0${(st.mode & 0o777).toString(8)}: it must not be accessible by group or others (chmod 600 ${this.file})`);
        }
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return { replay: new Map(), lockout: new Map() };
      if (err instanceof StateFileError) throw new MfaStateError(`MFA state ${err.message}`);
      throw err;
    }
    return parseState(text, this.file);
  }

  /** Drops what no window and no lock needs any more; true when something went. */
  #prune(state: State): boolean {
    const nowMs = this.#now();
    const nowSec = nowMs / 1000;
    let dropped = false;
    for (const [user, steps] of state.replay) {
      const live = steps.filter(([, expiresAt]) => expiresAt > nowSec);
      if (live.length === steps.length) continue;
      dropped = true;
      if (live.length === 0) state.replay.delete(user);
      else state.replay.set(user, live);
    }
    for (const [user, s] of state.lockout) {
      if (s.forgetAt <= nowMs) {
        state.lockout.delete(user);
        dropped = true;
      }
    }
    return dropped;
  }

  /** Records held, for tests and operators: replay steps and lockout entries. */
  async size(): Promise<{ replay: number; lockout: number }> {
    return this.#transaction((state) => ({
      result: { replay: [...state.replay.values()].reduce((n, s) => n + s.length, 0), lockout: state.lockout.size },
      changed: false,
    }));
  }
}

