/**
 * The mesh plan as a pure function: admission with reasons, refused keys and
 * pins, peers and inbound rules per connect rule (table-driven), the same
 * answer for the same inputs, time and risk store as inputs, and the ways a
 * plan cannot be made.
 */
import t from "tap";
import { compile, Engine } from "../../../src/engine.js";
import { SourceText } from "../../../src/parser/span.js";
import { MemoryRiskStore } from "../../../src/evaluator/stores.js";
import { MeshTopology, planMesh, type MeshPlan } from "../../../src/runtime/mesh/plan.js";
import { planToJson } from "../../../src/runtime/mesh/plan-json.js";
import { fixtureInventory, keyFor, MESH_POLICY, node, PLAN_TIME } from "../../support/mesh-fixture.js";

const engine = compile(MESH_POLICY, { file: "lab.policy" });

function plan(inv = fixtureInventory(), time = PLAN_TIME, e = engine): MeshPlan {
  const p = planMesh(e, inv, { time });
  if (typeof p === "string") throw new Error(p);
  return p;
}

const ids = (p: MeshPlan, list: number[]) => list.map((i) => p.nodes[i]!.id);
const idx = (p: MeshPlan, id: string) => p.nodes.findIndex((n) => n.id === id);

t.test("admission: who is in, who is out and why", async (t) => {
  const p = plan();
  t.same(p.nodes.map((n) => n.id), ["d1", "g1", "s1", "w1", "w2"], "admitted, sorted by id");
  t.same(
    p.rejected.map((r) => [r.id, r.reasons]),
    [
      ["old1", ["WireGuard key older than 30 days"]],
      ["x1", ["`when node.attested` does not hold"]],
    ],
  );
  t.equal(p.nodes[idx(p, "s1")]!.address, "100.64.0.10", "the pin is kept");
  t.ok(p.nodes[idx(p, "s1")]!.pinned);
  t.equal(new Set(p.nodes.map((n) => n.address)).size, 5, "distinct addresses");
  t.equal(p.time, "2026-01-10T00:00:00.000Z");
  t.equal(p.policyVersion, engine.version);
  t.same([p.settings.listenPort, p.settings.keepaliveSeconds, p.settings.maxKeyAgeText, p.settings.space.cidr], [51820, 25, "30d", "100.64.0.0/10"]);
});

t.test("peers and inbound rules follow the connect rules", async (t) => {
  const p = plan();
  const topo = MeshTopology.of(p);
  const peers: Record<string, string[]> = {
    w1: ["d1", "s1"],
    w2: ["d1", "s1"],
    s1: ["d1", "g1", "w1", "w2"],
    g1: ["d1", "s1"],
    d1: ["g1", "s1", "w1", "w2"],
  };
  for (const [id, want] of Object.entries(peers)) t.same(ids(p, topo.peersOf(idx(p, id))), want, `${id}'s peers`);
  t.equal(p.peerings, 7);
  t.same(p.peerCounts, [4, 2, 4, 2, 2]);
  const inbound = (id: string) => topo.inboundOf(idx(p, id)).map((x) => [x.flow.rule.text, x.flow.from, ids(p, x.sources), x.flow.ports]);
  t.same(inbound("s1"), [
    ['"worker" -> "scheduler" ports [7000, 7001]', "worker", ["w1", "w2"], [7000, 7001]],
    ['"scheduler" <-> "gateway"', "gateway", ["g1"], null],
  ]);
  t.same(inbound("d1"), [['"*" -> "dns" ports [53]', "*", ["g1", "s1", "w1", "w2"], [53]]]);
  t.same(inbound("w1"), [], "nothing may open a connection to a worker");
  const cases: [string, string, number | undefined, boolean][] = [
    ["w1", "s1", 7000, true],
    ["w1", "s1", 7001, true],
    ["w1", "s1", 7002, false],
    ["s1", "w1", 7000, false],
    ["g1", "s1", 22, true],
    ["s1", "g1", 443, true],
    ["w1", "w2", undefined, false],
    ["w1", "d1", 53, true],
    ["d1", "w1", 53, false],
    ["d1", "d1", 53, false],
  ];
  for (const [a, b, port, want] of cases) t.equal(topo.allows(idx(p, a), idx(p, b), port), want, `${a} -> ${b}:${port ?? "any"}`);
});

t.test("a pure function: same inputs, same plan; inventory order does not matter", async (t) => {
  const a = planToJson(plan(), "lab");
  const b = planToJson(plan([...fixtureInventory()].reverse()), "lab");
  t.same(a, b);
  t.same(planToJson(plan(), "lab"), a);
});

t.test("time and the risk store are inputs", async (t) => {
  const later = plan(fixtureInventory(), Date.parse("2026-02-15T00:00:00Z"));
  t.same(later.nodes, [], "every key is over 30 days old by then");
  t.ok(later.rejected.every((r) => r.reasons[0] === "WireGuard key older than 30 days" || r.id === "x1"));
  const risk = new MemoryRiskStore();
  risk.quarantine("g1", PLAN_TIME - 1000, 3_600_000);
  const p = plan(fixtureInventory(), PLAN_TIME, compile(MESH_POLICY, { file: "lab.policy", risk }));
  t.same(p.rejected.find((r) => r.id === "g1")?.reasons, ["`unless quarantined(node.id)` holds"]);
  t.same(ids(p, MeshTopology.of(p).peersOf(idx(p, "s1"))), ["d1", "w1", "w2"]);
});

