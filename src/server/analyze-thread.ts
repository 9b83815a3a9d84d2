/**
 * Checking policy sources in a worker thread for the service's reloads.
 *
 * Parsing and checking a large set takes a while (one to two seconds for
 * 10,000 rules on the development machine); on the event loop every request
 * would wait for it. The worker answers whether the set checks clean: a set
 * with errors is refused without the serving thread doing any of that work
 * (an editor saving half-written policies under a watched directory costs
 * requests nothing); a clean set is then loaded on the event loop as
 * before, since compiled rules are code, which cannot cross threads. The
 * worker is started on the first reload that needs it and kept (unref'd
 * while idle, so it never holds the process open); it dies with `close()`.
 * A worker that cannot start, crashes or answers with an error rejects the
 * call, and the caller checks on its own thread instead: the worker is
 * there for latency, never for correctness.
 */
import { Worker } from "node:worker_threads";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { SourceText } from "../parser/span.js";

/** What the worker says of a set of sources. */
export interface CheckVerdict {
  /** Syntax and check diagnostics, sorted. */
  diagnostics: Diagnostic[];
  /** The schema files the check read (absolute path, text): the version depends on them. */
  schemaTexts: { file: string; text: string }[];
}

interface Reply {
  id: number;
  ok: boolean;
  verdict?: CheckVerdict;
  message?: string;
}

/** The worker's module beside this one: .ts when running from source (tsx), .js when built. */
function workerUrl(): URL {
  const here = import.meta.url;
  return new URL(here.endsWith(".ts") ? "./analyze-worker.ts" : "./analyze-worker.js", here);
}

/** A check not answered in this long ends the worker (a new one starts next time): 2 minutes. */
const DEFAULT_TIMEOUT_MS = 120_000;

export class AnalyzeThread {
  private worker: Worker | null = null;
  private readonly timeoutMs: number;
  private nextId = 1;
  /** Checks awaiting an answer, each with the worker asked (a worker that goes fails only its own). */
  private readonly waiting = new Map<number, { worker: Worker; resolve: (a: CheckVerdict) => void; reject: (e: Error) => void }>();
  private closed = false;

  constructor(options: { timeoutMs?: number } = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** The worker's verdict on `sources`. Rejects when the worker cannot give one. */
  check(sources: readonly SourceText[]): Promise<CheckVerdict> {
    if (this.closed) return Promise.reject(new Error("analysis thread closed"));
    let worker: Worker;
    try {
      worker = this.worker ?? this.start();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const id = this.nextId++;
    worker.ref(); // held open while answers are awaited (unref'd again when none are)
    return new Promise<CheckVerdict>((resolve, reject) => {
      // A worker stuck on a check would hold every later reload behind it: ended, and the caller checks here.
      const timer = setTimeout(() => {
        if (this.worker === worker) this.worker = null;
        this.failAll(new Error(`analysis thread gave no answer in ${this.timeoutMs} ms`), worker);
        void worker.terminate();
      }, this.timeoutMs);
      timer.unref();
      const settle = <T>(f: (x: T) => void) => (x: T) => {
        clearTimeout(timer);
        f(x);
      };
      this.waiting.set(id, { worker, resolve: settle(resolve), reject: settle(reject) });
      worker.postMessage({ id, sources: sources.map((s) => ({ file: s.file, text: s.text })) });
    });
  }

  /** Stops the worker; calls still waiting reject. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    this.failAll(new Error("analysis thread closed"));
    if (w !== null) await w.terminate();
  }

  private start(): Worker {
    const worker = new Worker(workerUrl());
    worker.on("message", (reply: Reply) => {
      const waiter = this.waiting.get(reply.id);
      if (waiter === undefined) return;
      this.waiting.delete(reply.id);
      if (![...this.waiting.values()].some((w) => w.worker === worker)) worker.unref();
      if (reply.ok && reply.verdict !== undefined) waiter.resolve(reply.verdict);
      else waiter.reject(new Error(reply.message ?? "check failed"));
    });
    const gone = (err: Error) => {
      if (this.worker === worker) this.worker = null; // the next call starts a fresh one
      this.failAll(err, worker);
    };
    worker.on("error", gone);
    worker.on("exit", (code) => gone(new Error(`analysis thread exited (${code})`)));
    this.worker = worker;
    return worker;
  }

  /** Rejects the checks waiting on `worker` (on any worker when not given). */
  private failAll(err: Error, worker?: Worker): void {
    for (const [id, w] of [...this.waiting]) {
      if (worker !== undefined && w.worker !== worker) continue;
      this.waiting.delete(id);
      w.reject(err);
    }
  }
}
