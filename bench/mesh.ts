/**
 * Mesh planning at scale (issue #5, "Scale"): a 10,000-node inventory with a
 * realistic tag mix through the bundled policies/mesh/swarm.policy.
 *
 * Timed separately, each after a warm-up on a smaller inventory:
 *   validate  the inventory through its ajv schema (parseMeshInventory)
 *   plan      admission of every node, stable addresses, flows, peer counts
 *             (planMesh, no I/O): the figure with the < 2 s target
 *   render    every node's wg-quick config and nftables rules in memory,
 *             bytes counted and dropped
 *   write     `writePlan` into a temporary directory (atomic files, fsync),
 *             as `swarm-policy mesh plan` does; removed afterwards
 * Peak memory is the process's maximum resident set (getrusage), and the heap
 * after the plan. The plan is checked before anything is printed: the
 * expected numbers of admitted and rejected nodes (a mismatch throws, so
 * `npm run bench` fails).
 *
 * The mix (MESH_BENCH_NODES, default 10,000): 94% workers, 0.4% schedulers,
 * 0.2% gateways, 0.16% DNS resolvers, and the rest refused for a reason each:
 * not attested, a key older than 30 days, a worker outside a TEE, quarantined
 * by the SIEM, an unknown role. Schedulers and DNS resolvers peer with every
 * worker, which is what makes their configs large (docs/mesh.md "Scale").
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import {
  compile,
  defaultRenderOptions,
  MemoryRiskStore,
  MeshTopology,
  parseMeshInventory,
  planMesh,
  renderNft,
  renderWgQuick,
  writePlan,
  type MeshPlan,
} from "../src/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const POLICY = path.join(here, "..", "policies", "mesh", "swarm.policy");
const PLAN_TIME = Date.parse("2026-06-01T00:00:00Z");
const FRESH_KEY = "2026-05-20T00:00:00Z";
const OLD_KEY = "2026-03-01T00:00:00Z";

type Role = "worker" | "scheduler" | "gateway" | "dns" | "unattested" | "old-key" | "no-tee" | "quarantined" | "unknown-role";

/** Share of each role per 10,000 nodes. */
const MIX: [Role, number][] = [
  ["worker", 9400],
  ["scheduler", 40],
  ["gateway", 20],
  ["dns", 16],
  ["unattested", 200],
  ["old-key", 150],
  ["no-tee", 100],
  ["quarantined", 50],
  ["unknown-role", 24],
];

export interface MeshInventoryCase {
  nodes: unknown[];
  quarantined: string[];
  expectAdmitted: number;
  expectRejected: number;
}

/** A `size`-node inventory in the mix above; endpoints on the benchmark underlay 198.18.0.0/15. */
export function meshInventory(size: number): MeshInventoryCase {
  const nodes: unknown[] = [];
  const quarantined: string[] = [];
  let admitted = 0;
  let n = 0;
  const counts = MIX.map(([role, per]) => [role, Math.max(1, Math.round((per * size) / 10_000))] as const);
  for (const [role, count] of counts) {
    for (let i = 0; i < count; i++, n++) {
      const id = `${role}-${String(i).padStart(5, "0")}`;
      const tags = role === "scheduler" || role === "gateway" || role === "dns" ? [role] : role === "unknown-role" ? ["batch"] : ["worker"];
      const node: Record<string, unknown> = {
        id,
        public_key: randomBytes(32).toString("base64"),
        tags,
        attested: role !== "unattested",
        tee: role !== "no-tee",
        key_created_at: role === "old-key" ? OLD_KEY : FRESH_KEY,
        endpoint: `198.18.${(n >> 8) & 0xff}.${n & 0xff}:51820`,
        region: ["eu-west", "eu-central", "us-east"][n % 3],
      };
      if (role === "scheduler" && i < 4) node.address = `100.64.0.${10 + i}`;
      nodes.push(node);
      if (role === "quarantined") quarantined.push(id);
      if (role === "worker" || role === "scheduler" || role === "gateway" || role === "dns") admitted++;
    }
  }
  return { nodes, quarantined, expectAdmitted: admitted, expectRejected: nodes.length - admitted };
}

function engineFor(quarantined: readonly string[]) {
  const risk = new MemoryRiskStore();
  for (const id of quarantined) risk.quarantine(id, PLAN_TIME - 60_000, 3_600_000);
  const engine = compile(readFileSync(POLICY, "utf8"), { file: POLICY, risk });
  if (engine.diagnostics.some((d) => d.severity === "error")) throw new Error(`${POLICY}: ${engine.diagnostics[0]!.message}`);
  return engine;
}

