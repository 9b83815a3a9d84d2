/**
 * Events from JavaScript callers that no JSON parser makes: a throwing
 * `@timestamp` getter, a Proxy whose traps throw, a revoked Proxy. `push`
 * never throws (detector.ts); such an event is malformed, counted and
 * skipped, and the stream goes on.
 */
import t from "tap";
import { detector, ev, run } from "./helpers.js";

const boom = (): never => {
  throw new Error("hostile");
};

t.test("an event that cannot be read is malformed, not an exception out of push", async (t) => {
  const d = detector(`detect "w" { where event.action == "x" }`);
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  const events: unknown[] = [
    { get "@timestamp"(): unknown { return boom(); }, event: { action: "x" } },
    new Proxy({}, { get: boom }),
    new Proxy({}, { getPrototypeOf: boom }),
    revoked.proxy,
    ev(0, { event: { action: "x" } }),
  ];
  let alerts: { at: number }[] = [];
  t.doesNotThrow(() => (alerts = run(d, events)));
  t.same(alerts.map((a) => a.at), [4], "the good event still fires");
  const s = d.stats();
  t.equal(s.events, 5);
  t.equal(s.malformed, 4);
  t.same(s.problems.map((p) => [p.index, p.kind]), [[1, "malformed"], [2, "malformed"], [3, "malformed"], [4, "malformed"]]);
});
