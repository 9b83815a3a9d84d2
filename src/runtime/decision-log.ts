/**
 * The decision log: every decision as one JSON line, appended to a file with
 * size-based rotation or written to stdout, and (optionally) turned into an
 * event for the correlation engine.
 *
 * A line: `{"id","time","version","kind","outcome","rule","reasons","input"}`
 * (`errors` too when the decision has any). `input` is the request with
 * secrets redacted (see `redact`). The decision itself is not redacted: it
 * holds rule ids and the policies' own messages, not input values. The one
 * exception is an engine error that quotes an input value ("`in` needs an IP
 * address, found ..."): the answer to the caller keeps the value, the log
 * writes the message the engine made with it withheld (`<withheld>`), so a
 * value under a redacted path cannot reach the file through an error.
 *
 * Writes never block and never throw into the request path: `append` formats
 * the line and queues it; a flush runs on the next turn of the event loop
 * (or at once when 64 KiB are queued), one write at a time, with at most one
 * more waiting behind it (it takes everything queued by then). Past
 * `maxQueuedBytes` (8 MiB) lines are DROPPED and counted rather than growing
 * memory without bound behind a slow disk. A write or rotation error is
 * counted and reported to `onError`; the lines of that write are lost and the
 * next flush reopens the file. A stream ("-") that fails (its reader gone)
 * fails every later write the same way: counted, never thrown, never waited on.
 *
 * A short write (a disk filling up) is continued until every byte is written.
 * A write that fails part-way is cut back (ftruncate) to where it began, so
 * the file ends with a whole line and the lost lines are counted as dropped;
 * when even that fails, the complete lines that did reach the file are
 * counted as written and the next write starts with a newline, so the
 * fragment stands on a line of its own and never merges with the next line.
 * A file found ending without a newline when it is opened (left so by a
 * process killed between the parts of a short write, a full disk it could not
 * cut back, a power cut) is treated the same way: the fragment keeps a line
 * of its own, and the first line this process writes is whole.
 *
 * Rotation: when a write would take the file past `maxBytes`, file.keep is
 * deleted, file.(keep-1) ... file.1 move up one, the file becomes file.1 and
 * a new file is started (keep 0: the file is simply started afresh).
 */
import { open, rename, rm } from "node:fs/promises";
import { randomUUID } from "node:crypto";
import type { DecisionError } from "../evaluator/decision.js";
import { loggedMessage } from "../evaluator/quoted-error.js";

/**
 * Keys redacted wherever they appear: a name containing one of these words
 * (case-insensitive), or exactly one of the short names below. Short words
 * such as `otp` or `code` are matched whole only: as substrings they would
 * hit `footprint` and `country_iso_code`.
 */
export const DEFAULT_REDACT_KEYS =
  /secret|token|passw|passphrase|passcode|credential|authori[sz]ation|cookie|api[-_]?key|private[-_]?key|otpauth|^(code|otp|totp|hotp|pin|seed|signature|mfa[-_]?code|otp[-_]?code|totp[-_]?code|verification[-_]?code|one[-_]?time[-_]?code)$/i;
/** A TOTP/HOTP provisioning URI carries the shared secret: such a value is redacted under any key. */
const OTPAUTH_URI = /^\s*otpauth:/i;
export const REDACTED = "[REDACTED]";
const MAX_DEPTH = 32;
const FLUSH_BYTES = 64 * 1024;

export interface DecisionLogOptions {
  /** A file path, or "-" for stdout. */
  path: string;
  /** Rotate when the file would exceed this many bytes (default 100 MiB). */
  maxBytes?: number;
  /** Rotated files kept: file.1 ... file.keep (default 5). */
  keep?: number;
  /** Extra dotted paths to redact (`context.device.serial`; `*` matches any one key). */
  redact?: readonly string[];
  /** Key pattern redacted everywhere (default DEFAULT_REDACT_KEYS). */
  redactKeys?: RegExp;
  /** Lines queued past this many bytes are dropped and counted (default 8 MiB). */
  maxQueuedBytes?: number;
  /** Write and rotation errors (counted too). Never throws back. */
  onError?: (err: Error) => void;
  /** Each entry as written, e.g. to feed the correlation engine (see `decisionEvent`). */
  onEntry?: (entry: DecisionLogEntry) => void;
  /** Where "-" writes (default process.stdout). */
  stdout?: NodeJS.WritableStream;
  /** Opens the log file for appending (tests inject short or failing writes). Default: fs open, "a", 0600. */
  openFile?: (path: string) => Promise<DecisionLogFile>;
  /** Clock for `time` (tests). */
  now?: () => number;
}

