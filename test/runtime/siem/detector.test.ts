import t from "tap";
import { detector, ev, run, MIN, SEC, T0 } from "./helpers.js";

const login = (ms: number, user: string | undefined, outcome: string, extra: Record<string, unknown> = {}) =>
  ev(ms, { event: { action: "login", outcome }, ...(user === undefined ? {} : { user: { name: user } }), ...extra });

t.test("where: one alert per matching event, with the section 7 shape", async (t) => {
  const d = detector(`
const bad = ["evil"]
detect "bad-user" {
  severity high
  tags ["MITRE:T1078"]
  where user.name in bad
}`);
  const alerts = run(d, [ev(0, { user: { name: "evil" } }), ev(SEC, { user: { name: "good" } }), ev(2 * SEC, { user: { name: "evil" } })]);
  t.same(alerts.map((a) => a.at), [0, 2]);
  const { at: _at, ...a } = alerts[0]!;
  t.same(a, {
    rule: "bad-user",
    severity: "high",
    group: {},
    first_seen: "2026-03-10T09:00:00.000Z",
    last_seen: "2026-03-10T09:00:00.000Z",
    count: 1,
    events: [ev(0, { user: { name: "evil" } })],
    tags: ["MITRE:T1078"],
  });
});

t.test("a const shadows an event field of the same name; `now` is the event time", async (t) => {
  const d = detector(`
const user = "not-an-event-field"
detect "c" {
  where user == "not-an-event-field" and hour(now) == 9
}`);
  t.equal(run(d, [ev(0, { user: "x" })]).length, 1, "user is the const");
  t.equal(run(d, [ev(2 * 60 * MIN, { user: "x" })]).length, 0, "11:00 is not hour 9");
});

t.test("event fields named like item words (ECS package.*) are read, grouped and counted", async (t) => {
  const d = detector(`
detect "new-packages" {
  where event.category == "package" and package.name starts_with "lib" and test["suite"] == "canary"
  by package.name within 10m
  having distinct host.name >= 2
}`);
  const pkg = (ms: number, name: string, host: string) => ev(ms, { event: { category: "package" }, package: { name }, host: { name: host }, test: { suite: "canary" } });
  const alerts = run(d, [pkg(0, "libssl", "h1"), pkg(SEC, "libxml", "h2"), pkg(2 * SEC, "libssl", "h1"), pkg(3 * SEC, "openssl", "h3"), pkg(4 * SEC, "libssl", "h2")]);
  t.same(alerts.map((a) => [a.group, a.count]), [[{ "package.name": "libssl" }, 3]]);
});

t.test("where errors: a missing field does not match and is counted per rule", async (t) => {
  const d = detector(`detect "w" { where user.name == "a" }`);
  t.equal(run(d, [ev(0, {}), ev(1, { user: { name: "a" } })]).length, 1);
  t.equal(d.stats().rules["d/w"]!.missingField, 1);
  t.equal(d.stats().rules["d/w"]!.matched, 1);
});

// having: table of thresholds and window boundaries.
const countCases: { name: string; op: string; n: number; times: number[]; within: string; fireAt: number[] }[] = [
  { name: ">= 3 within 1m, exactly 1m apart fires", op: ">=", n: 3, times: [0, 30 * SEC, MIN], within: "1m", fireAt: [2] },
  { name: ">= 3 within 1m, 1m + 1ms apart does not", op: ">=", n: 3, times: [0, 30 * SEC, MIN + 1], within: "1m", fireAt: [] },
  { name: "> 2 is >= 3", op: ">", n: 2, times: [0, 1, 2], within: "1m", fireAt: [2] },
  { name: "== 2 fires on the second", op: "==", n: 2, times: [0, 1, 2], within: "1m", fireAt: [1] },
  { name: "fresh window after an alert: 6 events, >= 3, two alerts", op: ">=", n: 3, times: [0, 1, 2, 3, 4, 5], within: "1m", fireAt: [2, 5] },
  { name: "sliding: old events drop out", op: ">=", n: 3, times: [0, 50 * SEC, 70 * SEC, 100 * SEC], within: "1m", fireAt: [3] },
];
for (const c of countCases) {
  t.test(`having count ${c.name}`, async (t) => {
    const d = detector(`detect "r" {
  where event.action == "login"
  by user.name within ${c.within}
  having count ${c.op} ${c.n}
}`);
    const alerts = run(d, c.times.map((ms) => login(ms, "alice", "failure")));
    t.same(alerts.map((a) => a.at), c.fireAt);
  });
}

