/**
 * Writing a plan to a directory when a write fails: the error comes back
 * only once every write already started has settled, and no write starts
 * after the first failure, so nothing changes in the directory after the
 * caller (the CLI's error message) is told.
 */
import t from "tap";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
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