t.test("refusals: shared keys, bad pins, malformed keys", async (t) => {
  const inv = [
    ...fixtureInventory(),
    node("dup", ["worker"], { public_key: keyFor("w2").publicKey }),
    node("far", ["worker"], { address: "10.1.2.3" }),
    node("pin2", ["worker"], { address: "100.64.0.10" }),
    node("badkey", ["worker"], { public_key: "not-a-key" }),
  ];
  const p = plan(inv);
  const why = Object.fromEntries(p.rejected.map((r) => [r.id, r.reasons]));
  t.same(why["dup"], ['public key is also used by node "w2"']);
  t.same(why["w2"], ['public key is also used by node "dup"'], "fail closed: neither node keeps the key");
  t.same(why["far"], ["pinned address 10.1.2.3 is outside the mesh network 100.64.0.0/10"]);
  t.same(why["pin2"], ['pinned address 100.64.0.10 is also pinned by node "s1"']);
  t.same(why["s1"], ['pinned address 100.64.0.10 is also pinned by node "pin2"']);
  t.same(why["badkey"], ["public key is not 32 bytes of base64"]);
});

t.test("a rejected node's key does not come back under another id", async (t) => {
  // g1 is quarantined; "g2" carries g1's key. WireGuard knows peers by key only: admitting g2
  // would let the quarantined machine back into every config that peers with g2.
  const risk = new MemoryRiskStore();
  risk.quarantine("g1", PLAN_TIME - 1000, 3_600_000);
  const inv = [...fixtureInventory(), node("g2", ["gateway"], { public_key: keyFor("g1").publicKey })];
  const p = plan(inv, PLAN_TIME, compile(MESH_POLICY, { file: "lab.policy", risk }));
  const why = Object.fromEntries(p.rejected.map((r) => [r.id, r.reasons]));
  t.same(why["g1"], ["`unless quarantined(node.id)` holds"]);
  t.same(why["g2"], ['public key is also used by node "g1", which is rejected']);
  t.notOk(p.nodes.some((n) => n.publicKey === keyFor("g1").publicKey), "the key is in no config");
  // A malformed key shared with a rejected node stays the malformed-key rejection.
  const bad = plan([node("a", ["worker"], { public_key: "nope" }), node("b", ["worker"], { public_key: "nope" })]);
  t.same(bad.rejected.map((r) => r.reasons), [["public key is not 32 bytes of base64"], ["public key is not 32 bytes of base64"]]);
});

t.test("no plan without a clean policy set and one mesh", async (t) => {
  t.equal(planMesh(compile('mesh "m" {\n  network "nope"\n}\n'), [], { time: PLAN_TIME }), "policy set has errors");
  t.equal(planMesh(compile('allow "a" {\n  when action == "x"\n}\n'), [], { time: PLAN_TIME }), "no mesh block is loaded");
  const two = compile('mesh "a" {\n  network "100.64.0.0/16"\n}\nmesh "b" {\n  network "100.65.0.0/16"\n  when node.tags contains "x"\n}\n', { file: "two.policy" });
  t.equal(planMesh(two, [], { time: PLAN_TIME }), "several meshes are loaded (a, b); choose one with --mesh");
  t.equal(planMesh(two, [], { time: PLAN_TIME, mesh: "c" }), 'no mesh named "c" is loaded');
  const twins = new Engine(
    [new SourceText("p.policy", 'package p\nmesh "m" {\n  network "100.64.0.0/16"\n}\n'), new SourceText("q.policy", 'package q\nmesh "m" {\n  network "100.65.0.0/16"\n}\n')],
    [],
  );
  t.equal(planMesh(twins, [], { time: PLAN_TIME, mesh: "m" }), 'several meshes are named "m" (p/m, q/m); choose one by id with --mesh');
  const q = planMesh(twins, [], { time: PLAN_TIME, mesh: "q/m" });
  t.equal(typeof q === "string" ? q : q.settings.id, "q/m", "by id: that block");
  const b = planMesh(two, [node("n1", ["x"]), node("n2", ["y"])], { time: PLAN_TIME, mesh: "b" });
  if (typeof b === "string") throw new Error(b);
  t.same(b.nodes.map((n) => n.id), ["n1"], "admission of the mesh that was named");
  t.ok(b.nodes[0]!.address.startsWith("100.65."));
  t.equal(planMesh(engine, [], { time: Number.NaN }), "planning time is not a valid time");
  // Finite, but no RFC 3339 time: beyond a Date's range toISOString threw; past year 9999 every node
  // would be rejected with an input `time` error.
  for (const time of [1e16, -1e16, Date.UTC(10000, 0, 1), Date.UTC(-1, 0, 1)]) t.equal(planMesh(engine, [], { time }), "planning time is not a valid time", String(time));
  t.equal(typeof planMesh(engine, [], { time: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }), "object", "year 9999 plans");
});

t.test("an IPv6 mesh", async (t) => {
  const e = compile('mesh "v6" {\n  network "fd00:5157::/48"\n  connect "a" <-> "b"\n}\n');
  const p = planMesh(e, [node("n1", ["a"]), node("n2", ["b"], { address: "fd00:5157::2" })], { time: PLAN_TIME });
  if (typeof p === "string") throw new Error(p);
  t.equal(p.nodes[1]!.address, "fd00:5157::2");
  t.match(p.nodes[0]!.address, /^fd00:5157:/);
  t.equal(p.peerings, 1);
});
