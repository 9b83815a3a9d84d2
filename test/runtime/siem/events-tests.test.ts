/** `events` tests in policy files run through the correlation engine (spec section 8). */
import t, { type Test } from "tap";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { loadPolicies } from "../../../src/engine.js";
import { runPolicyTests } from "../../../src/testing/run-tests.js";

const RULES = `package p
detect "mfa-fatigue" {
  where event.action == "mfa-push" and event.outcome == "failure"
  by user.name within 10m
  having count >= 3
}
detect "export" {
  where event.action == "export"
}
`;
const push = (i: number) =>
  JSON.stringify({ "@timestamp": `2026-03-10T02:0${i}:00Z`, event: { action: "mfa-push", outcome: "failure" }, user: { name: "olga" } });

async function runIn(t: Test, tests: string, extra: Record<string, string | Record<string, string>> = {}) {
  const dir = t.testdir({ "rules.policy": RULES, sub: { "rules_test.policy": tests }, ...extra });
  const engine = await loadPolicies(dir);
  t.same(engine.diagnostics.filter((d) => d.severity === "error"), [], "policies load");
  return runPolicyTests(engine.files, engine);
}

t.test("a list literal of events; expect alert with and without count", async (t) => {
  const run = await runIn(
    t,
    `package p
test "three pushes" {
  events [
    { "@timestamp": "2026-03-10T02:00:00Z", event: { action: "mfa-push", outcome: "failure" }, user: { name: "olga" } },
    { "@timestamp": "2026-03-10T02:01:00Z", event: { action: "mfa-push", outcome: "failure" }, user: { name: "olga" } },
    { "@timestamp": "2026-03-10T02:02:00Z", event: { action: "mfa-push", outcome: "failure" }, user: { name: "olga" } }
  ]
  expect alert "mfa-fatigue"
  expect alert "mfa-fatigue" count 1
  expect size(result.alerts) == 1 and result.alerts[0].group["user.name"] == "olga"
}
test "wrong count fails" {
  events [{ "@timestamp": "2026-03-10T02:00:00Z", event: { action: "export" } }]
  expect alert "export" count 2
  expect alert "mfa-fatigue"
}
test "no alert" {
  events [{ "@timestamp": "2026-03-10T02:00:00Z", event: { action: "view" } }]
  expect no alert
}
test "no alert fails when one fires" {
  events [{ "@timestamp": "2026-03-10T02:00:00Z", event: { action: "export" } }]
  expect no alert
}
`,
  );
  const byName = Object.fromEntries(run.results.map((r) => [r.name, r]));
  t.equal(byName["three pushes"]!.status, "passed");
  t.equal(byName["three pushes"]!.alerts!.length, 1);
  t.equal(byName["no alert"]!.status, "passed");
  t.equal(byName["wrong count fails"]!.status, "failed");
  t.same(byName["wrong count fails"]!.failures.map((f) => f.message), ['expected 2 alerts "export", got 1', 'expected at least one alert "mfa-fatigue", got 0']);
  t.equal(byName["no alert fails when one fires"]!.status, "failed");
  t.match(byName["no alert fails when one fires"]!.failures[0]!.message, /expected no alert, got 1: export/);
  t.equal(run.skipped, 0, "events tests are no longer skipped");
});

t.test("a JSONL path relative to the policy file", async (t) => {
  const run = await runIn(
    t,
    `package p
test "from a file" {
  events "../fixtures/pushes.jsonl"
  expect alert "mfa-fatigue" count 1
}
test "a missing file fails clearly" {
  events "nope.jsonl"
  expect no alert
}
test "a bad line fails with its number" {
  events "../fixtures/bad.jsonl"
  expect no alert
}
test "a malformed event fails the test" {
  events [{ event: { action: "export" } }]
  expect no alert
}
`,
    { fixtures: { "pushes.jsonl": [push(0), push(1), "", push(2)].join("\n") + "\n", "bad.jsonl": `${push(0)}\n{oops\n` } },
  );
  const byName = Object.fromEntries(run.results.map((r) => [r.name, r]));
  t.equal(byName["from a file"]!.status, "passed", JSON.stringify(byName["from a file"]!.failures));
  t.equal(byName["a missing file fails clearly"]!.status, "failed");
  t.match(byName["a missing file fails clearly"]!.failures[0]!.message, /cannot read events file "nope\.jsonl" \(.*sub.*nope\.jsonl\): no such file/);
  t.equal(byName["a bad line fails with its number"]!.status, "failed");
  t.match(byName["a bad line fails with its number"]!.failures[0]!.message, /line 2: not valid JSON/);
  t.equal(byName["a malformed event fails the test"]!.status, "failed");
  t.match(byName["a malformed event fails the test"]!.failures[0]!.message, /event 1: the event has no `@timestamp`/);
});

