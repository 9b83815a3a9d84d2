/**
 * The policy set the service answers with, and its hot reload.
 *
 * `reload()` reads the policy paths (async I/O); once a set is being
 * served, a worker thread checks them first, so a broken set is refused
 * while requests go on being answered (see analyze-thread.ts); a set that
 * checked clean is then parsed, checked and compiled on the event loop, in
 * steps (each file's parse, the check, the compile, the correlation engine)
 * with the loop turning between them, so the longest pause is one step, not
 * the whole load; the served set is swapped in ONE assignment, only when the new set has no error diagnostics, no unreadable
 * path and at least one file. A broken set is never served: the last good
 * one stays, and the failed attempt (its diagnostics, the version it would
 * have had) is kept for GET /v1/policies and handed to `onReload` for the
 * log and the metrics. Request handlers read `current` once per request, so
 * a batch is decided by one set from start to end.
 *
 * Choices where the issue is silent:
 * - Reloads are serialized: asked for while one runs, one more runs after it
 *   (later asks coalesce into it), so the last change on disk always wins.
 * - Watching: fs.watch on each directory (recursive) and on the directory of
 *   each file path (editors save by rename, which a watch on the file itself
 *   would lose), debounced, and on each directory's parent for its name, so
 *   a directory replaced under its name is followed (see `watch`). Any
 *   change under a watched directory triggers a reload: schemas next to the
 *   policies count too.
 * - The correlation engine is rebuilt only when the version changes (its
 *   windows start empty then). The risk store is shared by every set, so
 *   risk raised and quarantines survive reloads.
 */
import { watch, type FSWatcher } from "node:fs";
import { readlink, stat } from "node:fs/promises";
import path from "node:path";
import { type Engine, hasErrors, readSources, toJsonReport, MemoryRiskStore, type Detector, type DetectorOptions, type JsonDiagnostic } from "../index.js";
import { engineSteps, policyVersion } from "../engine.js";
import { runStepsAsync } from "../steps.js";
import type { SourceText } from "../parser/span.js";
import { AnalyzeThread, type CheckVerdict } from "./analyze-thread.js";

/** A policy set that loaded without errors and is (or was) being served. */
export interface LoadedSet {
  engine: Engine;
  version: string;
  /** ISO time of the swap. */
  loadedAt: string;
  loadedAtMs: number;
  ruleIds: readonly string[];
  detector: Detector;
  /** Warnings of this set (errors would have kept it out). */
  diagnostics: JsonDiagnostic[];
}

export type ReloadTrigger = "start" | "watch" | "signal" | "api";

export interface ReloadAttempt {
  at: string;
  ok: boolean;
  /** The version the sources read would have had (null when no file could be read). */
  version: string | null;
  diagnostics: JsonDiagnostic[];
  /** Unreadable paths, or "no .policy files found". */
  loadErrors: { path: string; message: string }[];
  trigger: ReloadTrigger;
  /** Milliseconds from the start of the attempt to its end (reading, checking, compiling). */
  durationMs: number;
  /** Where the set was checked first: in the worker thread, or on the event loop (in steps, with the loop turning between them). */
  checkedIn: "worker" | "event-loop";
}

export interface PolicySetOptions {
  /** Policy files and directories (absolute, or relative to `cwd`). */
  paths: readonly string[];
  /** Base for file names in reported diagnostics (default process.cwd()). */
  cwd?: string;
  /** Debounce of file-system events, ms (default 250). */
  debounceMs?: number;
  /** Called after each attempt, for logs and metrics. */
  onReload?: (attempt: ReloadAttempt, served: LoadedSet | null) => void;
  /** Options of each set's correlation engine (the shared risk store is added). */
  detector?: Omit<DetectorOptions, "risk">;
  /** Engine clock (tests). */
  clock?: () => number;
  /** The risk store every set shares (default: a new in-memory one swept at `clock`). */
  risk?: MemoryRiskStore;
  /**
   * While a set is served, check reloads in a worker thread first, so a
   * broken set never pauses the event loop (default true). The first load,
   * a clean set, and any reload the worker cannot check run on the event loop.
   */
  checkInWorker?: boolean;
  /**
   * Awaited between the steps of a load on the event loop (engineSteps: each
   * file's parse, each checker pass, the compile in parts, the correlation
   * engine). Default: one turn of the event loop.
   */
  pause?: () => Promise<void>;
}