/** The part of a file handle the log uses (a `FileHandle` is one). */
export interface DecisionLogFile {
  write(buffer: Uint8Array, offset: number, length: number): Promise<{ bytesWritten: number }>;
  truncate(len: number): Promise<void>;
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
  /** Reads the last byte at open, to find a line a crash left unfinished (a `FileHandle` has it; without it none is looked for). */
  read?(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
}

// 0600: decisions name principals and resources even with secrets redacted.
// "a+", not "a": the last byte is read at open (a line a crash left unfinished). A file we may
// append to but not read is appended to without that check.
const openAppend = (file: string): Promise<DecisionLogFile> =>
  open(file, "a+", 0o600).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "EACCES") return open(file, "a", 0o600);
    throw err;
  });

/** The decision fields the log reads (access, encryption and mesh decisions all fit). */
export interface LoggedDecision {
  version: string;
  decision?: string;
  rule?: string | null;
  reasons?: readonly unknown[];
  rules?: readonly string[];
  errors?: readonly unknown[];
  required?: boolean;
  compliant?: boolean;
}

/** One line of the decision log. */
export interface DecisionLogEntry {
  id: string;
  time: string;
  version: string;
  kind: string;
  outcome: string;
  rule: string | null;
  reasons: readonly unknown[];
  errors?: readonly unknown[];
  input: unknown;
}

export interface DecisionLogStats {
  written: number;
  dropped: number;
  errors: number;
  rotations: number;
}

/**
 * The outcome of a decision: access and mesh decisions say it (`allow`,
 * `deny`, `challenge`, `admit`, `reject`); an encryption result is
 * `non-compliant` when it was checked and fails, else `required` or
 * `not-required`.
 */
export function decisionOutcome(d: LoggedDecision): string {
  if (typeof d.decision === "string") return d.decision;
  if (d.compliant === false) return "non-compliant";
  return d.required === true ? "required" : "not-required";
}

type PathMatcher = readonly (readonly string[])[];

/**
 * `keys` without the `g` and `y` flags: with either, `test` starts where the last match ended
 * (`lastIndex`), so after `api_token` matched, `client_secret` was tested from its 9th character
 * and kept in the clear. Every key is tested from its start.
 */
function keyPattern(keys: RegExp): RegExp {
  return keys.global || keys.sticky ? new RegExp(keys.source, keys.flags.replace(/[gy]/g, "")) : keys;
}

function pathHit(matchers: PathMatcher, at: readonly string[]): boolean {
  outer: for (const m of matchers) {
    if (m.length !== at.length) continue;
    for (let i = 0; i < m.length; i++) if (m[i] !== "*" && m[i] !== at[i]) continue outer;
    return true;
  }
  return false;
}

function redactWalk(value: unknown, keys: RegExp, matchers: PathMatcher, at: string[], depth: number): unknown {
  if (typeof value === "string") return OTPAUTH_URI.test(value) ? REDACTED : value;
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return "[TRUNCATED]";
  if (Array.isArray(value)) return value.map((v) => redactWalk(v, keys, matchers, at, depth + 1));
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value)) {
    at.push(k);
    const v = keys.test(k) || pathHit(matchers, at) ? REDACTED : redactWalk((value as Record<string, unknown>)[k], keys, matchers, at, depth + 1);
    // A key named __proto__ (JSON.parse makes it an own key) stays a key: assigning it would set out's prototype and drop it from the line.
    if (k === "__proto__") Object.defineProperty(out, k, { value: v, writable: true, enumerable: true, configurable: true });
    else out[k] = v;
    at.pop();
  }
  return out;
}