t.test("the example policies' detect tests all run and pass", async (t) => {
  const engine = await loadPolicies(join(import.meta.dirname, "../../../policies/detect"));
  const run = runPolicyTests(engine.files, engine);
  const events = run.results.filter((r) => r.input === "events");
  t.ok(events.length >= 25, `${events.length} events tests`);
  t.same(events.filter((r) => r.status !== "passed").map((r) => [r.name, r.failures.map((f) => f.message)]), []);
});

t.test("expect alert names a rule by its id `package/name` as the checker allows", async (t) => {
  const run = await runIn(
    t,
    `package p
test "by id" {
  events [{ "@timestamp": "2026-03-10T02:00:00Z", event: { action: "export" } }]
  expect alert "p/export" count 1
  expect alert "p/mfa-fatigue" count 0
}
test "by id, wrong count" {
  events [{ "@timestamp": "2026-03-10T02:00:00Z", event: { action: "export" } }]
  expect alert "p/export" count 2
}
`,
  );
  const byName = Object.fromEntries(run.results.map((r) => [r.name, r]));
  t.equal(byName["by id"]!.status, "passed", JSON.stringify(byName["by id"]!.failures));
  t.equal(byName["by id, wrong count"]!.status, "failed");
  t.match(byName["by id, wrong count"]!.failures[0]!.message, /expected 2 alerts "p\/export", got 1/);
});

t.test("expect alert by id counts that rule's alerts, not another package's rule of the same name", async (t) => {
  // Alerts carry the rule's name only: q/export firing must not satisfy `expect alert "p/export"`.
  const run = await runIn(
    t,
    `package p
test "only q's export fires" {
  events [{ "@timestamp": "2026-03-10T02:00:00Z", event: { action: "view", dataset: "q" } }]
  expect alert "p/export" count 1
}
test "p's export, at least one" {
  events [{ "@timestamp": "2026-03-10T02:00:00Z", event: { action: "view", dataset: "q" } }]
  expect alert "p/export"
}
test "q's export by id" {
  events [{ "@timestamp": "2026-03-10T02:00:00Z", event: { action: "view", dataset: "q" } }]
  expect alert "q/export" count 1
  expect alert "p/export" count 0
}
test "by name: the test's own package's rule" {
  events [{ "@timestamp": "2026-03-10T02:00:00Z", event: { action: "export", dataset: "q" } }]
  expect alert "export" count 1
}
test "by name: q's export firing is not p's" {
  events [{ "@timestamp": "2026-03-10T02:00:00Z", event: { action: "view", dataset: "q" } }]
  expect alert "export"
}
`,
    {
      "q.policy": `package q\ndetect "export" {\n  where event.dataset == "q"\n}\n`,
      "r.policy": `package r\ndetect "export" {\n  where event.dataset == "r"\n}\n`,
      "s.policy":
        `package s\n` +
        `test "ambiguous" {\n  events [{ "@timestamp": "2026-03-10T02:00:00Z", event: { action: "view", dataset: "q" } }]\n  expect alert "export"\n}\n` +
        `test "by a name one other package holds" {\n  events [{ "@timestamp": "2026-03-10T02:00:00Z", event: { action: "view", dataset: "q" } }]\n  expect alert "mfa-fatigue" count 0\n}\n`,
    },
  );
  const byName = Object.fromEntries(run.results.map((r) => [r.name, r]));
  t.equal(byName["only q's export fires"]!.status, "failed");
  t.match(byName["only q's export fires"]!.failures[0]!.message, /expected 1 alert "p\/export", got 0/);
  t.equal(byName["p's export, at least one"]!.status, "failed");
  t.equal(byName["q's export by id"]!.status, "passed", JSON.stringify(byName["q's export by id"]!.failures));
  // A bare name is the test's own package's rule first: q's (or r's) export firing must not pass a test
  // in p that expects p's export to fire.
  t.equal(byName["by name: the test's own package's rule"]!.status, "passed", JSON.stringify(byName["by name: the test's own package's rule"]!.failures));
  t.equal(byName["by name: q's export firing is not p's"]!.status, "failed");
  t.match(byName["by name: q's export firing is not p's"]!.failures[0]!.message, /expected at least one alert "export", got 0/);
  // Outside p, three packages hold an `export`: the name picks none, the test fails and says to use an id.
  t.equal(byName["ambiguous"]!.status, "failed");
  t.match(byName["ambiguous"]!.failures[0]!.message, /`export` names detect rules in several packages \(p\/export, q\/export, r\/export\); name one by id/);
  t.equal(byName["by a name one other package holds"]!.status, "passed", JSON.stringify(byName["by a name one other package holds"]!.failures));
});

