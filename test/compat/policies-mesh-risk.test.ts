/**
 * What the policies of an earlier version decided, they still decide (spec: a policy valid
 * before keeps its meaning); a mesh planned by an earlier version re-plans in place with the same
 * addresses and keys; a risk snapshot an earlier `detect --risk-out` wrote is read by eval and by
 * serve's risk state file. Fixtures: test/fixtures/compat/ (README.md there).
 */
import t from "tap";
import path from "node:path";
import { readFileSync, readdirSync } from "node:fs";
import { run } from "../cli/run.js";
import { loadPolicies, type Decision } from "../../src/index.js";
import { ObservedRiskStore, RiskStateFile } from "../../src/server/risk-state.js";
import { COMPAT_DIR, OLD_VERSIONS, oldFiles } from "./old-files.js";

/** A decision without its wording: effects, rules, requirements and which rules errored. */
function meaning(d: Record<string, unknown>): unknown {
  const { errors, reasons, version, notApplied, explain, ...rest } = d;
  return {
    ...rest,
    reasons: (reasons as { rule: string | null; effect: string }[] | undefined)?.map((r) => [r.rule, r.effect]),
    errors: (errors as { rule: string | null }[]).map((e) => e.rule),
  };
}

t.test("2026-12-02-899d258: its bundled policies decide 300 requests as it did", async (t) => {
  const dir = path.join(COMPAT_DIR, "2026-12-02-899d258");
  const engine = await loadPolicies(path.join(dir, "policies"));
  t.same(engine.diagnostics.filter((d) => d.severity === "error"), [], "still valid");
  const lines = readFileSync(path.join(dir, "decisions.jsonl"), "utf8").trimEnd().split("\n");
  t.equal(lines.length, 300);
  let same = 0;
  for (const [i, line] of lines.entries()) {
    const { input, decision } = JSON.parse(line) as { input: Record<string, unknown>; decision: Record<string, unknown> };
    const now = meaning(engine.evaluate(input) as Decision as unknown as Record<string, unknown>);
    if (JSON.stringify(now) === JSON.stringify(meaning(decision))) same++;
    else t.same(now, meaning(decision), `request ${i + 1}`);
  }
  t.equal(same, lines.length);
});

for (const version of OLD_VERSIONS) {
  t.test(`${version}: mesh plan over the plan it wrote`, async (t) => {
    const dir = oldFiles(t, version);
    const pol = path.join(COMPAT_DIR, "2026-12-02-899d258", "policies");
    const old = JSON.parse(readFileSync(path.join(dir, "mesh", "plan.json"), "utf8")) as { nodes: { id: string; address: string; public_key: string; endpoint: string }[]; files: string[] };
    const r = await run(["mesh", "plan", path.join(pol, "mesh"), "--nodes", path.join(pol, "mesh-nodes.json"), "--out", "mesh", "--interface", "wg-mesh", "--time", "2026-03-10T00:00:00Z"], { cwd: dir });
    t.equal(r.code, 0, r.stderr);
    const now = JSON.parse(readFileSync(path.join(dir, "mesh", "plan.json"), "utf8")) as typeof old;
    const peer = (n: (typeof old.nodes)[number]) => [n.id, n.address, n.public_key, n.endpoint];
    t.same(now.nodes.map(peer), old.nodes.map(peer), "same nodes, addresses, keys and endpoints");
    t.same([...now.files].sort(), [...old.files].sort(), "the same files, each rewritten");
    for (const node of readdirSync(path.join(dir, "mesh", "nodes"))) {
      const nft = readFileSync(path.join(dir, "mesh", "nodes", node, "wg-mesh.nft"), "utf8");
      // The table was swarm_policy_wg_mesh before 1d6bc86; docs/operations.md "Upgrading" says to delete it.
      t.match(nft, /^table inet swarm_policy_wg_x2dmesh$/m, `${node}: the table's new name`);
      t.notMatch(nft, /swarm_policy_wg_mesh/, `${node}: the old table is not this file's`);
    }
  });
}

t.test("2026-12-06-864099b: a risk snapshot of detect --risk-out is read by eval --risk and by serve's risk state", async (t) => {
  const dir = oldFiles(t, "2026-12-06-864099b");
  const pol = path.join(COMPAT_DIR, "2026-12-02-899d258", "policies");
  const input = {
    time: "2026-03-11T12:00:00Z",
    principal: { id: "kim", type: "human", roles: ["analyst"], department: "finance", tenant: "t-acme" },
    action: "dataset.read",
    resource: { id: "ds-invoices", type: "dataset", env: "prod", classification: "internal", department: "finance", tenant: "t-acme" },
    context: { source_ip: "100.64.0.9", device: { id: "d1", compliant: true, managed: true } },
  };
  const without = await run(["eval", pol, "--input", "-"], { cwd: dir, stdin: JSON.stringify(input) });
  t.match(JSON.parse(without.stdout), { decision: "allow" }, "allowed without the snapshot");
  const quarantined = await run(["eval", pol, "--input", "-", "--risk", "risk.json"], { cwd: dir, stdin: JSON.stringify(input) });
  t.equal(quarantined.code, 0, quarantined.stderr);
  t.match(JSON.parse(quarantined.stdout), { decision: "deny", rule: "swarm.access/quarantined-principal" }, "kim's quarantine holds");

  const clock = () => Date.parse("2026-03-10T00:00:00Z");
  const store = new ObservedRiskStore({ clock });
  const errors: string[] = [];
  const state = new RiskStateFile({ path: path.join(dir, "risk.json"), store, saveIntervalMs: 60_000, clock, onError: (e) => errors.push(e.message) });
  t.same(await state.start(), { raises: 1, quarantines: 1 });
  await state.close();
  t.equal(store.quarantined("kim", clock()), true);
  t.equal(store.risk("alice", clock()), 40);
  t.same(errors, []);
});
