/**
 * Encryption audit over big inventories (issue #4, "Audit"): records/s and
 * peak RSS for 1,000,000 generated records as JSON Lines and as one JSON
 * array, through `openInventory` + `auditInventory` against the shipped
 * policies, beside
 * - the same audit over 250,000 records: peak RSS at 1M over peak RSS at
 *   250k is the bounded-memory check (about 1.0-1.2; memory that grew with
 *   the inventory would show about 4), and the bench fails if it exceeds 1.5.
 *   A tenth was too short on a fast host: 100,000 records were audited
 *   before the heap reached its steady size (166 MiB against 258 at 1M and
 *   214-220 at 200,000 and 2,000,000), and the check failed a bounded audit;
 * - a raw baseline: readline + JSON.parse + engine.evaluate over the same
 *   JSONL, no validation, no counting (audit records/s over raw records/s).
 *
 * Every run is its own child process, so each peak RSS is that run's alone.
 * A quarter of the records are non-compliant, so the report's bounded
 * details fill up and the rest is counted. AUDIT_BENCH_RECORDS overrides
 * the 1,000,000 (the check then compares against a quarter of it).
 *
 *   node --import tsx bench/audit.ts
 */
import { spawnSync } from "node:child_process";
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { once } from "node:events";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { auditInventory, loadPolicies, openInventory } from "../src/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const POLICIES = path.join(here, "..", "policies", "encryption");
const NOW = Date.parse("2026-03-01T00:00:00Z");

type Layout = "jsonl" | "json";
type Mode = "audit" | "raw";

interface ChildResult {
  records: number;
  seconds: number;
  maxRssMiB: number;
  nonCompliant: number;
}

const CLASSES = ["phi", "pii", "confidential", "public"] as const;

function record(i: number): object {
  const classification = CLASSES[i % 4]!;
  const compliant = i % 4 !== 3;
  const strict = classification === "phi" || classification === "pii";
  return {
    id: `obj-${i}`,
    classification,
    type: i % 10 === 0 ? "backup" : "dataset",
    tenant_id: `t-${i % 97}`,
    region: "eu-west",
    encryption: {
      cipher: compliant ? "aes-256-gcm" : "aes-256-gcm-siv",
      key_created_at: "2026-02-01T00:00:00Z",
      tee: strict,
      aad: ["tenant_id", "record_id"],
    },
  };
}

/** Write `n` records to `file` in the layout, streaming (the writer holds no more than the pipe). */
async function writeInventory(file: string, n: number, layout: Layout): Promise<void> {
  const out = createWriteStream(file);
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, "drain");
  };
  let batch = "";
  if (layout === "json") batch += "[\n";
  for (let i = 0; i < n; i++) {
    batch += JSON.stringify(record(i)) + (layout === "json" ? (i + 1 < n ? ",\n" : "\n") : "\n");
    if (batch.length > 1 << 20) {
      await write(batch);
      batch = "";
    }
  }
  if (layout === "json") batch += "]\n";
  await write(batch);
  out.end();
  await once(out, "finish");
}

/** In a child: run one measurement and print its result as JSON. */
async function child(mode: Mode, file: string): Promise<void> {
  const engine = await loadPolicies(POLICIES);
  const start = performance.now();
  let records = 0;
  let nonCompliant = 0;
  if (mode === "audit") {
    const report = await auditInventory(engine, await openInventory(file), { now: NOW });
    records = report.totals.records;
    nonCompliant = report.totals.nonCompliant;
    if (report.totals.invalid !== 0) throw new Error(`bench inventory has ${report.totals.invalid} invalid records`);
  } else {
    const time = new Date(NOW).toISOString();
    for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
      const r = engine.evaluate({ kind: "encryption", data: JSON.parse(line), time }) as { compliant?: boolean };
      records++;
      if (r.compliant !== true) nonCompliant++;
    }
  }
  const seconds = (performance.now() - start) / 1000;
  const result: ChildResult = { records, seconds, maxRssMiB: process.resourceUsage().maxRSS / 1024, nonCompliant };
  process.stdout.write(JSON.stringify(result) + "\n");
}

function measure(mode: Mode, file: string): ChildResult {
  const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "--child", mode, file], {
    encoding: "utf8",
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`audit bench child (${mode} ${file}) failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as ChildResult;
}

export interface AuditBenchResult {
  records: number;
  runs: Record<string, { records: number; recordsPerSecond: number; peakRssMiB: number }>;
  /** Peak RSS of the JSONL audit at `records` over the one at a quarter of them. */
  rssGrowth: number;
  /** JSONL audit records/s over the raw readline + evaluate loop's. */
  auditOverRaw: number;
}

export async function runAuditBench(): Promise<AuditBenchResult> {
  const n = Number(process.env.AUDIT_BENCH_RECORDS ?? 1_000_000);
  const small = Math.max(1, Math.floor(n / 4));
  const dir = mkdtempSync(path.join(os.tmpdir(), "swarm-audit-bench-"));
  try {
    const files = {
      small: path.join(dir, "small.jsonl"),
      jsonl: path.join(dir, "big.jsonl"),
      json: path.join(dir, "big.json"),
    };
    await writeInventory(files.small, small, "jsonl");
    await writeInventory(files.jsonl, n, "jsonl");
    await writeInventory(files.json, n, "json");

    console.log(`\naudit: ${n.toLocaleString("en")} records against policies/encryption (each run a child process)`);
    const runs: AuditBenchResult["runs"] = {};
    const show = (name: string, r: ChildResult) => {
      runs[name] = { records: r.records, recordsPerSecond: Math.round(r.records / r.seconds), peakRssMiB: Math.round(r.maxRssMiB) };
      console.log(`  ${name.padEnd(24)} ${String(Math.round(r.records / r.seconds)).padStart(9)} records/s   peak RSS ${r.maxRssMiB.toFixed(0).padStart(5)} MiB`);
    };
    const smallRun = measure("audit", files.small);
    show(`audit jsonl ${small.toLocaleString("en")}`, smallRun);
    const jsonlRun = measure("audit", files.jsonl);
    show(`audit jsonl ${n.toLocaleString("en")}`, jsonlRun);
    show(`audit json ${n.toLocaleString("en")}`, measure("audit", files.json));
    const raw = measure("raw", files.jsonl);
    show(`raw evaluate ${n.toLocaleString("en")}`, raw);
    if (jsonlRun.nonCompliant !== raw.nonCompliant) throw new Error(`audit counted ${jsonlRun.nonCompliant} non-compliant, the raw loop ${raw.nonCompliant}`);

    const rssGrowth = jsonlRun.maxRssMiB / smallRun.maxRssMiB;
    const auditOverRaw = jsonlRun.records / jsonlRun.seconds / (raw.records / raw.seconds);
    console.log(`  peak RSS ${n.toLocaleString("en")} / ${small.toLocaleString("en")}: ${rssGrowth.toFixed(2)}x   audit / raw records/s: ${auditOverRaw.toFixed(2)}x`);
    if (rssGrowth > 1.5) throw new Error(`audit memory grew ${rssGrowth.toFixed(2)}x from ${small} to ${n} records: not bounded`);
    return { records: n, runs, rssGrowth: Number(rssGrowth.toFixed(3)), auditOverRaw: Number(auditOverRaw.toFixed(3)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const args = process.argv.slice(2);
if (args[0] === "--child") await child(args[1] as Mode, args[2]!);
else if (process.argv[1] === fileURLToPath(import.meta.url)) await runAuditBench();