export class PolicySet {
  /** The set being served; null until the first good load. Swapped in one assignment. */
  current: LoadedSet | null = null;
  /** The most recent attempt (good or not). */
  lastAttempt: ReloadAttempt | null = null;
  /** Shared by every loaded set: risk and quarantines survive reloads. Swept at the engine clock, which decisions read. */
  readonly risk: MemoryRiskStore;
  private readonly options: PolicySetOptions;
  private readonly cwd: string;
  private readonly paths: string[];
  private running: Promise<ReloadAttempt> | null = null;
  private pending: Promise<ReloadAttempt> | null = null;
  private watchers: FSWatcher[] = [];
  /** The plan the watchers follow (see `watchPlan`); a different one means they must be replaced. */
  private watchKey = "";
  private watcherFailed = false;
  private rewatching: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly thread = new AnalyzeThread();
  /** True while a reload's sources are being checked in the worker (tests observe it). */
  checkingInWorker = false;

  constructor(options: PolicySetOptions) {
    this.options = options;
    this.risk = options.risk ?? new MemoryRiskStore({ clock: options.clock ?? Date.now });
    this.cwd = options.cwd ?? process.cwd();
    this.paths = options.paths.map((p) => path.resolve(this.cwd, p));
  }

  /**
   * Load and check the paths; swap them in when they have no error. Resolves
   * with the attempt, never rejects. Calls made while one runs coalesce into
   * one more run after it.
   */
  reload(trigger: ReloadTrigger = "api"): Promise<ReloadAttempt> {
    if (this.running === null) {
      this.running = this.load(trigger).finally(() => {
        this.running = null;
      });
      return this.running;
    }
    // Chained after `running` settles (its finally has cleared it), so this starts a fresh load.
    this.pending ??= this.running.then(() => {
      this.pending = null;
      return this.reload(trigger);
    });
    return this.pending;
  }

  private async load(trigger: ReloadTrigger): Promise<ReloadAttempt> {
    const at = new Date();
    const started = performance.now();
    let attempt: Omit<ReloadAttempt, "durationMs" | "checkedIn">;
    let checkedIn: ReloadAttempt["checkedIn"] = "event-loop";
    try {
      if (this.closed) throw new ClosedMidLoad();
      const { sources, errors } = await readSources(this.paths);
      const loadErrors = errors.map((e) => ({ path: e.path, message: e.message }));
      if (sources.length === 0 && errors.length === 0) loadErrors.push({ path: this.paths.join(", "), message: "no .policy files found" });
      const verdict = loadErrors.length === 0 ? await this.checkAside(sources) : undefined;
      if (verdict !== undefined) checkedIn = "worker";
      if (verdict !== undefined && hasErrors(verdict.diagnostics)) {
        // Refused by the worker's check: the serving thread did none of the work.
        const diagnostics = toJsonReport(verdict.diagnostics, { cwd: this.cwd }).diagnostics;
        attempt = { at: at.toISOString(), ok: false, version: policyVersion(sources, verdict.schemaTexts), diagnostics, loadErrors, trigger };
        return this.finish({ ...attempt, durationMs: performance.now() - started, checkedIn });
      }
      // Loaded here whatever the worker said: its verdict only spares the work when it is a refusal.
      // In steps (each file's parse, the check, the compile, the detector), with the event loop
      // turning between them, so requests go on being answered by the served set meanwhile.
      // close() stops the load at its next step: a closed set is never swapped, so the rest would be wasted.
      const turnOf = this.options.pause ?? turn;
      const pause = async () => {
        await turnOf();
        if (this.closed) throw new ClosedMidLoad();
      };
      const engine = await runStepsAsync(engineSteps(sources, errors, { risk: this.risk, ...(this.options.clock ? { clock: this.options.clock } : {}) }), pause);
      const diagnostics = toJsonReport(engine.diagnostics, { cwd: this.cwd }).diagnostics;
      const ok = !hasErrors(engine.diagnostics) && loadErrors.length === 0;
      attempt = { at: at.toISOString(), ok, version: sources.length > 0 ? engine.version : null, diagnostics, loadErrors, trigger };
      if (ok) await pause();
      if (ok) {
        const prev = this.current;
        const detector = prev !== null && prev.version === engine.version ? prev.detector : engine.detector(this.options.detector ?? {});
        // The swap's own time: requests answered by the last set while this one loaded came after `at`.
        const swapped = new Date();
        this.current = {
          engine,
          version: engine.version,
          loadedAt: swapped.toISOString(),
          loadedAtMs: swapped.getTime(),
          ruleIds: engine.ruleIds,
          detector,
          diagnostics,
        };
      }
    } catch (err) {
      // Reading and checking do not throw by contract; anything else still must not take the service down
      // (nor reject the reload: `err` may be anything a step or `pause` threw, null included).
      const message = err instanceof ClosedMidLoad ? CLOSED_MID_LOAD : err instanceof Error ? err.message : String(err);
      attempt = { at: at.toISOString(), ok: false, version: null, diagnostics: [], loadErrors: [{ path: "", message }], trigger };
    }
    return this.finish({ ...attempt, durationMs: performance.now() - started, checkedIn });
  }