t.test("having count: the alert reports the window's events, group, first and last seen", async (t) => {
  const d = detector(`detect "r" {
  severity low
  where event.action == "login"
  by user.name, source.ip within 10m
  having count >= 2
}`);
  const a = run(d, [login(0, "bob", "failure", { source: { ip: "1.2.3.4" } }), login(MIN, "bob", "failure", { source: { ip: "1.2.3.4" } })]);
  t.equal(a.length, 1);
  t.same(a[0]!.group, { "user.name": "bob", "source.ip": "1.2.3.4" });
  t.equal(a[0]!.count, 2);
  t.equal(a[0]!.first_seen, "2026-03-10T09:00:00.000Z");
  t.equal(a[0]!.last_seen, "2026-03-10T09:01:00.000Z");
  t.equal(a[0]!.severity, "low");
});

t.test("groups are separate: failures of different users do not add up", async (t) => {
  const d = detector(`detect "r" { where event.action == "login" by user.name within 10m having count >= 2 }`);
  t.same(run(d, [login(0, "a", "failure"), login(1, "b", "failure"), login(2, "a", "failure")]).map((a) => a.at), [2]);
});

t.test("an event lacking a by field takes no part and is counted", async (t) => {
  const d = detector(`detect "r" { where event.action == "login" by user.name within 10m having count >= 2 }`);
  const alerts = run(d, [login(0, "a", "failure"), login(1, undefined, "failure"), login(2, undefined, "failure")]);
  t.same(alerts, [], "no null group");
  t.equal(d.stats().rules["d/r"]!.missingField, 2);
  t.equal(d.stats().rules["d/r"]!.matched, 1);
});

t.test("at most 10 events in an alert; count is all of them", async (t) => {
  const d = detector(`detect "r" { where event.action == "login" by user.name within 10m having count >= 12 }`);
  const a = run(d, Array.from({ length: 12 }, (_, i) => login(i, "a", "failure")));
  t.equal(a.length, 1);
  t.equal(a[0]!.count, 12);
  t.equal(a[0]!.events.length, 10);
  t.same(a[0]!.events[0], login(0, "a", "failure"));
});

t.test("having distinct", async (t) => {
  const rule = (n: number) => `detect "scan" {
  where event.category == "network"
  by source.ip within 1m
  having distinct destination.port >= ${n}
}`;
  const flow = (ms: number, port: unknown) => ev(ms, { event: { category: "network" }, source: { ip: "10.0.0.1" }, destination: { port } });
  t.same(run(detector(rule(3)), [flow(0, 22), flow(1, 22), flow(2, 80), flow(3, 22), flow(4, 443)]).map((a) => a.at), [4], "repeats count once");
  t.same(run(detector(rule(3)), [flow(0, 22), flow(1, 80), flow(MIN + 1, 443)]).map((a) => a.at), [], "distinct values evicted with their events");
  t.same(run(detector(rule(3)), [flow(0, 22), flow(1, 80), flow(MIN, 443)]).map((a) => a.at), [2], "inclusive window");
  t.same(run(detector(rule(3)), [flow(0, [22, 80]), flow(1, [80, 443])]).map((a) => a.at), [1], "arrays count each element");
  t.same(run(detector(rule(2)), [flow(0, "22"), flow(1, 22)]).map((a) => a.at), [1], "the string 22 and the number 22 differ");
  const d = detector(rule(2));
  t.same(run(d, [flow(0, 22), ev(1, { event: { category: "network" }, source: { ip: "10.0.0.1" } }), flow(2, 22)]), [], "no distinct field: no part");
  t.equal(d.stats().rules["d/scan"]!.missingField, 1);
});

