/**
 * engine.detector(): detections write to the engine's own risk store by
 * default, so the access decisions of the same engine read them back; an
 * explicit `{ risk }` store is written instead, and read by engines sharing it.
 */
import t from "tap";
import { compile, MemoryRiskStore } from "../src/index.js";

const POLICY = `package loop
allow "read" {
  when action == "read"
}
deny "risky" {
  when risk(principal.id) >= 40
}
detect "brute" {
  severity high
  where event.outcome == "failure"
  by user.name within 10m
  having count >= 3
  then risk user.name + 50 for 1h
}
`;

t.test("an alert raises risk that the same engine's access decision reads", async (t) => {
  let now = Date.parse("2026-01-01T00:00:00Z");
  const engine = compile(POLICY, { clock: () => now });
  t.same(engine.diagnostics.filter((d) => d.severity === "error"), []);
  const ask = () => engine.evaluate({ principal: { id: "alice" }, action: "read", resource: {}, context: {} });
  t.equal((ask() as { decision: string }).decision, "allow", "before the alert");
  const detector = engine.detector();
  for (let i = 0; i < 3; i++) detector.push({ "@timestamp": new Date(now + i * 1000).toISOString(), event: { outcome: "failure" }, user: { name: "alice" } });
  t.equal(detector.stats().alerts, 1);
  const after = ask() as { decision: string; rule: string };
  t.equal(after.decision, "deny", "after the alert");
  t.equal(after.rule, "loop/risky");
  now += 2 * 3_600_000;
  t.equal((ask() as { decision: string }).decision, "allow", "after the risk expired");
});

t.test("a broken policy set refuses to build a detector", async (t) => {
  const engine = compile(POLICY.replace("user.name within", "user.name wihtin"));
  t.throws(() => engine.detector(), /policy set has errors/);
});

// The loop policy plus a mesh that reads quarantined() and a detection that quarantines hosts.
const SHARED = `${POLICY}
mesh "swarm" {
  network "100.64.0.0/10"
  listen_port 51820
  when node.attested
  unless quarantined(node.id)
}
detect "miner" {
  severity critical
  where process.name == "xmrig"
  then quarantine host.name for 2h
}
`;

t.test("engine.detector({ risk }) writes to the store passed in, which a sharing engine reads", async (t) => {
  const T0 = Date.parse("2026-01-01T00:00:00Z");
  let now = T0;
  const store = new MemoryRiskStore();
  // `reader` evaluates over the explicit store; `writer` has its own default store and only runs detection.
  const reader = compile(SHARED, { risk: store, clock: () => now });
  const writer = compile(SHARED, { clock: () => now });
  t.same(reader.diagnostics.filter((d) => d.severity === "error"), []);
  const access = (e: typeof reader) => (e.evaluate({ principal: { id: "alice" }, action: "read", resource: {}, context: {} }) as { decision: string }).decision;
  const admission = (e: typeof reader) =>
    (e.evaluate({ kind: "mesh", node: { id: "gpu-7", public_key: "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=", tags: ["worker"], attested: true } }) as { decision: string }).decision;
  t.equal(access(reader), "allow");
  t.equal(admission(reader), "admit");

  const detector = writer.detector({ risk: store });
  const at = (ms: number) => new Date(T0 + ms).toISOString();
  const alerts = [
    ...[0, 1, 2].flatMap((i) => detector.push({ "@timestamp": at(i * 1000), event: { outcome: "failure" }, user: { name: "alice" } })),
    ...detector.push({ "@timestamp": at(3000), process: { name: "xmrig" }, host: { name: "gpu-7" } }),
  ];
  t.same(alerts.map((a) => a.rule), ["brute", "miner"]);
  t.equal(store.risk("alice", T0 + 2000), 50, "then risk landed in the store passed in");
  t.equal(store.quarantined("gpu-7", T0 + 3000), true, "then quarantine landed in the store passed in");

  now = T0 + 5000;
  t.equal(access(reader), "deny", "the engine sharing the store denies");
  t.equal(admission(reader), "reject", "and rejects the quarantined node");
  t.equal(access(writer), "allow", "the writer's own default store was not written");
  t.equal(admission(writer), "admit");

  now = T0 + 2000 + 60 * 60_000;
  t.equal(access(reader), "allow", "risk lapsed after 1h");
  t.equal(admission(reader), "reject", "quarantine holds for 2h");
  now = T0 + 3000 + 2 * 60 * 60_000;
  t.equal(admission(reader), "admit", "quarantine lapsed");
});
