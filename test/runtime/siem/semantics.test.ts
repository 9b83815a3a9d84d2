/**
 * Correlation semantics beyond the basics in detector.test.ts (issue #6,
 * "Engine"): every comparison operator of `having count` and `having
 * distinct`, out-of-order events within the allowed lateness placed by event
 * time, the per-group event cap, and missing-field counts per rule.
 */
import t from "tap";
import { detector, ev, run, MIN, SEC } from "./helpers.js";

const login = (ms: number, user: string, extra: Record<string, unknown> = {}) => ev(ms, { event: { action: "login" }, user: { name: user }, ...extra });

t.test("having count: every comparison operator", async (t) => {
  // Six events of one user, 1s apart, in a 1m window; the alert fires when the
  // condition becomes true on arrival, then the group starts afresh.
  const cases: [string, number[]][] = [
    [">= 3", [2, 5]],
    ["> 3", [3]],
    ["== 2", [1, 3, 5]],
    ["!= 1", [1, 3, 5]],
    ["< 3", [0, 1, 2, 3, 4, 5]],
    ["<= 1", [0, 1, 2, 3, 4, 5]],
    ["< 1", []],
  ];
  for (const [cond, fireAt] of cases) {
    const d = detector(`detect "r" { where event.action == "login" by user.name within 1m having count ${cond} }`);
    t.same(run(d, [0, 1, 2, 3, 4, 5].map((i) => login(i * SEC, "u"))).map((a) => a.at), fireAt, `count ${cond}`);
  }
});

t.test("having distinct: every comparison operator", async (t) => {
  // Values a a b c c d: distinct counts 1 1 2 3 3 4 without resets; after a
  // reset at b, c c d count 1 1 2.
  const values = ["a", "a", "b", "c", "c", "d"];
  const cases: [string, number[]][] = [
    [">= 2", [2, 5]],
    ["> 2", [3]],
    ["== 2", [2, 5]],
    ["!= 1", [2, 5]],
    ["< 2", [0, 1, 2, 3, 4, 5]],
    ["<= 0", []],
  ];
  for (const [cond, fireAt] of cases) {
    const d = detector(`detect "r" { where event.action == "login" by user.name within 1m having distinct host.name ${cond} }`);
    const events = values.map((h, i) => login(i * SEC, "u", { host: { name: h } }));
    t.same(run(d, events).map((a) => a.at), fireAt, `distinct ${cond}`);
  }
});

t.test("out-of-order events within the allowed lateness are placed by event time", async (t) => {
  const seq = `detect "s" {
  by user.name within 1m
  sequence {
    a: event.action == "a"
    b: event.action == "b"
  }
}`;
  const e = (ms: number, action: string) => ev(ms, { event: { action }, user: { name: "u" } });
  // b at 10s arrives before a at 5s: in event time, a comes first.
  t.same(run(detector(seq, { allowedLatenessMs: 30 * SEC }), [e(10 * SEC, "b"), e(5 * SEC, "a")]).map((a) => a.at), [1], "the late a completes the sequence");
  const d = detector(seq, { allowedLatenessMs: 30 * SEC });
  const a = run(d, [e(10 * SEC, "b"), e(5 * SEC, "a")]);
  t.equal(a[0]!.first_seen, "2026-03-10T09:00:05.000Z");
  t.equal(a[0]!.last_seen, "2026-03-10T09:00:10.000Z");
  t.same(a[0]!.events.map((x) => (x as { event: { action: string } }).event.action), ["a", "b"], "events in event-time order");
  // Beyond the allowed lateness it is counted as late and takes no part.
  const strict = detector(seq, { allowedLatenessMs: 2 * SEC });
  t.same(run(strict, [e(10 * SEC, "b"), e(5 * SEC, "a")]), []);
  t.equal(strict.stats().late, 1);
  // a b, then a late a before the b: in time order a a b, already fired; nothing new.
  t.same(run(detector(seq, { allowedLatenessMs: MIN }), [e(0, "a"), e(10 * SEC, "b"), e(5 * SEC, "a")]).map((x) => x.at), [1]);

  const count = `detect "c" { where event.action == "x" by user.name within 10s having count >= 2 }`;
  const x = (ms: number) => ev(ms, { event: { action: "x" }, user: { name: "u" } });
  t.same(run(detector(count, { allowedLatenessMs: MIN }), [x(30 * SEC), x(25 * SEC)]).map((a) => a.at), [1], "a late event inside the group's window counts");
  t.same(run(detector(count, { allowedLatenessMs: MIN }), [x(30 * SEC), x(15 * SEC)]).map((a) => a.at), [], "one more than the window behind the group's newest does not");
});

t.test("the per-group event cap drops the oldest events and counts them", async (t) => {
  const distinct = `detect "d" { where event.action == "login" by user.name within 1h having distinct host.name >= 3 }`;
  const hosts = (hs: string[]) => hs.map((h, i) => login(i * SEC, "u", { host: { name: h } }));
  const d1 = detector(distinct, { maxEventsPerGroup: 3 });
  t.same(run(d1, hosts(["h1", "h1", "h1", "h2", "h3"])).map((a) => a.at), [4], "h1 h2 h3 still fit");
  t.equal(d1.stats().rules["d/d"]!.evictedEvents, 2);
  const d2 = detector(distinct, { maxEventsPerGroup: 3 });
  t.same(run(d2, hosts(["h1", "h2", "h1", "h1", "h1", "h3"])), [], "h2 was dropped before h3 came");
  t.equal(d2.stats().rules["d/d"]!.evictedEvents, 3);
  t.same(run(detector(distinct), hosts(["h1", "h2", "h1", "h1", "h1", "h3"])).map((a) => a.at), [5], "without the cap it fires");

  const count = detector(`detect "c" { where event.action == "login" by user.name within 1h having count >= 5 }`, { maxEventsPerGroup: 2 });
  t.same(run(count, [0, 1, 2, 3, 4].map((i) => login(i, "u"))).map((a) => a.at), [4], "a count window keeps its threshold whatever the cap");
  t.equal(count.stats().rules["d/c"]!.evictedEvents, 0);

  // A sequence without `by ... within` has an unbounded window: the cap is its only bound.
  const bare = detector(`detect "s" { sequence { a: event.action == "a" b: event.action == "b" } }`, { maxEventsPerGroup: 100 });
  const stream = Array.from({ length: 1000 }, (_, i) => ev(i, { event: { action: "c" } })).map((e, i) => (i % 2 === 0 ? { ...e, event: { action: "b" } } : e));
  run(bare, stream);
  t.equal(bare.stats().rules["d/s"]!.evictedEvents, 400, "500 b events, 100 kept");
});

t.test("missing fields are counted per rule, where they are read", async (t) => {
  const d = detector(`
detect "where" { where user.name == "x" }
detect "by" { where event.action == "login" by user.name within 1m having count >= 9 }
detect "distinct" { where event.action == "login" by user.name within 1m having distinct host.name >= 9 }
detect "step" { by user.name within 1m sequence { a: event.action == "login" and host.name == "h" } }
detect "target" { where event.action == "login" then risk host.name + 10 }
`);
  run(d, [ev(0, { event: { action: "login" } }), ev(1, { event: { action: "login" }, user: { name: "u" } })]);
  const missing = Object.fromEntries(Object.entries(d.stats().rules).map(([id, r]) => [id, r.missingField]));
  t.same(missing, {
    "d/where": 1,
    "d/by": 1,
    "d/distinct": 2,
    // A step that lacks a field is just not matched (every step runs on every event).
    "d/step": 0,
    "d/target": 2,
  });
});
