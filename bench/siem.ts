/**
 * Correlation engine throughput and memory (issue #6, "Performance").
 *
 * Rates: events per second through `detector.push` on one core (one Node
 * thread) for (a) 100 filter-only rules and (b) the mixed set (50 filters,
 * 20 thresholds, 10 distinct-counts, 10 sequences), over the seeded stream
 * of siem-workload.ts, for the indexed detector and the naive baseline
 * (every rule tested on every event) in the same run. Events are generated
 * in batches outside the timed sections; both detectors must raise the same
 * alerts (a mismatch throws, so `npm run bench` fails). Targets: (a) >= 1M
 * events/s, (b) >= 300k events/s; the ratio to the naive baseline is the
 * figure that survives a loaded machine.
 *
 * Memory: 10 million events of (b) (SIEM_BENCH_MEMORY_M millions, at least
 * 3) through one indexed detector, the heap (JS heap plus array buffers,
 * where the windows keep their numbers) printed after a full GC every
 * million; flat means the windows evict by event time and nothing else
 * grows. Once settled (from 3M on) the heap must stay within
 * SETTLED_SPREAD_MIB, or the run throws and `npm run bench` fails.
 *
 * `swarm-policy detect` end to end (SIEM_BENCH_CLI_MB, default 2048, 0 to
 * skip): a generated JSONL stream of that size piped into the CLI, its
 * resident memory sampled from /proc while it runs.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { parse } from "../src/parser/parse.js";
import { compileDetectors, type Detector } from "../src/runtime/siem/detector.js";
import type { PolicyFile } from "../src/parser/ast.js";
import { EventStream, filterRules, mixedRules } from "./siem-workload.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const SEED = 20260310;
// Small batches: a batch is held until pushed, and a large one would make events that a real
// stream drops at once survive young-generation GCs, charging their promotion to push().
const BATCH = 1000;

function policy(text: string): PolicyFile {
  const { ast, diagnostics } = parse(text, "bench.policy");
  if (diagnostics.length > 0) throw new Error(`bench rules: ${diagnostics[0]!.message}`);
  return ast;
}

function gcFunction(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

interface Rate {
  events: number;
  seconds: number;
  perSecond: number;
  /** Events per second of this process's CPU time (user + system): less sensitive to a loaded machine. */
  perCpuSecond: number;
  alerts: number;
  /** A digest of the alerts (rule and last_seen), to compare indexed with naive. */
  digest: number;
}

/** Pushes `total` events (after `warmup` untimed ones) of a fresh stream; only push() is timed. */
function rate(d: Detector, total: number, warmup: number): Rate {
  const stream = new EventStream(SEED);
  let alerts = 0;
  let digest = 0;
  const count = (list: { rule: string; last_seen: string }[]) => {
    for (const a of list) {
      alerts++;
      for (const s of [a.rule, a.last_seen]) for (let i = 0; i < s.length; i++) digest = (Math.imul(digest, 31) + s.charCodeAt(i)) | 0;
    }
  };
  for (let i = 0; i < warmup; i++) count(d.push(stream.next()));
  let ns = 0n;
  let cpuUs = 0;
  const batch: unknown[] = new Array(BATCH);
  for (let done = 0; done < total; done += BATCH) {
    const n = Math.min(BATCH, total - done);
    for (let i = 0; i < n; i++) batch[i] = stream.next();
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const out = d.push(batch[i]);
      if (out.length > 0) count(out);
    }
    ns += process.hrtime.bigint() - t0;
    const c = process.cpuUsage(c0);
    cpuUs += c.user + c.system;
  }
  const seconds = Number(ns) / 1e9;
  return { events: total, seconds, perSecond: total / seconds, perCpuSecond: total / (cpuUs / 1e6), alerts, digest };
}

function fmtRate(r: number): string {
  return `${Math.round(r).toLocaleString("en-US").padStart(11)} events/s`;
}

function compare(name: string, file: PolicyFile, events: number, naiveEvents: number, target: number): Record<string, unknown> {
  const indexed = rate(compileDetectors([file]), events, 100_000);
  const naive = rate(compileDetectors([file], { index: false }), naiveEvents, 100_000);
  // Same stream, same seed: the first naiveEvents + warmup events must raise the same alerts.
  const check = rate(compileDetectors([file]), naiveEvents, 100_000);
  if (check.alerts !== naive.alerts || check.digest !== naive.digest) {
    throw new Error(`${name}: indexed and naive detectors disagree (${check.alerts} vs ${naive.alerts} alerts)`);
  }
  const ratio = indexed.perCpuSecond / naive.perCpuSecond;
  const verdict = indexed.perSecond >= target ? "meets" : "MISSES";
  console.log(`  ${name}: indexed ${fmtRate(indexed.perSecond)} (${fmtRate(indexed.perCpuSecond).trim()} of CPU time), ${verdict} target ${target.toLocaleString("en-US")}`);
  console.log(`  ${"".padEnd(name.length)}  naive   ${fmtRate(naive.perSecond)} (${fmtRate(naive.perCpuSecond).trim()} of CPU time); indexed/naive x${ratio.toFixed(1)}`);
  console.log(`  ${"".padEnd(name.length)}  ${indexed.alerts} alerts in ${events.toLocaleString("en-US")} events; naive agrees on the first ${naiveEvents.toLocaleString("en-US")}`);
  return { indexed: indexed.perSecond, indexedCpu: indexed.perCpuSecond, naive: naive.perSecond, naiveCpu: naive.perCpuSecond, ratio, target, alerts: indexed.alerts };
}

