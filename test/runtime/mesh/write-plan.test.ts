/**
 * Writing a plan to a directory when a write fails: the error comes back
 * only once every write already started has settled, and no write starts
 * after the first failure, so nothing changes in the directory after the
 * caller (the CLI's error message) is told.
 */
import t from "tap";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { compile } from "../../../src/engine.js";
import { planMesh, type MeshPlan } from "../../../src/runtime/mesh/plan.js";
import { defaultRenderOptions } from "../../../src/runtime/mesh/render-wg.js";
import * as atomic from "../../../src/runtime/atomic-file.js";
import { MESH_POLICY, node, PLAN_TIME } from "../../support/mesh-fixture.js";

t.test("a failed write stops the writers before the error is returned", async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "sp-write-plan-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const inventory = Array.from({ length: 120 }, (_, i) => node(`n${String(i).padStart(3, "0")}`, ["worker"]));
  const plan = planMesh(compile(MESH_POLICY, { file: "lab.policy" }), inventory, { time: PLAN_TIME }) as MeshPlan;
  t.equal(plan.nodes.length, 120);
  let inFlight = 0;
  let started = 0;
  const writeFileAtomic: typeof atomic.writeFileAtomic = async (file, data, options) => {
    started++;
    inFlight++;
    try {
      if (file.endsWith(path.join("n000", "lab.conf"))) throw new Error("disk full");
      await atomic.writeFileAtomic(file, data, options);
    } finally {
      inFlight--;
    }
  };
  const { writePlan } = await t.mockImport<typeof import("../../../src/runtime/mesh/write-plan.js")>("../../../src/runtime/mesh/write-plan.js", {
    "../../../src/runtime/atomic-file.js": { ...atomic, writeFileAtomic },
  });
  await t.rejects(writePlan(plan, dir, defaultRenderOptions(plan)), { message: "disk full" });
  t.equal(inFlight, 0, "no write still running when the error comes back");
  t.ok(started < 2 * 120, `writers stopped after the failure (${started} writes started)`);
  const settled = started;
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(started, settled, "and none starts later");
  t.notOk(readdirSync(dir).includes("plan.json"), "no plan.json for a plan not wholly written");
});

t.test("a symbolic link planted for a node's directory is not written or deleted through", async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "sp-write-plan-"));
  const elsewhere = mkdtempSync(path.join(os.tmpdir(), "sp-elsewhere-"));
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(elsewhere, { recursive: true, force: true });
  });
  const { writePlan } = await import("../../../src/runtime/mesh/write-plan.js");
  const plan = planMesh(compile(MESH_POLICY, { file: "lab.policy" }), [node("w1", ["worker"]), node("s1", ["scheduler"])], { time: PLAN_TIME }) as MeshPlan;
  const opts = defaultRenderOptions(plan);

  // Writing: nodes/w1 -> elsewhere would put w1's config there.
  mkdirSync(path.join(dir, "nodes"));
  symlinkSync(elsewhere, path.join(dir, "nodes", "w1"));
  await t.rejects(writePlan(plan, dir, opts), /symbolic link/);
  t.same(readdirSync(elsewhere), [], "nothing written through the link");

  // Removing: a previous plan.json names nodes/gone/lab.conf, and nodes/gone -> elsewhere.
  rmSync(path.join(dir, "nodes", "w1"));
  writeFileSync(path.join(elsewhere, "lab.conf"), "someone else's");
  writeFileSync(path.join(dir, "plan.json"), JSON.stringify({ format: "swarm-policy/mesh-plan/v1", files: ["nodes/gone/lab.conf"] }));
  symlinkSync(elsewhere, path.join(dir, "nodes", "gone"));
  await t.rejects(writePlan(plan, dir, opts), /symbolic link/);
  t.equal(readFileSync(path.join(elsewhere, "lab.conf"), "utf8"), "someone else's", "nothing deleted through the link");
});

t.test("directories the plan creates are not group or other writable, even under umask 000", async (t) => {
  const root = mkdtempSync(path.join(os.tmpdir(), "sp-write-plan-"));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const { writePlan } = await import("../../../src/runtime/mesh/write-plan.js");
  const plan = planMesh(compile(MESH_POLICY, { file: "lab.policy" }), [node("w1", ["worker"]), node("s1", ["scheduler"])], { time: PLAN_TIME }) as MeshPlan;
  const out = path.join(root, "deep", "out");
  const old = process.umask(0o000);
  try {
    await writePlan(plan, out, defaultRenderOptions(plan));
  } finally {
    process.umask(old);
  }
  // A world-writable nodes/w1 would let any local user swap lab.conf for one whose PostUp runs as root.
  for (const d of [path.join(root, "deep"), out, path.join(out, "nodes"), path.join(out, "nodes", "w1"), path.join(out, "nodes", "s1")]) {
    t.equal(statSync(d).mode & 0o777, 0o755, `${path.relative(root, d)} is 0755`);
  }
  t.equal(statSync(path.join(out, "nodes", "w1", "lab.conf")).mode & 0o777, 0o600, "the config stays 0600");
});