export function planBenchMesh(c: MeshInventoryCase): { plan: MeshPlan; validateMs: number; planMs: number } {
  const engine = engineFor(c.quarantined);
  const t0 = performance.now();
  const parsed = parseMeshInventory(c.nodes);
  const t1 = performance.now();
  if (!parsed.ok) throw new Error(`bench inventory is invalid: ${JSON.stringify(parsed.problems[0])}`);
  const plan = planMesh(engine, parsed.nodes, { time: PLAN_TIME });
  const t2 = performance.now();
  if (typeof plan === "string") throw new Error(`bench plan failed: ${plan}`);
  if (plan.nodes.length !== c.expectAdmitted || plan.rejected.length !== c.expectRejected) {
    throw new Error(`bench plan: ${plan.nodes.length} admitted / ${plan.rejected.length} rejected, expected ${c.expectAdmitted} / ${c.expectRejected}`);
  }
  return { plan, validateMs: t1 - t0, planMs: t2 - t1 };
}

export interface MeshBenchResult {
  nodes: number;
  admitted: number;
  rejected: number;
  peerings: number;
  maxPeers: number;
  validateMs: number;
  planMs: number;
  renderMs: number;
  renderedBytes: number;
  largestConfigBytes: number;
  writeMs: number | null;
  heapAfterPlanMiB: number;
  peakRssMiB: number;
}

const mib = (b: number) => Math.round((b / 1048576) * 10) / 10;

export async function runMeshBench(options: { nodes?: number; write?: boolean } = {}): Promise<MeshBenchResult> {
  const size = options.nodes ?? Number(process.env.MESH_BENCH_NODES ?? 10_000);
  const write = options.write ?? process.env.MESH_BENCH_WRITE !== "0";
  console.log(`\n== mesh plan: ${size.toLocaleString("en-US")} nodes (policies/mesh/swarm.policy)`);

  planBenchMesh(meshInventory(Math.min(1000, size))); // warm-up: compile paths, ajv, JIT
  const c = meshInventory(size);
  const { plan, validateMs, planMs } = planBenchMesh(c);
  const heapAfterPlan = process.memoryUsage().heapUsed;

  const options_ = defaultRenderOptions(plan);
  const topology = MeshTopology.of(plan);
  const r0 = performance.now();
  let renderedBytes = 0;
  let largest = 0;
  for (let i = 0; i < plan.nodes.length; i++) {
    const conf = renderWgQuick(plan, topology, i, options_);
    const nft = renderNft(plan, topology, i, options_);
    renderedBytes += conf.length + nft.length;
    if (conf.length > largest) largest = conf.length;
  }
  const renderMs = performance.now() - r0;

  let writeMs: number | null = null;
  if (write) {
    const dir = mkdtempSync(path.join(tmpdir(), "swarm-mesh-bench-"));
    try {
      const w0 = performance.now();
      await writePlan(plan, dir, options_);
      writeMs = performance.now() - w0;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const maxPeers = plan.peerCounts.reduce((a, b) => Math.max(a, b), 0);
  const result: MeshBenchResult = {
    nodes: size,
    admitted: plan.nodes.length,
    rejected: plan.rejected.length,
    peerings: plan.peerings,
    maxPeers,
    validateMs: Math.round(validateMs),
    planMs: Math.round(planMs),
    renderMs: Math.round(renderMs),
    renderedBytes,
    largestConfigBytes: largest,
    writeMs: writeMs === null ? null : Math.round(writeMs),
    heapAfterPlanMiB: mib(heapAfterPlan),
    peakRssMiB: mib(process.resourceUsage().maxRSS * 1024),
  };

  console.log(`  ${result.admitted} admitted, ${result.rejected} rejected, ${result.peerings.toLocaleString("en-US")} peerings, at most ${maxPeers} peers per node`);
  console.log(`  validate inventory  ${String(result.validateMs).padStart(6)} ms`);
  console.log(`  plan                ${String(result.planMs).padStart(6)} ms   (target < 2000 ms: ${planMs < 2000 ? "met" : "NOT met"})`);
  console.log(`  render all configs  ${String(result.renderMs).padStart(6)} ms   ${mib(renderedBytes)} MiB in all, largest wg-quick config ${mib(largest)} MiB`);
  if (writeMs !== null) console.log(`  write plan (atomic) ${String(result.writeMs).padStart(6)} ms`);
  console.log(`  heap after plan ${result.heapAfterPlanMiB} MiB, peak RSS of this process ${result.peakRssMiB} MiB (includes any benchmark run before it)`);
  return result;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await runMeshBench();
}
