/**
 * Access decisions against peers (issue #3, "Performance"): the shared
 * workload at N = 10, 100, 1,000 and the derived N = 10,000, run through our
 * engine, the plain unindexed JS loop, cedar-wasm, casbin and
 * json-rules-engine in one process.
 *
 * For every engine and N, every request's decision is first checked against
 * the expected one (a mismatch throws, naming the engine, N and request, so
 * `npm run bench` exits non-zero); that pass is timed too, and fast engines
 * get more timed rounds within a budget. Each decision is timed on its own
 * (performance.now() around the call, the timer's own cost measured and
 * subtracted), inputs in each engine's native shape built beforehand.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ALL_SIZES, DERIVED_SIZE, derivationOf, loadWorkload, type Expected, type Workload, type WorkloadRequest } from "./workload.js";
import { createPlainLoopEngine } from "./peers/plain-loop.js";
import { createCedarEngine } from "./peers/cedar.js";
import { createCasbinEngine } from "./peers/casbin.js";
import { createJreEngine } from "./peers/json-rules-engine.js";
import { createOursEngine, toPolicyText } from "./peers/swarm-policy.js";
import type { EngineOptions } from "../src/index.js";

/** What an engine said about one request, in the terms the check needs. */
export interface Verdict {
  decision: string;
  /** Every determining policy (compared with the expected reasons as a set). */
  reasons?: string[];
  /** The deciding policy (must be one of the expected reasons); null: the engine says none decided. */
  rule?: string | null;
  errors?: unknown[];
}

/** One engine, ready to decide: `prepare` is untimed, `run` is what is timed. */
export interface BenchEngine {
  prepare: (req: WorkloadRequest) => unknown;
  run: (input: unknown) => unknown;
  read: (out: unknown) => Verdict;
  /** `run` returns a promise. */
  async?: boolean;
}

export class DecisionMismatch extends Error {
  constructor(engine: string, n: number, requestId: string, detail: string) {
    super(`${engine} at N=${n}: request ${requestId}: ${detail}`);
    this.name = "DecisionMismatch";
  }
}

function showExpected(e: Expected): string {
  return `${e.decision} (${e.reasons.length > 0 ? e.reasons.join(", ") : "no policy applies"})`;
}