/**
 * A copy of `value` with secrets replaced by "[REDACTED]": every value whose
 * key matches `keys` (default DEFAULT_REDACT_KEYS), every `otpauth:` URI
 * string (it carries a TOTP secret), and every value at one of
 * the dotted `paths` (`*` matches any one key; array elements keep their
 * parent's path). Nesting deeper than 32 levels becomes "[TRUNCATED]".
 */
export function redact(value: unknown, paths: readonly string[] = [], keys: RegExp = DEFAULT_REDACT_KEYS): unknown {
  return redactWalk(value, keyPattern(keys), paths.map((p) => p.split(".")), [], 0);
}

/** An engine error as logged: its message without the input values it quotes (see quoted-error.ts). */
function loggedError(e: unknown): unknown {
  if (e === null || typeof e !== "object") return e;
  const message = loggedMessage(e as DecisionError);
  return message === (e as DecisionError).message ? e : { ...e, message };
}

/** The ECS `event.outcome` of a decision outcome: granted is success, refused is failure. */
function ecsOutcome(outcome: string): "success" | "failure" | "unknown" {
  if (outcome === "allow" || outcome === "admit" || outcome === "not-required" || outcome === "required") return "success";
  if (outcome === "deny" || outcome === "reject" || outcome === "non-compliant") return "failure";
  return "unknown";
}

function stringAt(value: unknown, key: string): string | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const v = (value as Record<string, unknown>)[key];
  return typeof v === "string" || typeof v === "number" ? String(v) : undefined;
}

/**
 * A decision log entry as an ECS-style event for the correlation engine, so
 * `detect` rules can watch the engine's own decisions:
 *
 * - `@timestamp` the decision time; `event.dataset` "swarm_policy.decision";
 *   `event.category` "access" | "encryption" | "mesh" (the kind);
 *   `event.action` "<kind>-decision"; `event.outcome` success (allow, admit,
 *   encryption answered), failure (deny, reject, non-compliant) or unknown
 *   (challenge).
 * - `decision`: `{ id, outcome, rule, version }` with the raw outcome.
 * - `user.name` the principal's id (access), `host.name` the node's id (mesh),
 *   `resource.id` / `resource.type` and `action` (access) when present.
 * - `input`: the redacted input, for anything else a rule wants to read.
 */
export function decisionEvent(entry: DecisionLogEntry): Record<string, unknown> {
  const input = entry.input as Record<string, unknown> | null;
  const event: Record<string, unknown> = {
    "@timestamp": entry.time,
    event: { dataset: "swarm_policy.decision", category: entry.kind, action: `${entry.kind}-decision`, outcome: ecsOutcome(entry.outcome) },
    decision: { id: entry.id, outcome: entry.outcome, rule: entry.rule, version: entry.version },
    input: entry.input,
  };
  const principal = input === null || typeof input !== "object" ? undefined : input.principal;
  const user = stringAt(principal, "id");
  if (user !== undefined) event.user = { name: user };
  const node = input === null || typeof input !== "object" ? undefined : input.node;
  const host = stringAt(node, "id");
  if (host !== undefined) event.host = { name: host };
  const resource = input === null || typeof input !== "object" ? undefined : input.resource;
  const rid = stringAt(resource, "id");
  const rtype = stringAt(resource, "type");
  if (rid !== undefined || rtype !== undefined) event.resource = { ...(rid !== undefined ? { id: rid } : {}), ...(rtype !== undefined ? { type: rtype } : {}) };
  const action = stringAt(input, "action");
  if (action !== undefined) event.action = action;
  return event;
}

/** Appends decisions to a file (rotated by size) or stdout; see the top of the file. */
export class DecisionLog {
  readonly stats: DecisionLogStats = { written: 0, dropped: 0, errors: 0, rotations: 0 };
  private readonly path: string;
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly keys: RegExp;
  private readonly matchers: PathMatcher;
  private readonly maxQueuedBytes: number;
  private readonly onError: ((err: Error) => void) | undefined;
  private readonly onEntry: ((entry: DecisionLogEntry) => void) | undefined;
  private readonly out: NodeJS.WritableStream | null;
  private readonly now: () => number;
  private readonly ignoreStreamError = (): void => {};
  private queue: string[] = [];
  private queuedBytes = 0;
  private flushing: Promise<void> | null = null;
  /** The one flush waiting for the running write to end (see `flush`). */
  private flushNext: Promise<void> | null = null;
  private scheduled = false;
  private fh: DecisionLogFile | null = null;
  private readonly openLogFile: (path: string) => Promise<DecisionLogFile>;
  private size = 0;
  /** The file ends with part of a line (a failed write could not be cut back): start the next write with "\n". */
  private fragment = false;
  private closed = false;