t.test("a directory group or others may write (an earlier version's under umask 000) is refused before anything is written", async (t) => {
  // A re-plan left such directories as they were and wrote into them: any local user could then
  // swap nodes/<id>/lab.conf for one whose PostUp runs as root, between the plan and its rollout.
  const { writePlan } = await import("../../../src/runtime/mesh/write-plan.js");
  const plan = planMesh(compile(MESH_POLICY, { file: "lab.policy" }), [node("w1", ["worker"]), node("s1", ["scheduler"])], { time: PLAN_TIME }) as MeshPlan;
  const opts = defaultRenderOptions(plan);
  for (const [where, mode] of [["", 0o777], ["nodes", 0o777], ["nodes/w1", 0o777], ["nodes/s1", 0o775], ["nodes/w1", 0o757]] as const) {
    const root = mkdtempSync(path.join(os.tmpdir(), "sp-write-plan-"));
    t.teardown(() => rmSync(root, { recursive: true, force: true }));
    const out = path.join(root, "out");
    await writePlan(plan, out, opts);
    const before = readFileSync(path.join(out, "nodes", "w1", "lab.conf"), "utf8");
    const planBefore = readFileSync(path.join(out, "plan.json"), "utf8");
    chmodSync(path.join(out, where), mode);
    const other = planMesh(compile(MESH_POLICY, { file: "lab.policy" }), [node("w1", ["worker"]), node("w2", ["worker"])], { time: PLAN_TIME }) as MeshPlan;
    const shown = path.join(out, where);
    await t.rejects(writePlan(other, out, defaultRenderOptions(other)), { message: `${shown} has mode 0${mode.toString(8)}: group or others may write it` }, `${where || "DIR"} ${mode.toString(8)}`);
    t.equal(readFileSync(path.join(out, "nodes", "w1", "lab.conf"), "utf8"), before, "w1's config untouched");
    t.equal(readFileSync(path.join(out, "plan.json"), "utf8"), planBefore, "plan.json untouched");
    t.ok(statSync(path.join(out, "nodes", "s1", "lab.conf")).isFile(), "s1 (not in the new plan) not removed");
    t.notOk(readdirSync(path.join(out, "nodes")).includes("w2"), "w2 not written");
  }
  // The sticky bit (as /tmp has) keeps others from replacing what is not theirs: allowed.
  const root = mkdtempSync(path.join(os.tmpdir(), "sp-write-plan-"));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const out = path.join(root, "out");
  mkdirSync(out);
  chmodSync(out, 0o1777);
  await writePlan(plan, out, opts);
  t.ok(statSync(path.join(out, "plan.json")).isFile(), "a sticky DIR is written");
});

t.test("a plan.json that is a FIFO is refused, without hanging on reading the previous plan", async (t) => {
  t.setTimeout(20_000); // a FIFO opened blocking would hang here
  const dir = mkdtempSync(path.join(os.tmpdir(), "sp-write-plan-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync("mkfifo", [path.join(dir, "plan.json")]);
  const { writePlan } = await import("../../../src/runtime/mesh/write-plan.js");
  const plan = planMesh(compile(MESH_POLICY, { file: "lab.policy" }), [node("w1", ["worker"])], { time: PLAN_TIME }) as MeshPlan;
  await t.rejects(writePlan(plan, dir, defaultRenderOptions(plan)), { name: "OutputNotRegularFileError" });
  t.ok(statSync(path.join(dir, "plan.json")).isFIFO(), "still a FIFO");
});

t.test("two runs into one directory take turns: plan.json lists exactly the node files there", async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "sp-write-plan-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const engine = compile(MESH_POLICY, { file: "lab.policy" });
  const small = planMesh(engine, [node("n1", ["worker"]), node("n2", ["worker"])], { time: PLAN_TIME }) as MeshPlan;
  const large = planMesh(engine, [node("n1", ["worker"]), node("n2", ["worker"]), node("n3", ["worker"])], { time: PLAN_TIME }) as MeshPlan;
  // The small run is held at its first write (it has read the directory's previous plan.json)...
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let held = false;
  const writeFileAtomic: typeof atomic.writeFileAtomic = async (file, data, options) => {
    if (!held && file.includes(`${path.sep}n1${path.sep}`)) {
      held = true;
      await gate;
    }
    await atomic.writeFileAtomic(file, data, options);
  };
  const { writePlan } = await t.mockImport<typeof import("../../../src/runtime/mesh/write-plan.js")>("../../../src/runtime/mesh/write-plan.js", {
    "../../../src/runtime/atomic-file.js": { ...atomic, writeFileAtomic },
  });
  const first = writePlan(small, dir, defaultRenderOptions(small));
  while (!held) await new Promise((resolve) => setImmediate(resolve));
  // ...while the large one runs: unlocked, it wrote all its files and its plan.json meanwhile.
  const second = writePlan(large, dir, defaultRenderOptions(large), { timeoutMs: 30_000 });
  await Promise.race([second, new Promise((resolve) => setTimeout(resolve, 500))]);
  release();
  await Promise.all([first, second]);
  const json = JSON.parse(readFileSync(path.join(dir, "plan.json"), "utf8")) as { files: string[] };
  const onDisk = readdirSync(path.join(dir, "nodes")).flatMap((n) => readdirSync(path.join(dir, "nodes", n)).map((f) => `nodes/${n}/${f}`));
  t.same(onDisk.sort(), [...json.files].sort(), "no node file that plan.json does not list");
  t.notOk(readdirSync(dir).includes(".plan.json.lock"), "the lock is released");
});

t.test("a run waits for the directory's lock and gives up when it is held", async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "sp-write-plan-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const plan = planMesh(compile(MESH_POLICY, { file: "lab.policy" }), [node("n1", ["worker"])], { time: PLAN_TIME }) as MeshPlan;
  writeFileSync(path.join(dir, ".plan.json.lock"), `${process.pid} another-run\n`, { mode: 0o600 }); // a live owner
  const { writePlan } = await import("../../../src/runtime/mesh/write-plan.js");
  await t.rejects(writePlan(plan, dir, defaultRenderOptions(plan), { timeoutMs: 100 }), { name: "FileLockTimeout" });
  t.same(readdirSync(dir), [".plan.json.lock"], "nothing written");
});