/** The reason a verdict disagrees with the expected decision, or undefined when it agrees. */
export function verdictMismatch(v: Verdict, e: Expected): string | undefined {
  const want = `expected ${showExpected(e)}`;
  if (v.decision !== e.decision) return `${want}, got ${v.decision}`;
  if (v.errors !== undefined && v.errors.length > 0) return `${want}, got ${v.decision} with errors ${JSON.stringify(v.errors)}`;
  if (v.reasons !== undefined) {
    const got = [...v.reasons].sort().join(", ");
    if (got !== [...e.reasons].sort().join(", ")) return `${want}, got ${v.decision} decided by (${got})`;
  }
  if (v.rule !== undefined) {
    if (v.rule === null ? e.reasons.length > 0 : !e.reasons.includes(v.rule)) {
      return `${want}, got ${v.decision} decided by ${v.rule ?? "no rule"}`;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------- timing

const now = (): number => performance.now();

/** The median cost of the timing itself (two performance.now() calls), in microseconds. */
function timerOverheadUs(): number {
  const xs = new Float64Array(200_000);
  for (let i = 0; i < xs.length; i++) {
    const t0 = now();
    xs[i] = now() - t0;
  }
  return quantile(xs, 0.5) * 1000;
}

function quantile(xs: Float64Array, q: number): number {
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

interface Budget {
  /** Calls before anything is timed (or WARMUP_MS, whichever comes first). */
  warmupCalls: number;
  /** Timed milliseconds wanted after the check pass. */
  extraMs: number;
  maxSamples: number;
}

const WARMUP_MS = 300;
const FAST: Budget = { warmupCalls: 20_000, extraMs: 1000, maxSamples: 500_000 };
const SLOW: Budget = { warmupCalls: 50, extraMs: 1000, maxSamples: 20_000 };

export interface Measured {
  medianUs: number;
  p99Us: number;
  meanUs: number;
  samples: number;
  /** Wall time of the checked pass over every request. */
  checkPassS: number;
  buildMs: number;
}

export interface Skipped {
  skipped: string;
  estimatedS: number;
  buildMs: number;
}

/** Checks every request against `w.expected`, timing each call, then times more rounds. */
async function measure(name: string, engine: BenchEngine, w: Workload, budget: Budget, overheadUs: number, buildMs: number): Promise<Measured> {
  const inputs = w.requests.map((r) => engine.prepare(r));
  const samples = new Float64Array(Math.max(budget.maxSamples, inputs.length));
  let count = 0;
  const warmEnd = now() + WARMUP_MS;
  for (let k = 0; k < budget.warmupCalls && now() < warmEnd; k++) {
    const out = engine.run(inputs[k % inputs.length]);
    if (engine.async) await out;
  }

  const passStart = now();
  for (let i = 0; i < inputs.length; i++) {
    const t0 = now();
    let out = engine.run(inputs[i]);
    if (engine.async) out = await out;
    samples[count++] = now() - t0;
    const why = verdictMismatch(engine.read(out), w.expected[i]!);
    if (why !== undefined) throw new DecisionMismatch(name, w.n, w.requests[i]!.id, why);
  }
  const checkPassS = (now() - passStart) / 1000;

  const extraEnd = now() + budget.extraMs;
  if (engine.async) {
    for (let i = 0; count < samples.length; i = (i + 1) % inputs.length) {
      const t0 = now();
      await engine.run(inputs[i]);
      const t1 = now();
      samples[count++] = t1 - t0;
      if (t1 >= extraEnd) break;
    }
  } else {
    count = timeSyncRounds(engine.run, inputs, samples, count, extraEnd);
  }

  const xs = samples.subarray(0, count);
  for (let i = 0; i < xs.length; i++) xs[i] = Math.max(0, xs[i]! * 1000 - overheadUs);
  let sum = 0;
  for (let i = 0; i < xs.length; i++) sum += xs[i]!;
  return { medianUs: quantile(xs, 0.5), p99Us: quantile(xs, 0.99), meanUs: sum / xs.length, samples: count, checkPassS, buildMs };
}

/** Kept apart from `measure` so the hot loop holds no await. Returns the new sample count. */
function timeSyncRounds(run: (input: unknown) => unknown, inputs: unknown[], samples: Float64Array, count: number, end: number): number {
  let sink: unknown;
  for (let i = 0; count < samples.length; i = (i + 1) % inputs.length) {
    const t0 = now();
    sink = run(inputs[i]);
    const t1 = now();
    samples[count++] = t1 - t0;
    if (t1 >= end) break;
  }
  if (sink === Symbol.for("never")) console.log(sink);
  return count;
}

/**
 * Times a few calls of a slow engine at large N and extrapolates the checked
 * pass over every request, so a peer that would take minutes is reported as
 * skipped instead of run. Stops probing once the probe alone says "too slow".
 */
async function estimatePassS(engine: BenchEngine, w: Workload, limitS: number): Promise<number> {
  const probe = w.requests.slice(0, 4).map((r) => engine.prepare(r));
  const first = engine.run(probe[0]);
  if (engine.async) await first;
  const t0 = now();
  let calls = 0;
  for (const input of probe) {
    const out = engine.run(input);
    if (engine.async) await out;
    calls++;
    if ((now() - t0) * w.requests.length > limitS * 1000 * calls * 2) break;
  }
  return ((now() - t0) / calls / 1000) * w.requests.length;
}

// ---------------------------------------------------------------- engines

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function packageVersion(name: string): string {
  const file = path.join(repoRoot, "node_modules", name, "package.json");
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}

interface EngineSpec {
  name: string;
  /** Peers run at N = 10,000 only when the checked pass would take under this. */
  peer: boolean;
  budget: Budget;
  build: (w: Workload) => Promise<{ engine: BenchEngine; buildMs: number }>;
}

async function timed<T>(f: () => Promise<T> | T): Promise<{ value: T; ms: number }> {
  const t0 = now();
  const value = await f();
  return { value, ms: now() - t0 };
}

const OURS = "swarm-policy";
const PLAIN = "plain JS loop";

/** Our engine on a workload; `notApplied: false` only to measure the always-on explanation. */
function buildOurs(w: Workload, options: EngineOptions = {}): { engine: BenchEngine; buildMs: number } {
  const ours = createOursEngine(w.policies, `bench-${w.n}.policy`, options);
  const engine: BenchEngine = {
    prepare: ours.prepare as BenchEngine["prepare"],
    run: ours.run as BenchEngine["run"],
    read: (out) => ours.read(out as Parameters<typeof ours.read>[0]),
  };
  return { engine, buildMs: ours.compileMs };
}

function engineSpecs(): EngineSpec[] {
  return [
    {
      name: OURS,
      peer: false,
      budget: FAST,
      build: async (w) => buildOurs(w),
    },
    {
      name: PLAIN,
      peer: false,
      budget: FAST,
      build: async (w) => {
        const { value: decide, ms } = await timed(() => createPlainLoopEngine(w.policies));
        const engine: BenchEngine = {
          prepare: (r) => r,
          run: decide as BenchEngine["run"],
          read: (out) => {
            const d = out as ReturnType<typeof decide>;
            return { decision: d.decision, rule: d.rule ?? null };
          },
        };
        return { engine, buildMs: ms };
      },
    },
    {
      name: `cedar-wasm ${packageVersion("@cedar-policy/cedar-wasm")}`,
      peer: true,
      budget: SLOW,
      build: async (w) => {
        const { value: c, ms } = await timed(() => createCedarEngine(w.policies));
        return { engine: c as unknown as BenchEngine, buildMs: ms };
      },
    },
    {
      name: `casbin ${packageVersion("casbin")}`,
      peer: true,
      budget: SLOW,
      build: async (w) => {
        const { value: c, ms } = await timed(() => createCasbinEngine(w.policies));
        const engine: BenchEngine = {
          prepare: c.prepare,
          run: c.run as BenchEngine["run"],
          read: (out) => {
            const d = c.read(out as Parameters<typeof c.read>[0]);
            // casbin names the matching line on allow only.
            return d.rule === undefined ? { decision: d.decision } : { decision: d.decision, rule: d.rule };
          },
        };
        return { engine, buildMs: ms };
      },
    },
    {
      name: `json-rules-engine ${packageVersion("json-rules-engine")}`,
      peer: true,
      budget: SLOW,
      build: async (w) => {
        const { value: j, ms } = await timed(() => createJreEngine(w.policies));
        return { engine: { ...(j as unknown as BenchEngine), async: true }, buildMs: ms };
      },
    },
  ];
}

// ---------------------------------------------------------------- report

/** The checked pass of a peer at N = 10,000 must fit in this, else it is skipped. */
const PEER_LIMIT_S = 60;
/**
 * The access bench's own time budget, so that `npm run bench` (with the
 * front-end bench) stays under 3 minutes on 2 cores: optional peer runs at
 * N = 10,000 that would go past it are skipped, and say so.
 */
const TOTAL_BUDGET_S = 150;

export interface AccessResults {
  workload: { dir: string; requests: number; sizes: number[]; derived: string };
  timerOverheadUs: number;
  engines: Record<string, Record<string, Measured | Skipped | { skipped: string }>>;
  /** Peer median over our median, per N. */
  speedup: Record<string, Record<string, number>>;
  compile10kMs?: number;
  /** The always-on explain's cost, when the engine can turn it off; else why not measured. */
  explainOverhead: string;
  targets?: Record<string, boolean>;
}

function fmtUs(x: number): string {
  if (x >= 1000) return Math.round(x).toLocaleString("en-US");
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function cell(m: Measured | Skipped | { skipped: string } | undefined): string {
  if (m === undefined) return "-";
  if ("skipped" in m) return "skipped";
  return `${fmtUs(m.medianUs)} / ${fmtUs(m.p99Us)}`;
}

function isMeasured(m: unknown): m is Measured {
  return typeof m === "object" && m !== null && "medianUs" in m;
}

export async function runAccessBench(): Promise<AccessResults> {
  const specs = engineSpecs();
  const overheadUs = timerOverheadUs();
  const results: AccessResults = {
    workload: { dir: "../shared/bench/workload", requests: 0, sizes: [...ALL_SIZES], derived: "" },
    timerOverheadUs: overheadUs,
    engines: {},
    speedup: {},
    explainOverhead: "not measured",
  };
  const started = now();
  const measureInto = async (spec: EngineSpec, built: { engine: BenchEngine; buildMs: number }, w: Workload): Promise<void> => {
    const m = await measure(spec.name, built.engine, w, spec.budget, overheadUs, built.buildMs);
    results.engines[spec.name]![String(w.n)] = m;
    console.log(`  ${spec.name} N=${w.n}: ${w.requests.length} decisions agree; ${fmtUs(m.medianUs)} us median, ${m.samples} samples`);
  };

  console.log(`\naccess decisions (issue #3): every request checked against its expected decision, then timed`);
  for (const n of ALL_SIZES) {
    const w = loadWorkload(n);
    results.workload.requests = w.requests.length;
    const d = derivationOf(w);
    if (d !== undefined) {
      results.workload.derived =
        `N=${n}: the N=1000 forbids plus its ${d.permitsPerCopy} permits cloned into ${d.copies} copies under new role and resource-type names ` +
        `(the last copy partial); request i moved into copy i mod ${d.copies}; expectations from the reference loop`;
    }
    const peersAtLargeN: { spec: EngineSpec; built: { engine: BenchEngine; buildMs: number }; estimatedS: number }[] = [];
    for (const spec of specs) {
      const row = (results.engines[spec.name] ??= {});
      const key = String(n);
      if (spec.peer && n === DERIVED_SIZE) {
        // Peers at N = 10,000 run only when their checked pass fits PEER_LIMIT_S:
        // first a linear extrapolation from N = 1,000, then a probe.
        const at1k = row["1000"];
        const extrapolatedS = isMeasured(at1k) ? (at1k.meanUs * (n / 1000) * w.requests.length) / 1e6 : 0;
        if (extrapolatedS > 2 * PEER_LIMIT_S) {
          row[key] = { skipped: `extrapolated from N=1000: ${extrapolatedS.toFixed(0)} s for the checked pass (limit ${PEER_LIMIT_S} s)`, estimatedS: extrapolatedS, buildMs: 0 };
          continue;
        }
      }
      const built = await spec.build(w);
      if (spec.peer && n === DERIVED_SIZE) {
        const estimatedS = await estimatePassS(built.engine, w, PEER_LIMIT_S);
        if (estimatedS > PEER_LIMIT_S) {
          row[key] = { skipped: `probed: ${estimatedS.toFixed(0)} s estimated for the checked pass (limit ${PEER_LIMIT_S} s)`, estimatedS, buildMs: built.buildMs };
        } else {
          peersAtLargeN.push({ spec, built, estimatedS });
        }
        continue;
      }
      await measureInto(spec, built, w);
    }
    // The cheapest peers first, each only while the whole run stays within its budget.
    peersAtLargeN.sort((a, b) => a.estimatedS - b.estimatedS);
    for (const { spec, built, estimatedS } of peersAtLargeN) {
      const elapsedS = (now() - started) / 1000;
      if (elapsedS + estimatedS > TOTAL_BUDGET_S) {
        results.engines[spec.name]![String(n)] = {
          skipped: `${estimatedS.toFixed(0)} s estimated for the checked pass would take the access bench past its ${TOTAL_BUDGET_S} s budget (${elapsedS.toFixed(0)} s used)`,
          estimatedS,
          buildMs: built.buildMs,
        };
        continue;
      }
      await measureInto(spec, built, w);
    }
  }

  // The always-on explanation (notApplied): the same engine with it off, at N = 1,000,
  // measured alternately (off, on, off, on) and each side's best median kept.
  {
    const w = loadWorkload(1000);
    const med = { on: Infinity, off: Infinity };
    for (const side of ["off", "on", "off", "on"] as const) {
      const built = buildOurs(w, { notApplied: side === "on" });
      const m = await measure(`${OURS} (notApplied ${side})`, built.engine, w, FAST, overheadUs, built.buildMs);
      med[side] = Math.min(med[side], m.medianUs);
    }
    const pct = (100 * (med.on - med.off)) / med.off;
    results.explainOverhead = `${pct.toFixed(1)}% at N=1000 (median ${fmtUs(med.on)} us with notApplied, ${fmtUs(med.off)} us without)`;
    console.log(`  always-on explain (notApplied): ${results.explainOverhead}; target < 10%`);
  }

  // Our compile time for 10,000 rules: median of three compiles.
  const text10k = toPolicyText(loadWorkload(DERIVED_SIZE).policies);
  const ours10k = results.engines[OURS]?.[String(DERIVED_SIZE)];
  if (isMeasured(ours10k)) {
    const times = [ours10k.buildMs];
    for (let i = 0; i < 2; i++) times.push(createOursEngine(loadWorkload(DERIVED_SIZE).policies, "bench-10000.policy").compileMs);
    results.compile10kMs = quantile(Float64Array.from(times), 0.5);
  }

  const oursRow = results.engines[OURS] ?? {};
  for (const spec of specs) {
    if (spec.name === OURS) continue;
    const row: Record<string, number> = {};
    for (const n of ALL_SIZES) {
      const a = oursRow[String(n)];
      const b = results.engines[spec.name]?.[String(n)];
      if (isMeasured(a) && isMeasured(b) && a.medianUs > 0) row[String(n)] = b.medianUs / a.medianUs;
    }
    results.speedup[spec.name] = row;
  }

  // The table.
  const w0 = 26;
  const wc = 20;
  const header = "engine".padEnd(w0) + ALL_SIZES.map((n) => `N=${n}`.padStart(wc)).join("");
  console.log(`\nmicroseconds per decision, median / p99 (${results.workload.requests} requests per N; timer cost ${(overheadUs * 1000).toFixed(0)} ns subtracted)`);
  console.log(header);
  for (const spec of specs) {
    const row = results.engines[spec.name] ?? {};
    console.log(spec.name.padEnd(w0) + ALL_SIZES.map((n) => cell(row[String(n)]).padStart(wc)).join(""));
  }
  console.log(`\nspeed-up of ${OURS} (peer median / our median)`);
  for (const spec of specs) {
    if (spec.name === OURS) continue;
    const row = results.speedup[spec.name] ?? {};
    console.log(`vs ${spec.name}`.padEnd(w0) + ALL_SIZES.map((n) => (row[String(n)] === undefined ? "-" : `${row[String(n)]!.toFixed(1)}x`).padStart(wc)).join(""));
  }
  for (const spec of specs) {
    for (const [n, m] of Object.entries(results.engines[spec.name] ?? {})) {
      if (!isMeasured(m)) console.log(`note: ${spec.name} at N=${n} skipped: ${m.skipped}`);
    }
  }
  console.log(`note: N=${DERIVED_SIZE} uses a derived request set; ${results.workload.derived}`);

  if (results.compile10kMs !== undefined) {
    console.log(`\n${OURS} compile of ${DERIVED_SIZE} rules (${(Buffer.byteLength(text10k) / 1e6).toFixed(2)} MB of .policy): ${results.compile10kMs.toFixed(0)} ms (median of 3)`);
  }

  // Issue #3's targets, reported (not enforced).
  const o1k = oursRow["1000"];
  const o10k = oursRow[String(DERIVED_SIZE)];
  const plain1k = results.engines[PLAIN]?.["1000"];
  if (isMeasured(o1k) && isMeasured(o10k) && isMeasured(plain1k)) {
    results.targets = {
      "N=1000 median < 1 us": o1k.medianUs < 1,
      "N=1000 p99 < 5 us": o1k.p99Us < 5,
      "N=1000 >= 10x the plain loop": plain1k.medianUs / o1k.medianUs >= 10,
      "N=10000 median < 2 us": o10k.medianUs < 2,
      "compile of 10000 rules < 1 s": (results.compile10kMs ?? Infinity) < 1000,
    };
    console.log("targets (issue #3): " + Object.entries(results.targets).map(([k, ok]) => `${k}: ${ok ? "met" : "MISSED"}`).join("; "));
  }
  return results;
}
