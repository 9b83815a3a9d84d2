/**
 * The spec differential for mesh plans (spec/LANGUAGE.md section 6): random
 * mesh policies (test/support/spec-block-gen.ts) with random `connect`
 * rules, and random inventories, through planMesh and the rendered
 * wg-quick and nftables files, against test/support/spec-reference-plan.ts.
 * Must agree: which nodes are planned (admitted, with a key of their own and
 * a pin that can be kept); every planned address a usable one of the
 * network, no two alike, a pin kept; each node's [Peer] sections exactly
 * its peers, each with that peer's key and AllowedIPs its overlay address
 * alone; and, for every pair of planned nodes and probe port, whether the
 * receiver's nftables rules accept a new connection from the sender. The
 * same inventory in another order must give the same plan.
 *
 * SPEC_DIFF_SEED (default fixed, printed) and SPEC_DIFF_PLANS (default 300)
 * tune it. A failure prints the seed, the policy and the inventory.
 */
import t from "tap";
import { compile, defaultRenderOptions, MeshTopology, parseMeshInventory, planMesh, renderNft, renderWgQuick } from "../../../src/index.js";
import { prng } from "../../support/prng.js";
import { parseIpRef } from "../../support/spec-reference.js";
import { allowsRef, peersRef, planRef, usableIn } from "../../support/spec-reference-plan.js";
import { CLOCK, Rand, serialize, STORE } from "../../support/spec-policy-gen.js";
import { PROBE_PORTS, randomInventory, randomMeshPolicy } from "../../support/spec-block-gen.js";
import { engineStore } from "../../support/spec-store.js";

const SEED = Number(process.env["SPEC_DIFF_SEED"] ?? 0x5bec0de);
const PLANS = Number(process.env["SPEC_DIFF_PLANS"] ?? 300);

/** A wg-quick file's interface address and its peers as `key address`. */
function readWg(text: string): { address: string | null; peers: string[] } {
  let address: string | null = null;
  const peers: string[] = [];
  let key: string | null = null;
  for (const line of text.split("\n")) {
    const m = /^(\w+) = (.*)$/.exec(line.trim());
    if (line.trim() === "[Peer]") key = null;
    if (m === null) continue;
    if (m[1] === "Address") address = m[2]!;
    if (m[1] === "PublicKey") key = m[2]!;
    if (m[1] === "AllowedIPs") peers.push(`${key} ${m[2]}`);
  }
  return { address, peers: peers.sort() };
}

/** Whether a node's nftables input chain accepts a new TCP connection from `from` on `port`. */
function nftAccepts(text: string, from: string, port: number): boolean {
  const sets = new Map<string, string[]>();
  for (const m of text.matchAll(/set (flow_\d+) \{\n\t\ttype \w+\n\t\telements = \{ ([^}]*) \}/g)) sets.set(m[1]!, m[2]!.split(/,\s*/));
  for (const m of text.matchAll(/ip6? saddr @(flow_\d+)(?: tcp dport (\d+|\{ [\d, ]+ \}))? accept/g)) {
    const ports = m[2] === undefined ? null : m[2].replace(/[{} ]/g, "").split(",").map(Number);
    if (sets.get(m[1]!)!.includes(from) && (ports === null || ports.includes(port))) return true;
  }
  return false;
}