t.test("sequence (ordered)", async (t) => {
  const rule = `detect "bf" {
  by user.name within 10m
  sequence {
    failures: event.action == "login" and event.outcome == "failure" count >= 3
    success: event.action == "login" and event.outcome == "success"
  }
  then risk user.name + 40 for 1h
}`;
  const f = (ms: number) => login(ms, "alice", "failure");
  const s = (ms: number) => login(ms, "alice", "success");
  const cases: [string, unknown[], number[]][] = [
    ["three failures then a success", [f(0), f(1), f(2), s(3)], [3]],
    ["two failures then a success", [f(0), f(1), s(2)], []],
    ["success first does not count", [s(0), f(1), f(2), f(3)], []],
    ["success first, then the full sequence", [s(0), f(1), f(2), f(3), s(4)], [4]],
    ["more failures than needed", [f(0), f(1), f(2), f(3), f(4), s(5)], [5]],
    ["exactly 10m from first failure to success fires", [f(0), f(1), f(2), s(10 * MIN)], [3]],
    ["10m + 1ms does not", [f(0), f(1), f(2), s(10 * MIN + 1)], []],
    ["a later start inside the window still matches", [f(0), f(5 * MIN), f(6 * MIN), f(7 * MIN), s(10 * MIN + 1)], [4]],
    ["fresh after an alert: the next success alone does not fire", [f(0), f(1), f(2), s(3), s(4)], [3]],
    ["fresh after an alert: a second full sequence fires again", [f(0), f(1), f(2), s(3), f(4), f(5), f(6), s(7)], [3, 7]],
  ];
  for (const [name, events, fireAt] of cases) t.same(run(detector(rule), events).map((a) => a.at), fireAt, name);
  const a = run(detector(rule), [f(0), f(1), f(2), f(3), s(4)]);
  t.equal(a[0]!.count, 5, "every event the sequence used");
  t.equal(a[0]!.first_seen, "2026-03-10T09:00:00.000Z");
});

t.test("sequence: one event fills at most one step", async (t) => {
  // Every login matches both steps; two steps need two events.
  const d = () =>
    detector(`detect "two" {
  by user.name within 10m
  sequence {
    a: event.action == "login"
    b: event.action == "login"
  }
}`);
  t.same(run(d(), [login(0, "u", "x")]).map((a) => a.at), [], "one event is not two steps");
  t.same(run(d(), [login(0, "u", "x"), login(1, "u", "x")]).map((a) => a.at), [1]);
  const all = () =>
    detector(`detect "two" {
  by user.name within 10m
  all {
    a: event.action == "login"
    b: event.action == "login" count >= 2
  }
}`);
  t.same(run(all(), [login(0, "u", "x"), login(1, "u", "x")]).map((a) => a.at), [], "all: two events for three step slots");
  t.same(run(all(), [login(0, "u", "x"), login(1, "u", "x"), login(2, "u", "x")]).map((a) => a.at), [2]);
});

t.test("all (any order)", async (t) => {
  const rule = `detect "ge" {
  by user.name within 30m
  all {
    grant: event.action == "grant"
    export: event.action == "export"
  }
}`;
  const e = (ms: number, action: string, user = "max") => ev(ms, { event: { action }, user: { name: user } });
  t.same(run(detector(rule), [e(0, "export"), e(MIN, "grant")]).map((a) => a.at), [1], "reverse order fires");
  t.same(run(detector(rule), [e(0, "grant"), e(MIN, "export")]).map((a) => a.at), [1], "forward order fires");
  t.same(run(detector(rule), [e(0, "grant"), e(30 * MIN + 1, "export")]).map((a) => a.at), [], "outside the window");
  t.same(run(detector(rule), [e(0, "grant", "a"), e(1, "export", "b")]).map((a) => a.at), [], "different groups");
  t.same(run(detector(rule), [e(0, "grant"), e(1, "grant"), e(2, "export")]).map((a) => a.at), [2]);
});

t.test("sequence ties in time follow arrival order", async (t) => {
  const d = detector(`detect "s" {
  by user.name within 1m
  sequence {
    first: event.action == "a"
    second: event.action == "b"
  }
}`);
  const e = (action: string) => ev(0, { event: { action }, user: { name: "u" } });
  t.same(run(d, [e("b"), e("a")]).map((a) => a.at), [], "b arrived first");
  t.same(run(d, [e("b"), e("a"), e("b")]).map((a) => a.at), [2], "a b after the a, at the same time, fires");
});

t.test("malformed events are reported and skipped; the stream goes on", async (t) => {
  const d = detector(`detect "w" { where event.action == "x" }`);
  const alerts = run(d, [
    null,
    [1],
    { event: { action: "x" } },
    { "@timestamp": "yesterday", event: { action: "x" } },
    { "@timestamp": 1773133200, event: { action: "x" } },
    ev(0, { event: { action: "x" } }),
  ]);
  t.same(alerts.map((a) => a.at), [5]);
  const s = d.stats();
  t.equal(s.malformed, 5);
  t.equal(s.events, 6);
  t.same(s.problems.map((p) => [p.index, p.kind]), [[1, "malformed"], [2, "malformed"], [3, "malformed"], [4, "malformed"], [5, "malformed"]]);
  t.match(s.problems[2]!.message, /no `@timestamp`/);
});