  constructor(options: DecisionLogOptions) {
    this.path = options.path;
    this.maxBytes = Math.max(1, options.maxBytes ?? 100 * 1024 * 1024);
    this.keep = Math.max(0, options.keep ?? 5);
    this.keys = keyPattern(options.redactKeys ?? DEFAULT_REDACT_KEYS);
    this.matchers = (options.redact ?? []).map((p) => p.split("."));
    this.maxQueuedBytes = options.maxQueuedBytes ?? 8 * 1024 * 1024;
    this.onError = options.onError;
    this.onEntry = options.onEntry;
    this.out = options.path === "-" ? (options.stdout ?? process.stdout) : null;
    this.now = options.now ?? Date.now;
    this.openLogFile = options.openFile ?? openAppend;
    // A stream that fails (EPIPE once stdout's reader is gone) also emits 'error', which without a
    // listener is an uncaught exception that ends the process. The failure itself reaches `write`
    // through the write's callback; this only keeps it from being thrown.
    this.out?.on("error", this.ignoreStreamError);
  }

  /**
   * Open (create, 0600) the file now rather than at the first decision, so a path that cannot be
   * written is known before a service answers anything; rejects with the file system's error.
   * A stream ("-") needs nothing.
   */
  async open(): Promise<void> {
    if (this.out === null && this.fh === null) await this.openFile();
  }

  /** Log one decision of `kind` for `input`. Never throws, never waits; returns the entry (null once closed). */
  append(kind: string, input: unknown, d: LoggedDecision): DecisionLogEntry | null {
    if (this.closed) return null;
    let entry: DecisionLogEntry;
    let line: string;
    try {
      entry = {
        id: randomUUID(),
        time: new Date(this.now()).toISOString(),
        version: d.version,
        kind,
        outcome: decisionOutcome(d),
        rule: d.rule !== undefined ? d.rule : (d.rules?.[0] ?? null),
        reasons: d.reasons ?? d.rules ?? [],
        input: redactWalk(input, this.keys, this.matchers, [], 0),
      };
      if (d.errors !== undefined && d.errors.length > 0) entry.errors = d.errors.map(loggedError);
      line = JSON.stringify(entry) + "\n";
    } catch (err) {
      this.fail(err);
      return null;
    }
    this.enqueue(line);
    if (this.onEntry !== undefined) {
      try {
        this.onEntry(entry);
      } catch (err) {
        this.fail(err);
      }
    }
    return entry;
  }