  /**
   * The worker thread's verdict on `sources`, or undefined when there is
   * none: no set is served yet (nothing waits; the first load also spares
   * starting a thread), the option is off, or the worker could not check.
   */
  private async checkAside(sources: readonly SourceText[]): Promise<CheckVerdict | undefined> {
    if (this.current === null || this.options.checkInWorker === false || this.closed) return undefined;
    this.checkingInWorker = true;
    try {
      return await this.thread.check(sources);
    } catch {
      return undefined;
    } finally {
      this.checkingInWorker = false;
    }
  }

  private finish(attempt: ReloadAttempt): ReloadAttempt {
    this.lastAttempt = attempt;
    try {
      this.options.onReload?.(attempt, this.current);
    } catch {
      // A failing observer must not turn a good reload into a rejected promise.
    }
    return attempt;
  }

  /**
   * Watch the paths and reload (debounced) on any change under them.
   *
   * fs.watch follows an inode, not a name: a directory deleted and made
   * again, or replaced by a rename (an atomic deploy), would leave its
   * watcher on the old inode and reloads would stop for good. So each
   * watched directory's own parent is watched for its name too, and before
   * each reload the plan (what to watch, and the identity of each directory)
   * is made again; when it changed, or a watcher failed, the watchers are
   * replaced.
   */
  async watch(): Promise<void> {
    await this.refreshWatchers();
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      // Re-planned first, so the reload reads what the new watchers now follow; serialized, so two never overlap.
      this.rewatching = this.rewatching
        .then(() => this.refreshWatchers())
        .catch(() => undefined) // the watchers stay as they were; the reload still runs
        .then(() => void this.reload("watch"));
    }, this.options.debounceMs ?? 250);
  }

  private async refreshWatchers(): Promise<void> {
    const { plan, key } = await watchPlan(this.paths);
    if (this.closed || (key === this.watchKey && !this.watcherFailed)) return;
    for (const w of this.watchers) w.close();
    this.watchers = [];
    this.watchKey = key;
    this.watcherFailed = false;
    for (const [dir, { recursive, names }] of plan) {
      try {
        const w = watch(dir, { recursive, persistent: false }, (_event, file) => {
          if (names === null || file === null || names.has(path.basename(String(file)))) this.schedule();
        });
        w.on("error", () => {
          // A failed watcher is closed by node: replace it at the next refresh.
          this.watcherFailed = true;
          this.schedule();
        });
        this.watchers.push(w);
      } catch {
        // An unwatchable path still reloads on SIGHUP and POST /v1/policies/reload.
      }
    }
  }

  /** Stop watching; a load in progress stops at its next step, and neither it nor a later reload swaps (each resolves not ok). */
  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const w of this.watchers) w.close();
    this.watchers = [];
    void this.thread.close();
  }
}

/** What a load stopped by close() reports (it was not served). */
const CLOSED_MID_LOAD = "the policy set was closed before this load finished; it was not served";

class ClosedMidLoad extends Error {
  constructor() {
    super(CLOSED_MID_LOAD);
  }
}

/** One turn of the event loop: timers, I/O and requests that are due run before this resolves. */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

type WatchPlan = Map<string, { recursive: boolean; names: Set<string> | null }>;

/**
 * What to watch for `paths`: each directory path recursively, and its parent
 * for its name (so its deletion, re-creation or replacement is seen); for a
 * file path (or one not there yet), its directory for its name, plus the
 * first step of its link when it is a relative symlink, so a Kubernetes
 * ConfigMap mount (`a.policy -> ..data/a.policy`, `..data` swapped by a
 * rename) is followed. `key` names the plan with each directory's inode.
 */
async function watchPlan(paths: readonly string[]): Promise<{ plan: WatchPlan; key: string }> {
  const plan: WatchPlan = new Map();
  const add = (dir: string, name: string | null) => {
    const entry = plan.get(dir);
    if (name === null) plan.set(dir, { recursive: true, names: null });
    else if (entry === undefined) plan.set(dir, { recursive: false, names: new Set([name]) });
    else entry.names?.add(name);
  };
  for (const p of paths) {
    const st = await stat(p).catch(() => null);
    const parent = path.dirname(p);
    if (st?.isDirectory()) add(p, null);
    else {
      const link = await readlink(p).catch(() => null);
      if (link !== null && !path.isAbsolute(link)) add(parent, link.split(/[\\/]/)[0]!);
    }
    if (parent !== p) add(parent, path.basename(p));
  }
  const parts: string[] = [];
  for (const [dir, { recursive, names }] of plan) {
    const st = await stat(dir).catch(() => null);
    parts.push(`${dir}\0${recursive}\0${names === null ? "*" : [...names].sort().join("/")}\0${st === null ? "-" : `${st.dev}:${st.ino}`}`);
  }
  return { plan, key: parts.sort().join("\n") };
}