t.test("late events: counted and reported; they still fire rules without by", async (t) => {
  const text = `
detect "plain" { where event.action == "x" }
detect "grouped" { where event.action == "x" by user.name within 1h having count >= 2 }`;
  const x = (ms: number) => ev(ms, { event: { action: "x" }, user: { name: "u" } });
  const d = detector(text);
  const a = run(d, [x(MIN), x(0)]);
  t.same(a.map((x) => `${x.rule}@${x.at}`), ["plain@0", "plain@1"], "the late event is not grouped");
  t.equal(d.stats().late, 1);
  t.equal(d.stats().problems[0]!.kind, "late");
  const lenient = detector(text, { allowedLatenessMs: MIN });
  t.same(run(lenient, [x(MIN), x(0)]).map((x) => `${x.rule}@${x.at}`), ["plain@0", "plain@1", "grouped@1"], "within the allowed lateness it is placed");
  t.equal(lenient.stats().late, 0);
});

t.test("late events still take part in a sequence without by ... within (its window is unbounded)", async (t) => {
  const bare = detector(`detect "s" { sequence { a: k == "a"  b: k == "b" } }`);
  const a = run(bare, [ev(MIN, { k: "b" }), ev(0, { k: "a" })]);
  t.same(a.map((x) => `${x.rule}@${x.at}`), ["s@1"], "the late a, placed before b, completes it");
  t.equal(a[0]!.first_seen, new Date(T0).toISOString());
  t.equal(bare.stats().late, 1, "still counted as late");
  const windowed = detector(`detect "s" { by u within 1h sequence { a: k == "a"  b: k == "b" } }`);
  t.same(run(windowed, [ev(MIN, { u: 1, k: "b" }), ev(0, { u: 1, k: "a" })]), [], "a by ... within window keeps it out");
});

t.test("bounded memory: a cap on live groups evicts the least recently updated", async (t) => {
  const d = detector(`detect "r" { where event.action == "login" by user.name within 1h having count >= 2 }`, { maxGroupsPerRule: 2 });
  // a, b fill the cap; c evicts a; a comes back as a new group (its first event is lost) and evicts b; c fires.
  const a = run(d, [login(0, "a", "f"), login(1, "b", "f"), login(2, "c", "f"), login(3, "a", "f"), login(4, "c", "f")]);
  t.same(a.map((x) => x.at), [4], "a's two events never met; c's did");
  t.equal(d.stats().rules["d/r"]!.evictedGroups, 2);
  const d2 = detector(`detect "r" { where event.action == "login" by user.name within 1h having count >= 2 }`, { maxGroupsPerRule: 2 });
  t.same(run(d2, [login(0, "a", "f"), login(1, "b", "f"), login(2, "a", "f")]).map((x) => x.at), [2], "under the cap nothing is lost");
});

t.test("a rule that cannot run is reported, not fired", async (t) => {
  const d = detector(`detect "r" { where event.action == "login" by user.name within 1h having count >= user.n }`);
  t.same(run(d, [login(0, "a", "f")]), []);
  t.match(d.stats().ruleProblems["d/r"]![0], /not a constant number/);
});

t.test("times in alerts are event times", async (t) => {
  const d = detector(`detect "w" { where true }`);
  const a = run(d, [{ "@timestamp": "2026-03-10T10:00:00+01:00" }]);
  t.equal(a[0]!.last_seen, new Date(T0).toISOString());
});

t.test("bounded memory: idle groups are swept by event time on an endless stream", async (t) => {
  const d = detector(`detect "r" { where event.action == "login" by user.name within 1m having count >= 2 }`);
  let peak = 0;
  for (let i = 0; i < 20_000; i++) {
    d.push(login(i * SEC, `user-${i}`, "failure"));
    if (i % 500 === 0) peak = Math.max(peak, d.stats().rules["d/r"]!.liveGroups);
  }
  const live = d.stats().rules["d/r"]!.liveGroups;
  // One new group per second, a 1m window, a sweep every 1024 events: never more than 60 + 1024.
  t.ok(live <= 60 + 1024, `live groups at the end: ${live}`);
  t.ok(peak <= 60 + 1024, `peak sampled: ${peak}`);
  t.equal(d.stats().rules["d/r"]!.evictedGroups, 0, "swept, not evicted by the cap");
  d.flush();
  t.equal(d.stats().rules["d/r"]!.liveGroups, 0, "flush drops every window");
});
