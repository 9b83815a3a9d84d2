/**
 * The server's risk store (src/server/policy-set.ts): shared by every set,
 * written by the served set's detector, read by its decisions, and swept at
 * the engine clock, so a stream of alerts over ever new ids, each raised or
 * quarantined `for D`, does not grow memory for ever. What is in force at the
 * clock is never swept.
 */
import t from "tap";
import { PolicySet } from "../../src/server/policy-set.js";
import { policyDir } from "./harness.js";

const T0 = Date.parse("2026-03-10T09:00:00Z");

const POLICY = `detect "spray" {
  where event.action == "login" and event.outcome == "failure"
  then risk user.name + 60 for 1m
  then quarantine host.name for 1m
}
deny "risky" {
  when risk(principal.id) >= 50
}
allow "read" {
  when action == "read"
}
`;

t.test("lapsed risk and quarantines of a flood of distinct ids are swept at the clock", async (t) => {
  let clock = T0;
  const set = new PolicySet({ paths: [policyDir(t, { "a.policy": POLICY })], clock: () => clock, checkInWorker: false });
  t.teardown(() => set.close());
  t.equal((await set.reload("start")).ok, true);
  const served = set.current!;
  let alerts = 0;
  for (let i = 0; i < 40_000; i++) {
    clock = T0 + i * 100; // events as they come, 100ms apart, each from a new user and host
    const event = { "@timestamp": new Date(clock).toISOString(), event: { action: "login", outcome: "failure" }, user: { name: `u${i}` }, host: { name: `h${i}` } };
    alerts += served.detector.push(event).length;
    if (i % 10_000 === 9_999) t.ok(set.risk.size < 8_000, `after ${i + 1} alerts: ${set.risk.size} entities held`);
  }
  t.equal(alerts, 40_000);
  const decide = (id: string) => (served.engine.evaluate({ principal: { id }, action: "read", resource: {} }) as { decision: string }).decision;
  t.equal(decide("u39999"), "deny", "the latest raise is in force at the clock");
  t.equal(decide("u0"), "allow", "the first lapsed long ago");
});