/** Node files under DIR/nodes, relative to DIR, sorted (dot files too). */
function nodeFiles(dir: string): string[] {
  return readdirSync(path.join(dir, "nodes")).flatMap((n) => readdirSync(path.join(dir, "nodes", n)).map((f) => `nodes/${n}/${f}`)).sort();
}

t.test("a run that never wrote plan.json: the next run removes the node files it wrote and the new plan leaves out", async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "sp-write-plan-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const engine = compile(MESH_POLICY, { file: "lab.policy" });
  const plan = (ids: string[]) => planMesh(engine, ids.map((id) => node(id, ["worker"])), { time: PLAN_TIME }) as MeshPlan;
  const { writePlan } = await import("../../../src/runtime/mesh/write-plan.js");
  const p1 = plan(["n1", "n2"]);
  await writePlan(p1, dir, defaultRenderOptions(p1));
  // The second run wrote n3's files, then failed (a full disk; a kill leaves the same) before plan.json.
  const writeFileAtomic: typeof atomic.writeFileAtomic = async (file, data, options) => {
    if (path.basename(file) === "plan.json") throw new Error("disk full");
    await atomic.writeFileAtomic(file, data, options);
  };
  const failing = await t.mockImport<typeof import("../../../src/runtime/mesh/write-plan.js")>("../../../src/runtime/mesh/write-plan.js", {
    "../../../src/runtime/atomic-file.js": { ...atomic, writeFileAtomic },
  });
  const p2 = plan(["n1", "n2", "n3"]);
  await t.rejects(failing.writePlan(p2, dir, defaultRenderOptions(p2)), { message: "disk full" });
  t.ok(nodeFiles(dir).includes("nodes/n3/lab.conf"), "n3's config was written");
  // n3 is not in the next plan: its config must not stay behind, unlisted.
  const p3 = plan(["n1"]);
  const result = await writePlan(p3, dir, defaultRenderOptions(p3));
  const json = JSON.parse(readFileSync(path.join(dir, "plan.json"), "utf8")) as { files: string[] };
  t.same(nodeFiles(dir), [...json.files].sort(), "no node file that plan.json does not list");
  t.same(result.removed.sort(), ["nodes/n2/lab.conf", "nodes/n2/lab.nft", "nodes/n3/lab.conf", "nodes/n3/lab.nft"]);
  t.same(readdirSync(dir).sort(), ["nodes", "plan.json"], "no pending list after a run that finished");
});

t.test("a pending list that cannot be read stops the run before anything is written or removed", async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "sp-write-plan-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { writePlan, PLAN_PENDING } = await import("../../../src/runtime/mesh/write-plan.js");
  const p1 = planMesh(compile(MESH_POLICY, { file: "lab.policy" }), [node("n1", ["worker"]), node("n2", ["worker"])], { time: PLAN_TIME }) as MeshPlan;
  await writePlan(p1, dir, defaultRenderOptions(p1));
  const before = nodeFiles(dir);
  const planJson = readFileSync(path.join(dir, "plan.json"), "utf8");
  writeFileSync(path.join(dir, PLAN_PENDING), '{"format":"swarm-policy-mesh-plan-pen');
  const p2 = planMesh(compile(MESH_POLICY, { file: "lab.policy" }), [node("n3", ["worker"])], { time: PLAN_TIME }) as MeshPlan;
  await t.rejects(writePlan(p2, dir, defaultRenderOptions(p2)), { message: new RegExp(`${PLAN_PENDING.replace(/\./g, "\\.")} .*is not JSON`) });
  t.same(nodeFiles(dir), before, "no node file written or removed");
  t.equal(readFileSync(path.join(dir, "plan.json"), "utf8"), planJson);
});