  private enqueue(line: string): void {
    if (this.queuedBytes + line.length > this.maxQueuedBytes) {
      this.stats.dropped++;
      return;
    }
    this.queue.push(line);
    this.queuedBytes += line.length;
    if (this.queuedBytes >= FLUSH_BYTES) void this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        void this.flush();
      });
    }
  }

  /** Write everything queued so far; resolves when written or failed, never rejects. */
  flush(): Promise<void> {
    // While a write runs, every caller waits for ONE flush behind it, which takes all that is queued
    // by then. A chain per caller grew by a promise for each decision logged past FLUSH_BYTES during
    // a slow write, and each of them ran (and chained again) at the end of every later write.
    if (this.flushing !== null) {
      this.flushNext ??= this.flushing.then(() => {
        this.flushNext = null;
        return this.flush();
      });
      return this.flushNext;
    }
    if (this.queue.length === 0) return Promise.resolve();
    const lines = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    this.flushing = this.write(lines).finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async write(lines: string[]): Promise<void> {
    const chunk = lines.join("");
    try {
      if (this.out !== null) {
        // Wait for the write's callback, not for 'drain': it comes for a slow reader (back-pressure: the
        // queue waits here, and the cap above bounds it) AND with the error of a stream that failed or
        // was destroyed, for which 'drain' never comes and every later flush would wait forever.
        const out = this.out;
        await new Promise<void>((resolve, reject) => out.write(chunk, (err) => (err ? reject(err) : resolve())));
      } else {
        await this.writeFile(lines, chunk);
        return;
      }
      this.stats.written += lines.length;
    } catch (err) {
      this.stats.dropped += lines.length;
      // Reopen on the next flush: the handle may be what failed.
      const fh = this.fh;
      this.fh = null;
      await fh?.close().catch(() => undefined);
      this.fail(err);
    }
  }

  /** Appends `chunk` whole (looping over short writes), or leaves the file ending with a whole line. */
  private async writeFile(lines: string[], chunk: string): Promise<void> {
    let bytes = Buffer.alloc(0);
    let start = 0;
    let done = 0;
    try {
      if (this.fh === null) await this.openFile(); // first: it may find the file ending in a fragment
      bytes = Buffer.from(this.fragment ? "\n" + chunk : chunk, "utf8");
      if (this.size > 0 && this.size + bytes.length > this.maxBytes) {
        await this.rotate();
        if (this.fragment) {
          bytes = bytes.subarray(1); // a fresh file: no fragment to close
          this.fragment = false;
        }
      }
      start = this.size;
      while (done < bytes.length) {
        const { bytesWritten } = await this.fh!.write(bytes, done, bytes.length - done);
        if (!(bytesWritten > 0)) throw new Error(`decision log: short write (${done} of ${bytes.length} bytes)`);
        done += bytesWritten;
        this.size += bytesWritten;
      }
      this.fragment = false;
      this.stats.written += lines.length;
    } catch (err) {
      await this.cutBack(bytes.subarray(0, done), start, lines.length);
      const fh = this.fh;
      this.fh = null; // reopen on the next flush: the handle may be what failed
      await fh?.close().catch(() => undefined);
      this.fail(err);
    }
  }

  /**
   * After a write that failed with `partial` of its bytes in the file: truncate back to `start`
   * (every line of the write lost), else count the complete lines that made it and mark the fragment.
   */
  private async cutBack(partial: Uint8Array, start: number, lineCount: number): Promise<void> {
    if (partial.length === 0) {
      this.stats.dropped += lineCount;
      return;
    }
    try {
      await this.fh!.truncate(start);
      this.size = start;
      this.stats.dropped += lineCount;
    } catch {
      let complete = 0;
      for (const b of partial) if (b === 0x0a) complete++;
      if (this.fragment && partial[0] === 0x0a) complete--; // the newline closing an earlier fragment
      this.stats.written += complete;
      this.stats.dropped += lineCount - complete;
      this.fragment = partial[partial.length - 1] !== 0x0a;
    }
  }

  private async openFile(): Promise<void> {
    this.fh = await this.openLogFile(this.path);
    this.size = (await this.fh.stat()).size;
    if (this.size > 0 && this.fh.read !== undefined) {
      const last = Buffer.alloc(1);
      // Best effort: a file that cannot be read back is appended to as before.
      const { bytesRead } = await this.fh.read(last, 0, 1, this.size - 1).catch(() => ({ bytesRead: 0 }));
      if (bytesRead === 1 && last[0] !== 0x0a) this.fragment = true;
    }
  }

  private async rotate(): Promise<void> {
    const base = this.path;
    const fh = this.fh;
    this.fh = null;
    await fh?.close();
    if (this.keep === 0) await rm(base, { force: true });
    else {
      await rm(`${base}.${this.keep}`, { force: true });
      for (let i = this.keep - 1; i >= 1; i--) await renameIfPresent(`${base}.${i}`, `${base}.${i + 1}`);
      await rename(base, `${base}.1`);
    }
    this.stats.rotations++;
    await this.openFile();
  }

  private fail(err: unknown): void {
    this.stats.errors++;
    try {
      this.onError?.(err instanceof Error ? err : new Error(String(err)));
    } catch {
      // The error reporter must not break the log either.
    }
  }

  /** Flush and close the file; later appends are ignored. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    this.out?.off("error", this.ignoreStreamError);
    const fh = this.fh;
    this.fh = null;
    await fh?.close().catch(() => undefined);
  }
}

async function renameIfPresent(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}