t.test(`mesh plans are the spec reference's (SPEC_DIFF_SEED=${SEED}, ${PLANS} plans)`, async (t) => {
  const g = new Rand(prng(SEED + 4));
  let planned = 0;
  let peerings = 0;
  let refusedPolicies = 0;
  const accepted = { yes: 0, no: 0 };
  for (let n = 0; n < PLANS; n++) {
    const gp = randomMeshPolicy(g, { admissive: true });
    const mesh = gp.policy.meshes[g.int(gp.policy.meshes.length)]!;
    const now = CLOCK - g.int(3) * 3600_000;
    const inventory = JSON.parse(serialize(randomInventory(g, mesh.network, now))) as Record<string, unknown>[];
    const engine = compile(gp.text, { file: "p.policy", clock: () => CLOCK, risk: engineStore() });
    if (engine.diagnostics.some((d) => d.severity === "error")) {
      refusedPolicies++;
      continue;
    }
    const where = `(SPEC_DIFF_SEED=${SEED}, plan ${n}, mesh ${mesh.id})\n--- policy\n${gp.text}--- inventory\n${JSON.stringify(inventory)}`;
    const parsed = parseMeshInventory(inventory);
    if (!parsed.ok) {
      t.fail(`the generated inventory is refused: ${JSON.stringify(parsed.problems)} ${where}`);
      return;
    }
    const plan = planMesh(engine, parsed.nodes, { time: now, ...(gp.policy.meshes.length > 1 ? { mesh: mesh.id } : {}) });
    if (typeof plan === "string") {
      t.fail(`no plan: ${plan} ${where}`);
      return;
    }
    const want = planRef(gp.policy, mesh, inventory, now, STORE);
    const got = plan.nodes.map((x) => x.id);
    if (JSON.stringify(got) !== JSON.stringify([...want.keys()].sort())) {
      t.same(got, [...want.keys()].sort(), `the planned nodes differ from the spec reference's ${where}`);
      return;
    }
    // Stable addresses (spec section 6): the same inventory in another order is the same plan.
    const shuffled = [...parsed.nodes].sort(() => g.next() - 0.5);
    const again = planMesh(engine, shuffled, { time: now, ...(gp.policy.meshes.length > 1 ? { mesh: mesh.id } : {}) });
    const summary = (p: typeof plan | string) => (typeof p === "string" ? p : JSON.stringify({ nodes: p.nodes.map((x) => [x.id, x.address]), rejected: p.rejected.map((x) => x.id) }));
    if (summary(again) !== summary(plan)) {
      t.same(summary(again), summary(plan), `the plan depends on the inventory's order ${where}`);
      return;
    }
    const network = parseIpRef(mesh.network)!;
    const seen = new Set<string>();
    const topology = MeshTopology.of(plan);
    const options = defaultRenderOptions(plan);
    for (const node of plan.nodes) {
      const ref = want.get(node.id)!;
      const a = parseIpRef(node.address);
      const problem =
        a === null || !usableIn(network, a) ? "is not a usable address of the network" : seen.has(`${a.v6}:${a.net}`) ? "is taken twice" : ref.pin !== null && !(ref.pin.net === a.net && ref.pin.v6 === a.v6) ? "is not the pinned one" : null;
      if (problem !== null) {
        t.fail(`${node.id}: ${node.address} ${problem} ${where}`);
        return;
      }
      seen.add(`${a!.v6}:${a!.net}`);
      const wg = readWg(renderWgQuick(plan, topology, node.index, options));
      const peers = plan.nodes.filter((y) => y.id !== node.id && peersRef(mesh.connects, node.tags, y.tags)).map((y) => `${y.publicKey} ${y.address}/${a!.v6 ? 128 : 32}`);
      const wgWant = { address: `${node.address}/${network.prefix}`, peers: peers.sort() };
      if (JSON.stringify(wg) !== JSON.stringify(wgWant)) {
        t.same(wg, wgWant, `${node.id}'s wg-quick config differs from the spec reference's ${where}`);
        return;
      }
      peerings += peers.length;
      const nft = renderNft(plan, topology, node.index, options);
      for (const from of plan.nodes) {
        if (from.id === node.id) continue;
        for (const port of PROBE_PORTS) {
          const yes = allowsRef(mesh.connects, from.tags, node.tags, port);
          if (nftAccepts(nft, from.address, port) !== yes) {
            t.fail(`${node.id}'s nftables ${yes ? "refuse" : "accept"} ${from.id} on port ${port} ${where}\n--- nft\n${nft}`);
            return;
          }
          accepted[yes ? "yes" : "no"]++;
        }
      }
    }
    planned += plan.nodes.length;
  }
  t.pass(`${PLANS - refusedPolicies} plans agree: ${planned} nodes planned, ${peerings / 2} peerings, ${accepted.yes} accepted and ${accepted.no} refused connections`);
  t.ok(refusedPolicies < PLANS / 5, `the checker refuses few generated policies (${refusedPolicies})`);
  t.ok(planned > PLANS / 2 && peerings > PLANS && accepted.yes > PLANS && accepted.no > PLANS, "the generator reaches plans with peers, accepted and refused connections");
});
