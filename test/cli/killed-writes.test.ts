/**
 * Verbs killed outright (SIGKILL: no handler runs, nothing is cleaned up) at
 * a known point of a write (fsync made to hang after a number of syncs, so
 * the point is known, not timed): the next run starts, and leaves the state
 * it owns as if the killed run had never been.
 */
import t from "tap";
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { signalAtMarker } from "../support/interrupts.js";
import { fixtureInventory, MESH_POLICY } from "../support/mesh-fixture.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const bin = path.join(repoRoot, "src/cli/bin.ts");

/** Every file under `dir`, relative, sorted. */
function tree(dir: string, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? tree(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
    .sort();
}

/** Run the CLI from source; after `syncsFirst` fsyncs the next one hangs, and then the process is killed with SIGKILL. */
async function killed(cwd: string, args: string[], syncsFirst: number): Promise<NodeJS.Signals | null> {
  const child = spawn(process.execPath, ["--import", "tsx", "--import", pathToFileURL(path.join(repoRoot, "test/support/hang-fsync.mjs")).href, bin, ...args], {
    cwd,
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, HANG_FSYNC_AFTER: String(syncsFirst) },
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
  await signalAtMarker(child, "fsync-hangs", "SIGKILL", "before the hang");
  return exited;
}

t.test("mesh plan killed (SIGKILL) after some node files: the next run removes those it does not write", async (t) => {
  const cwd = t.testdir({ "lab.policy": MESH_POLICY, "nodes.json": JSON.stringify(fixtureInventory()), "one.json": JSON.stringify(fixtureInventory().filter((n) => n.id === "s1")) });
  const plan = (nodes: string) => ["mesh", "plan", "lab.policy", "--nodes", nodes, "--out", "out", "--time", "2026-01-10T00:00:00Z"];
  // Killed outright once 4 files are written whole (the pending list and 3 node files; the writers run in parallel, so more are on their way): no plan.json lists them.
  t.equal(await killed(cwd, plan("nodes.json"), 2 * 4), "SIGKILL");
  const left = tree(path.join(cwd, "out")).filter((f) => f.startsWith("nodes/") && !path.basename(f).startsWith("."));
  t.ok(left.length >= 3, `the killed run left node files (${left.join(", ")})`);
  const run = spawnSync(process.execPath, ["--import", "tsx", bin, ...plan("one.json")], { cwd, encoding: "utf8" });
  t.equal(run.status, 0, run.stderr);
  const json = JSON.parse(readFileSync(path.join(cwd, "out/plan.json"), "utf8")) as { files: string[] };
  t.same(tree(path.join(cwd, "out")), [...json.files, "plan.json"].sort(), "DIR holds what plan.json lists, nothing else");
});

