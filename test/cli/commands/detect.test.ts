import t from "tap";
import { run } from "../run.js";

const POLICY = `package demo
detect "brute-force" {
  severity high
  tags ["MITRE:T1110"]
  where event.category == "authentication" and event.outcome == "failure"
  by user.name within 5m
  having count >= 3
}
`;

const ev = (sec: number, user: string, outcome = "failure") =>
  JSON.stringify({ "@timestamp": new Date(Date.UTC(2026, 0, 1, 0, 0, sec)).toISOString(), event: { category: "authentication", outcome }, user: { name: user } });

t.test("alerts as JSONL on stdout, a summary on stderr", async (t) => {
  const lines = [ev(0, "alice"), ev(10, "bob"), ev(20, "alice"), ev(30, "alice"), ev(40, "alice", "success")];
  const cwd = t.testdir({ "a.policy": POLICY, "events.jsonl": lines.join("\n") + "\n" });
  const r = await run(["detect", "a.policy", "--events", "events.jsonl"], { cwd });
  t.equal(r.code, 0, r.stderr);
  const alerts = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  t.equal(alerts.length, 1);
  t.equal(alerts[0].rule, "brute-force");
  t.equal(alerts[0].severity, "high");
  t.same(alerts[0].group, { "user.name": "alice" });
  t.equal(alerts[0].count, 3);
  t.same(alerts[0].tags, ["MITRE:T1110"]);
  t.match(r.stderr, /^5 events, 1 alerts, 0 lines skipped, 0 late$/m);
  t.match(r.stderr, /^ {2}brute-force: 1$/m);
});

t.test("bad lines are reported with their number and skipped; the stream goes on", async (t) => {
  const lines = [ev(0, "alice"), "{not json", ev(10, "alice"), JSON.stringify({ event: { category: "authentication" } }), "", ev(20, "alice")];
  const r = await run(["detect", "a.policy", "--events", "-"], { cwd: t.testdir({ "a.policy": POLICY }), stdin: lines.join("\n") });
  t.equal(r.code, 0);
  t.equal(r.stdout.trim().split("\n").length, 1, "the alert still fires");
  t.match(r.stderr, /2 lines skipped/);
  t.match(r.stderr, /line 2: not JSON/);
  t.match(r.stderr, /line 4: .*@timestamp/);
});

t.test("errors: unreadable events exit 2, broken policies exit 1, bad --lateness exit 2", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICY, "bad.policy": POLICY.replace("by user.name", "by user.name,") });
  const missing = await run(["detect", "a.policy", "--events", "nope.jsonl"], { cwd });
  t.equal(missing.code, 2);
  t.match(missing.stderr, /cannot read events nope\.jsonl: no such file or directory/);
  const broken = await run(["detect", "bad.policy", "--events", "-"], { cwd, stdin: ev(0, "alice") });
  t.equal(broken.code, 1);
  t.equal(broken.stdout, "");
  const lateness = await run(["detect", "a.policy", "--events", "-", "--lateness", "soon"], { cwd });
  t.equal(lateness.code, 2);
});