t.test("an event later than the newest event time fails the test: its outcome hangs on the lateness a deployment allows", async (t) => {
  // Out of order by a minute, the third push was late: kept out of `by ... within`, so `expect no alert`
  // passed on events that raise mfa-fatigue wherever `detect --lateness` allows a minute.
  const ev = (i: number) => `{ "@timestamp": "2026-03-10T02:0${i}:00Z", event: { action: "mfa-push", outcome: "failure" }, user: { name: "olga" } }`;
  const run = await runIn(
    t,
    `package p
test "out of order" {
  events [${ev(0)}, ${ev(2)}, ${ev(1)}]
  expect no alert
}
test "in order" {
  events [${ev(0)}, ${ev(1)}, ${ev(2)}]
  expect alert "mfa-fatigue" count 1
}
test "same time is not late" {
  events [${ev(1)}, ${ev(1)}, ${ev(1)}]
  expect alert "mfa-fatigue" count 1
}
`,
  );
  const byName = Object.fromEntries(run.results.map((r) => [r.name, r]));
  t.equal(byName["out of order"]!.status, "failed");
  t.match(byName["out of order"]!.failures[0]!.message, /^event 3 is late: /);
  t.equal(byName["in order"]!.status, "passed", JSON.stringify(byName["in order"]!.failures));
  t.equal(byName["same time is not late"]!.status, "passed", JSON.stringify(byName["same time is not late"]!.failures));
});

t.test("late events past the detector's first 100 problems still fail the test", async (t) => {
  const bad = Array.from({ length: 100 }, () => "{}").join(", ");
  const run = await runIn(t, `package p\ntest "t" {\n  events [${bad}, { "@timestamp": "2026-03-10T02:05:00Z" }, { "@timestamp": "2026-03-10T02:00:00Z" }]\n  expect no alert\n}\n`);
  t.same(run.results[0]!.failures.map((f) => f.message).slice(-1), ["1 late event; put a test's events in time order"]);
});

t.test("an events file that is a FIFO or a device fails the test, without hanging or reading it", async (t) => {
  t.setTimeout(20_000); // a FIFO opened blocking would hang the test run
  const elsewhere = mkdtempSync(join(tmpdir(), "sp-events-fifo-"));
  t.teardown(() => rmSync(elsewhere, { recursive: true, force: true }));
  const fifo = join(elsewhere, "events.jsonl");
  execFileSync("mkfifo", [fifo]);
  const run = await runIn(
    t,
    `package p
test "a fifo" {
  events ${JSON.stringify(fifo)}
  expect no alert
}
test "a device" {
  events "/dev/zero"
  expect no alert
}
`,
  );
  const byName = Object.fromEntries(run.results.map((r) => [r.name, r]));
  t.equal(byName["a fifo"]!.status, "failed");
  t.match(byName["a fifo"]!.failures[0]!.message, /cannot read events file ".*events\.jsonl" \(.*\): not a regular file/);
  t.equal(byName["a device"]!.status, "failed");
  t.match(byName["a device"]!.failures[0]!.message, /cannot read events file "\/dev\/zero" \(\/dev\/zero\): not a regular file/);
});
