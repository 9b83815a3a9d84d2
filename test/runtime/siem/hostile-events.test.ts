/**
 * Events from JavaScript callers that no JSON parser makes: a throwing
 * `@timestamp` getter, a Proxy whose traps throw, a revoked Proxy. `push`
 * never throws (detector.ts); such an event is malformed, counted and
 * skipped, and the stream goes on.
 */
import t from "tap";
import { detector, ev, run, T0 } from "./helpers.js";

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

// One event dated far ahead moved the watermark there: every later event was late, and late events
// are kept out of every `by ... within` rule, so a single forged `@timestamp` blinded the service's
// brute-force and travel detections until it restarted. With `maxFutureMs` such an event is refused.
t.test("maxFutureMs: an event dated too far after the clock is malformed and moves no watermark", async (t) => {
  const text = `detect "burst" {\n  where event.action == "login"\n  by user.name within 5m\n  having count >= 3\n}`;
  const login = (ms: number) => ev(ms, { event: { action: "login" }, user: { name: "u" } });
  const forged = { "@timestamp": "9999-12-31T23:59:59Z", event: { action: "login" }, user: { name: "u" } };
  const clock = () => T0 + 60_000;

  const open = detector(text);
  t.same(run(open, [login(0), forged, login(1000), login(2000)]).map((a) => a.at), [], "without the option the forged event blinds the rule");
  t.equal(open.stats().late, 2);

  const problems: string[] = [];
  const guarded = detector(text, { clock, maxFutureMs: 5 * 60_000, onProblem: (p) => problems.push(`${p.index} ${p.kind} ${p.message}`) });
  t.same(run(guarded, [login(0), forged, login(1000), login(2000)]).map((a) => a.at), [3], "the burst still fires");
  t.equal(guarded.stats().malformed, 1);
  t.equal(guarded.stats().late, 0);
  t.same(problems, ["2 malformed `@timestamp` is more than 300000 ms after the clock (2026-03-10T09:01:00.000Z)"]);
  const edge = detector(text, { clock, maxFutureMs: 5 * 60_000 });
  edge.push(ev(6 * 60_000));
  t.equal(edge.stats().malformed, 0, "exactly at the bound is accepted");
  edge.push(ev(6 * 60_000 + 1));
  t.equal(edge.stats().malformed, 1, "a millisecond after it is not");
});
