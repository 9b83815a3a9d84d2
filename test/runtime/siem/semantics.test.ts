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

t.test("sequence and all step counts: every comparison operator", async (t) => {
  // One user's events 1s apart in a 10m window: f a failed login, s a success, x another step.
  // A step's count is its events from its first to the next step's first; a run may start
  // at any event of the first step, and the earliest start complete at the firing event
  // gives the alert's events (docs/siem.md, "Matching and firing").
  const act = (c: string) => (c === "f" ? "fail" : c === "s" ? "success" : c);
  const events = (spec: string) => [...spec].map((c, i) => ev(i * SEC, { event: { action: act(c) }, user: { name: "u" } }));
  const cases: [string, string, string, number[], number[]][] = [
    // [kind and steps, events, description, fire at, alert counts]
    ["sequence { a: event.action == \"fail\" count == 2  b: event.action == \"success\" }", "fffs", "== 2 first step: the run from the second failure", [3], [3]],
    ["sequence { a: event.action == \"fail\" count == 2  b: event.action == \"success\" }", "fs", "== 2 with one failure", [], []],
    ["sequence { a: event.action == \"fail\" count == 2  b: event.action == \"success\" }", "ffsffs", "fresh after the alert", [2, 5], [3, 3]],
    ["sequence { a: event.action == \"fail\" count <= 2  b: event.action == \"success\" }", "fffs", "<= 2: earliest start that holds", [3], [3]],
    ["sequence { a: event.action == \"fail\" count < 2  b: event.action == \"success\" }", "fffs", "< 2: only the last failure", [3], [2]],
    ["sequence { a: event.action == \"fail\" count != 2  b: event.action == \"success\" }", "ffs", "!= 2: the run from the second failure", [2], [2]],
    ["sequence { a: event.action == \"fail\" count != 2  b: event.action == \"success\" }", "fffs", "!= 2: from the first of three", [3], [4]],
    ["sequence { a: event.action == \"fail\" count > 2  b: event.action == \"success\" }", "ffs", "> 2 with two", [], []],
    ["sequence { a: event.action == \"fail\" count < 1  b: event.action == \"success\" }", "ffs", "< 1 never holds", [], []],
    // A middle step is bounded: its run starts at the step before it.
    ["sequence { a: event.action == \"a\"  x: event.action == \"x\" count == 2  b: event.action == \"b\" }", "axxb", "middle == 2", [3], [4]],
    ["sequence { a: event.action == \"a\"  x: event.action == \"x\" count == 2  b: event.action == \"b\" }", "axxxb", "middle == 2 with three: no", [], []],
    ["sequence { a: event.action == \"a\"  x: event.action == \"x\" count <= 2  b: event.action == \"b\" }", "axxxbaxb", "middle <= 2: the second a starts afresh", [7], [3]],
    ["sequence { a: event.action == \"a\"  x: event.action == \"x\" count != 2  b: event.action == \"b\" }", "axxxb", "middle != 2 with three", [4], [5]],
    ["sequence { a: event.action == \"a\"  x: event.action == \"x\" count < 3  b: event.action == \"b\" }", "axxxb", "middle < 3 with three: no", [], []],
    // The last step fires as soon as its count holds.
    ["sequence { a: event.action == \"fail\"  b: event.action == \"success\" count == 2 }", "fss", "last == 2", [2], [3]],
    ["sequence { a: event.action == \"fail\"  b: event.action == \"success\" count <= 3 }", "fss", "last <= 3 holds on its first event", [1], [2]],
    ["sequence { a: event.action == \"fail\"  b: event.action == \"success\" count != 1 }", "fss", "last != 1 needs two", [2], [3]],
    // all: every event from the start goes to a step; any order.
    ["all { a: event.action == \"fail\" count == 2  b: event.action == \"success\" }", "fffs", "all == 2: from the second failure", [3], [3]],
    ["all { a: event.action == \"fail\" count == 2  b: event.action == \"success\" }", "sfff", "all == 2 after the success: a run from s needs exactly two", [2], [3]],
    ["all { a: event.action == \"fail\" count < 2  b: event.action == \"success\" }", "fffs", "all < 2: the last failure", [3], [2]],
    ["all { a: event.action == \"fail\" count != 1  b: event.action == \"success\" }", "fs", "all != 1 with one failure", [], []],
    ["all { a: event.action == \"fail\" count != 1  b: event.action == \"success\" }", "fsf", "all != 1: the second failure", [2], [3]],
    ["all { a: event.action == \"fail\" count <= 2  b: event.action == \"success\" count == 2 }", "fffss", "all, two bounded steps", [4], [4]],
  ];
  for (const [steps, spec, name, fireAt, counts] of cases) {
    const d = detector(`detect "r" { by user.name within 10m ${steps} }`);
    const alerts = run(d, events(spec));
    t.same(
      alerts.map((a) => [a.at, a.count]),
      fireAt.map((at, i) => [at, counts[i]]),
      `${name}: ${spec}`,
    );
  }
});

t.test("a bounded first step reports the events of its run: first_seen is the run's start", async (t) => {
  const d = detector(`detect "r" { by user.name within 10m sequence { a: event.action == "fail" count == 2  b: event.action == "success" } }`);
  const e = (sec: number, action: string) => ev(sec * SEC, { event: { action }, user: { name: "u" } });
  const [a] = run(d, [e(0, "fail"), e(10, "fail"), e(20, "fail"), e(30, "success")]);
  t.equal(a!.first_seen, "2026-03-10T09:00:10.000Z");
  t.same(a!.events.map((x) => (x as { "@timestamp": string })["@timestamp"]), ["2026-03-10T09:00:10.000Z", "2026-03-10T09:00:20.000Z", "2026-03-10T09:00:30.000Z"]);
});
