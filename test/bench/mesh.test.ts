/**
 * The mesh benchmark's inventory and checks (correctness only, no timing): a
 * small run of the same code plans the expected admitted and rejected
 * counts, every rejected node for the reason its role was built to fail,
 * and writes every planned file.
 */
import t from "tap";
import { meshInventory, planBenchMesh, runMeshBench } from "../../bench/mesh.js";

t.test("the bench inventory fails each refused role for its own reason", async (t) => {
  const c = meshInventory(2000);
  t.equal(c.nodes.length, 2000);
  t.equal(c.expectAdmitted + c.expectRejected, 2000);
  t.ok(c.quarantined.length > 0);
  const { plan } = planBenchMesh(c);
  const expected: Record<string, RegExp> = {
    unattested: /when node\.attested/,
    "old-key": /older than 30 days/,
    "no-tee": /must run in a TEE/,
    quarantined: /quarantined\(node\.id\)/,
    "unknown-role": /contains_any/,
  };
  const wrong = plan.rejected.filter((r) => {
    const role = r.id.replace(/-\d+$/, "");
    return !(role in expected) || r.reasons.length !== 1 || !expected[role]!.test(r.reasons[0]!);
  });
  t.same(wrong, [], "every refused node is refused for its role's reason, and no other node is refused");
  const r = await runMeshBench({ nodes: 2000, write: true });
  t.equal(r.admitted, c.expectAdmitted);
  t.equal(r.rejected, c.expectRejected);
  // Schedulers and DNS resolvers peer with every worker: the largest config has nearly every admitted node.
  t.ok(r.maxPeers >= r.admitted - 1 - 8, `max peers ${r.maxPeers} of ${r.admitted}`);
  t.ok(r.writeMs !== null);
  t.ok(r.renderedBytes > 0);
});