/**
 * The most the settled heap may vary over the memory run. Settled, it holds
 * about 220,000 live groups in some 240 MiB, and the live-group count moves
 * by under 1% from one million events to the next: a few MiB of spread.
 * Anything kept per event, or per group never evicted, grows with the
 * stream instead: over the 7 million settled events, 16 MiB is 2.4 bytes an
 * event, so even a small leak crosses it while the noise stays well below.
 */
const SETTLED_SPREAD_MIB = 16;

/**
 * The spread (MiB) of the heap measured after each million events, from the
 * third on (windows fill during the first 1.2M events: 10 minutes of event
 * time); throws past SETTLED_SPREAD_MIB.
 */
export function settledSpread(heapsMib: readonly number[]): number {
  const settled = heapsMib.slice(2);
  if (settled.length === 0) throw new Error("memory: fewer than 3 million events, nothing settled to compare");
  const growth = Math.max(...settled) - Math.min(...settled);
  if (!(growth <= SETTLED_SPREAD_MIB)) {
    throw new Error(`memory: the settled heap varies by ${growth.toFixed(1)} MiB over 3M..${heapsMib.length}M events, more than ${SETTLED_SPREAD_MIB} MiB: something grows with the stream`);
  }
  return growth;
}

/** Heap after GC every million events over `total` events of the mixed set; throws when it does not stay flat. */
function memory(file: PolicyFile, total: number): Record<string, unknown> {
  const gc = gcFunction();
  const d = compileDetectors([file]);
  const stream = new EventStream(SEED + 1);
  const heaps: number[] = [];
  const exact: number[] = [];
  const started = process.hrtime.bigint();
  let alerts = 0;
  for (let i = 1; i <= total; i++) {
    alerts += d.push(stream.next()).length;
    if (i % 1_000_000 === 0) {
      gc();
      // The windows' numbers live in typed arrays, whose buffers are outside the JS heap.
      const usage = process.memoryUsage();
      const mb = (usage.heapUsed + usage.arrayBuffers) / 2 ** 20;
      heaps.push(Math.round(mb));
      exact.push(mb);
      const groups = Object.values(d.stats().rules).reduce((n, r) => n + r.liveGroups, 0);
      console.log(`  ${(i / 1e6).toFixed(0).padStart(3)}M events: heap ${mb.toFixed(0).padStart(5)} MB (${(usage.arrayBuffers / 2 ** 20).toFixed(0)} in array buffers), ${groups} live groups, ${alerts} alerts`);
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const growth = settledSpread(exact);
  console.log(`  heap after 3M..${total / 1e6}M events varies by ${growth.toFixed(1)} MB, bound ${SETTLED_SPREAD_MIB} MB (generation included: ${fmtRate(total / seconds).trim()})`);
  return { heapsMb: heaps, settledSpreadMb: Math.round(growth * 10) / 10, boundMb: SETTLED_SPREAD_MIB };
}

/** The CLI reading a generated stream through a pipe; peak RSS sampled from /proc. */
export async function cli(file: string, megabytes: number): Promise<Record<string, unknown>> {
  const bin = path.join(here, "..", "src", "cli", "bin.ts");
  const child = spawn(process.execPath, ["--import", "tsx", bin, "detect", file, "--events", "-"], { stdio: ["pipe", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  const rss = (): number => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
      return m ? Number(m[1]) / 1024 : 0;
    } catch {
      return 0;
    }
  };
  const samples: [number, number][] = [];
  const stream = new EventStream(SEED + 2);
  const limit = megabytes * 2 ** 20;
  let written = 0;
  let nextSample = 0;
  const started = process.hrtime.bigint();
  const exited = new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? -1)));
  while (written < limit) {
    const lines: string[] = [];
    for (let i = 0; i < 2000; i++) lines.push(JSON.stringify(stream.next()));
    const chunk = lines.join("\n") + "\n";
    written += chunk.length;
    if (!child.stdin.write(chunk)) await new Promise((r) => child.stdin.once("drain", r));
    if (written >= nextSample) {
      samples.push([Math.round(written / 2 ** 20), Math.round(rss())]);
      nextSample += limit / 10;
    }
  }
  child.stdin.end();
  const code = await exited;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (code !== 0) throw new Error(`detect exited ${code}: ${stderr.slice(-500)}`);
  const events = Number(/^(\d+) events/m.exec(stderr)?.[1] ?? 0);
  console.log(`  ${megabytes} MB piped in ${seconds.toFixed(0)} s (${fmtRate(events / seconds).trim()}, JSON parsing included)`);
  console.log(`  resident memory (MB) by MB read: ${samples.map(([mb, r]) => `${mb}:${r}`).join("  ")}`);
  return { megabytes, seconds, events, rssByMb: samples };
}

export async function runSiemBench(): Promise<Record<string, unknown>> {
  const filters = policy(filterRules());
  const mixed = policy(mixedRules());
  console.log("\ncorrelation engine (one core; shared machine: compare the ratios)");
  const a = compare("(a) 100 filter rules", filters, 3_000_000, 500_000, 1_000_000);
  const b = compare("(b) 50/20/10/10 mixed rules", mixed, 2_000_000, 500_000, 300_000);
  const millions = Math.max(3, Math.floor(Number(process.env.SIEM_BENCH_MEMORY_M ?? 10)) || 10);
  console.log(`memory, ${millions}M events of (b):`);
  const mem = memory(mixed, millions * 1_000_000);
  const mb = Number(process.env.SIEM_BENCH_CLI_MB ?? 2048);
  let pipe: Record<string, unknown> = { skipped: true };
  if (mb > 0) {
    console.log("swarm-policy detect over a pipe, rules (b):");
    const file = path.join(mkdtempSync(path.join(tmpdir(), "siem-bench-")), "rules.policy");
    writeFileSync(file, mixedRules());
    pipe = await cli(file, mb);
  }
  return { filters: a, mixed: b, memory: mem, cli: pipe };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await runSiemBench();
