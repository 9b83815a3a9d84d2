/**
 * engine.detector(): detections write to the engine's own risk store by
 * default, so the access decisions of the same engine read them back.
 */
import t from "tap";
import { compile } from "../src/index.js";

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
