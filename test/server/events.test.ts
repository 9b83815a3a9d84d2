/**
 * POST /v1/events (JSON object, JSON array, NDJSON with bad lines) through
 * the correlation engine, GET /v1/alerts with its filters, and the server's
 * decision log: written to a file, and fed back as events so a detect rule
 * sees one principal collecting denials.
 */
import t from "tap";
import { readFileSync } from "node:fs";
import path from "node:path";
import { accessInput, call, policyDir, POLICY, start, tempDir, testConfig } from "./harness.js";

const T0 = Date.parse("2026-03-10T10:00:00Z");
const login = (user: string, outcome: string, sec: number) => ({
  "@timestamp": new Date(T0 + sec * 1000).toISOString(),
  event: { action: "login", outcome },
  user: { name: user },
});

t.test("JSON, arrays and NDJSON reach the detector; alerts are answered and stored", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  const { url, server } = await start(t, [dir]);
  const one = await call(url, "/v1/events", { body: login("ann", "failure", 0) });
  t.equal(one.status, 200);
  t.match(one.json, { version: server.version, received: 1, accepted: 1, malformed: 0, alerts: [], problems: [] });
  const two = await call(url, "/v1/events", { body: [login("ann", "failure", 1), login("bob", "failure", 2)] });
  t.match(two.json, { received: 2, accepted: 2, alerts: [] });
  const ndjson = [
    JSON.stringify(login("ann", "success", 3)),
    "",
    "{not json",
    JSON.stringify({ event: { action: "login" } }),
    JSON.stringify(login("ann", "failure", 4)),
    "",
  ].join("\r\n");
  const nd = await call(url, "/v1/events", { body: ndjson, headers: { "content-type": "application/x-ndjson" } });
  t.equal(nd.status, 200);
  t.match(nd.json, { received: 4, accepted: 2, malformed: 2 });
  t.match(nd.json.problems, [
    { index: 2, line: 3, kind: "malformed", message: /^not JSON/ },
    { index: 3, line: 4, kind: "malformed", message: /@timestamp/ },
  ]);
  t.equal(nd.json.alerts.length, 1, "the third failure for ann within 5m fires");
  t.match(nd.json.alerts[0], { id: 1, rule: "many-login-failures", severity: "medium", group: { "user.name": "ann" }, count: 3, tags: ["MITRE:T1110"] });

  // A line that is not UTF-8 is malformed by its line, as one that is not JSON (it was read with U+FFFD).
  const latin1 = Buffer.concat([
    Buffer.from("\ufeff" + JSON.stringify(login("cy", "failure", 10)) + "\r\n"),
    Buffer.from(JSON.stringify(login("cy", "failure", 11)).replace('"cy"', '"jos?"').replace("?", "\u0000")),
    Buffer.from("\r\n" + JSON.stringify(login("cy", "failure", 12)) + "\n"),
  ]);
  latin1[latin1.indexOf(0)] = 0xe9;
  const nl = await call(url, "/v1/events", { body: latin1, headers: { "content-type": "application/x-ndjson" } });
  t.equal(nl.status, 200, nl.text);
  t.match(nl.json, { received: 3, accepted: 2, malformed: 1 });
  t.match(nl.json.problems, [{ index: 2, line: 2, kind: "malformed", message: /^not valid UTF-8 \(byte 0xe9 at column \d+\)$/ }]);
  const whole = await call(url, "/v1/events", { body: Buffer.from([0x5b, 0x22, 0xe9, 0x22, 0x5d]), headers: { "content-type": "application/json" } });
  t.equal(whole.status, 400);
  t.equal(whole.json.error.code, "invalid_json");

  const bad = await call(url, "/v1/events", { body: "[1, {}]", headers: { "content-type": "application/json" } });
  t.match(bad.json, { received: 2, malformed: 2 });
  const notJson = await call(url, "/v1/events", { body: "{", headers: { "content-type": "application/json" } });
  t.equal(notJson.status, 400);
  t.equal(notJson.json.error.code, "invalid_json");
  const scalar = await call(url, "/v1/events", { body: "42", headers: { "content-type": "application/json" } });
  t.equal(scalar.json.error.code, "invalid_body");

  const metrics = (await call(url, "/metrics")).text;
  t.match(metrics, /^swarm_policy_alerts_total\{rule="many-login-failures",severity="medium"\} 1$/m);
  t.match(metrics, /^swarm_policy_events_total\{result="malformed"\} 5$/m);
});

t.test("an event nested 100,000 levels deep: its alert is answered and stays queryable", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  const { url } = await start(t, [dir]);
  // JSON.parse reads it; JSON.stringify overflows the stack on it, so the alert keeps 256 levels.
  const deep = JSON.stringify(login("ann", "failure", 1)).replace(/}$/, `,"extra":${"[".repeat(100_000)}1${"]".repeat(100_000)}}`);
  const ndjson = [JSON.stringify(login("ann", "failure", 0)), deep, JSON.stringify(login("ann", "failure", 2))].join("\n");
  const r = await call(url, "/v1/events", { body: ndjson, headers: { "content-type": "application/x-ndjson" } });
  t.equal(r.status, 200, r.text);
  t.equal(r.json.alerts.length, 1);
  t.match(JSON.stringify(r.json.alerts[0].events[1].extra), /nested deeper than 256 levels/);
  for (let i = 0; i < 2; i++) {
    const all = await call(url, "/v1/alerts");
    t.equal(all.status, 200, "GET /v1/alerts still answers");
    t.same(all.json.alerts.map((a: { group: Record<string, string> }) => a.group["user.name"]), ["ann"]);
  }
});

t.test("GET /v1/alerts: newest first, filters, bad queries", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  const { url } = await start(t, [dir]);
  // Three alerts: ann, bob, cy, each after three failures.
  const events = ["ann", "bob", "cy"].flatMap((u, k) => [0, 1, 2].map((s) => login(u, "failure", k * 10 + s)));
  const r = await call(url, "/v1/events", { body: events });
  t.equal(r.json.alerts.length, 3);
  const all = await call(url, "/v1/alerts");
  t.same(all.json.alerts.map((a: { group: Record<string, string> }) => a.group["user.name"]), ["cy", "bob", "ann"]);
  t.match(all.json.alerts[0].received_at, /^\d{4}-\d\d-\d\dT/);
  t.equal((await call(url, "/v1/alerts?limit=1")).json.alerts.length, 1);
  t.same((await call(url, "/v1/alerts?after=2")).json.alerts.map((a: { id: number }) => a.id), [3]);
  t.equal((await call(url, "/v1/alerts?rule=many-login-failures")).json.alerts.length, 3);
  t.equal((await call(url, "/v1/alerts?rule=other")).json.alerts.length, 0);
  t.equal((await call(url, "/v1/alerts?severity=medium")).json.alerts.length, 3);
  t.equal((await call(url, "/v1/alerts?severity=high")).json.alerts.length, 0);
  const since = new Date(T0 + 12_000).toISOString();
  t.same((await call(url, `/v1/alerts?since=${since}`)).json.alerts.map((a: { id: number }) => a.id), [3, 2], "alerts whose last event is at or after `since`");
  // RFC 3339 forms Date.parse does not read: a leap second (23:59:60 is the next day's midnight), a
  // fraction past milliseconds with an offset. Read as NaN, `since` filtered nothing out.
  t.same((await call(url, "/v1/alerts?since=2026-03-09T23:59:60Z")).json.alerts.map((a: { id: number }) => a.id), [3, 2, 1], "a leap second reads as the next second");
  t.same((await call(url, "/v1/alerts?since=2026-06-30T23:59:60Z")).json.alerts, [], "a leap second after every alert: none");
  t.same((await call(url, `/v1/alerts?since=${encodeURIComponent("2026-03-10T11:00:12.000000001+01:00")}`)).json.alerts.map((a: { id: number }) => a.id), [3, 2], "an offset and nanoseconds");
  for (const q of ["limit=ten", "severity=urgent", "since=yesterday", "since=2026-03-10T10:00:00.1234567890Z", "after=-1", "colour=red"]) {
    const bad = await call(url, `/v1/alerts?${q}`);
    t.equal(bad.status, 400, q);
    t.equal(bad.json.error.code, "invalid_query", q);
  }
});

t.test("the decision log: a file of redacted lines, fed back as events to a detect rule", async (t) => {
  const dir = policyDir(t, {
    "a.policy": POLICY,
    "watch.policy": `package watch

detect "denial-burst" {
  severity high
  where event.dataset == "swarm_policy.decision" and decision.outcome == "deny"
  by user.name within 1m
  having count >= 3
}
`,
  });
  const logFile = path.join(tempDir(t), "decisions.jsonl");
  let clock = T0;
  const { url, server } = await start(t, [dir], {
    clock: () => clock,
    config: testConfig((c) => (c.decisionLog = { path: logFile, maxBytes: 1 << 20, keep: 2, redact: ["context.device.serial"], toEvents: true })),
  });
  const denied = { ...accessInput("mallory", ["contractor"]), context: { device: { serial: "SN-998877" }, session_token: "tok-77aa" } };
  for (let i = 0; i < 2; i++) {
    t.equal((await call(url, "/v1/evaluate", { body: denied })).json.decision, "deny");
    clock += 1000;
  }
  t.equal((await call(url, "/v1/alerts")).json.alerts.length, 0);
  const batch = await call(url, "/v1/evaluate/batch", { body: { inputs: [accessInput("ann", ["reader"]), denied] } });
  t.same(batch.json.decisions.map((d: { decision: string }) => d.decision), ["allow", "deny"]);
  const alerts = (await call(url, "/v1/alerts?rule=denial-burst")).json.alerts;
  t.equal(alerts.length, 1, "the third denial fired");
  t.match(alerts[0], { severity: "high", group: { "user.name": "mallory" }, count: 3 });

  await server.close(); // flushes the log
  const lines = readFileSync(logFile, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  t.equal(lines.length, 4, "every decision, batch items included");
  t.same(lines.map((l) => l.outcome), ["deny", "deny", "allow", "deny"]);
  for (const l of lines) t.equal(l.version, lines[0].version);
  t.equal(lines[0].input.context.device.serial, "[REDACTED]");
  t.equal(lines[0].input.context.session_token, "[REDACTED]");
  const text = readFileSync(logFile, "utf8");
  t.notOk(text.includes("SN-998877") || text.includes("tok-77aa"), "no secret in the file");
});

t.test("decision log to stdout", async (t) => {
  const { PassThrough } = await import("node:stream");
  const out = new PassThrough();
  let text = "";
  out.on("data", (c: Buffer) => (text += c.toString()));
  const dir = policyDir(t, { "a.policy": POLICY });
  const { url, server } = await start(t, [dir], {
    stdout: out,
    config: testConfig((c) => (c.decisionLog = { path: "-", maxBytes: 1 << 20, keep: 1, redact: [], toEvents: false })),
  });
  await call(url, "/v1/evaluate", { body: accessInput("ann", ["reader"]) });
  await server.close();
  t.match(JSON.parse(text.trim()), { kind: "access", outcome: "allow", rule: "demo/readers-read" });
});

t.test("a decision log on a stdout whose reader is gone: decisions go on, the failures are counted, close returns", async (t) => {
  const { Writable } = await import("node:stream");
  const out = new Writable({
    write(_chunk, _enc, done) {
      done(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
    },
  });
  const dir = policyDir(t, { "a.policy": POLICY });
  const { url, server, logs } = await start(t, [dir], {
    stdout: out,
    config: testConfig((c) => (c.decisionLog = { path: "-", maxBytes: 1 << 20, keep: 1, redact: [], toEvents: false })),
  });
  for (let i = 0; i < 3; i++) {
    const r = await call(url, "/v1/evaluate", { body: accessInput("ann", ["reader"]) });
    t.equal(r.status, 200, "the process is still answering");
    t.equal(r.json.decision, "allow");
  }
  const metrics = (await call(url, "/metrics")).text;
  t.match(metrics, /^swarm_policy_decision_log_errors_total [1-3]$/m, "write failures counted");
  t.ok(logs.lines.some((l) => l.msg === "decision log write failed"), "and logged");
  await server.close(); // would wait forever on a 'drain' that never comes
  t.pass("closed");
});

t.test("NDJSON lines: __proto__ / constructor.prototype keys are malformed as in a JSON body, and a bad line's text is not echoed", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  const { url } = await start(t, [dir]);
  const ts = new Date(T0).toISOString();
  const body = [
    `{"@timestamp":"${ts}","__proto__":{"event":{"action":"login"}}}`,
    `{"@timestamp":"${ts}","constructor":{"prototype":{"polluted":true}}}`,
    JSON.stringify(login("ann", "failure", 0)),
    `{"@timestamp":"${ts}","session_token": tok-s3cr3t-9c9c}`,
    `{"@timestamp":"${ts}","constructor":{"name":"fine"},"note":"__proto__ in a value is fine"}`,
  ].join("\n");
  const r = await call(url, "/v1/events", { body, headers: { "content-type": "application/x-ndjson" } });
  t.equal(r.status, 200);
  t.match(r.json, { received: 5, accepted: 2, malformed: 3 });
  t.match(r.json.problems, [
    { index: 1, line: 1, kind: "malformed", message: /__proto__/ },
    { index: 2, line: 2, kind: "malformed", message: /constructor\.prototype/ },
    { index: 4, line: 4, kind: "malformed", message: /^not JSON/ },
  ]);
  t.notOk(r.text.includes("s3cr3t"), "the line's text is not quoted back");
  t.equal(({} as Record<string, unknown>).polluted, undefined);
});

t.test("the decision log: a value under a redacted path never reaches it through an error message", async (t) => {
  // Each rule errors on the redacted serial with a message that quotes the value for the caller.
  const dir = policyDir(t, {
    "a.policy": `package leak

deny "serial-in-range" {
  when context.device.serial in ip("10.0.0.0/8")
}

deny "serial-as-range" {
  when ip(context.device.serial) in ip("10.0.0.0/8")
}

deny "serial-as-time" {
  when hour(context.device.serial) > 25
}
`,
  });
  // Recognisable and longer than the 60 characters a message quotes before truncating.
  const secret = "sk_live_4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f";
  const logFile = path.join(tempDir(t), "decisions.jsonl");
  const { url, server } = await start(t, [dir], {
    config: testConfig((c) => (c.decisionLog = { path: logFile, maxBytes: 1 << 20, keep: 1, redact: ["context.device.serial", "time"], toEvents: false })),
  });
  const input = { ...accessInput("ann", ["reader"]), context: { device: { serial: secret } } };
  const r = await call(url, "/v1/evaluate", { body: input });
  t.equal(r.json.decision, "deny", "errored deny rules deny");
  t.equal(r.json.errors.length, 3, "each rule's error answered");
  t.ok(JSON.stringify(r.json.errors).includes(secret.slice(0, 20)), "the caller, who sent the value, sees it quoted");
  const badTime = await call(url, "/v1/evaluate", { body: { ...accessInput("ann", ["reader"]), time: secret } });
  t.equal(badTime.json.decision, "deny", "invalid input denies");
  t.ok(JSON.stringify(badTime.json.errors).includes(secret.slice(0, 20)));

  await server.close(); // flushes the log
  const text = readFileSync(logFile, "utf8");
  const lines = text.trim().split("\n").map((l) => JSON.parse(l));
  t.equal(lines.length, 2);
  t.same(lines[0].errors.map((e: { rule: string }) => e.rule).sort(), ["leak/serial-as-range", "leak/serial-as-time", "leak/serial-in-range"]);
  t.match(lines[0].errors[0], { message: /withheld/, span: { line: Number } }, "the rule, its site and the message without the value are logged");
  t.match(lines[1].errors[0].message, /^input `time` is not an RFC 3339 time/);
  for (let i = 0; i + 8 <= secret.length; i++) {
    const piece = secret.slice(i, i + 8);
    if (text.includes(piece)) {
      t.fail(`the decision log holds ${JSON.stringify(piece)} of the redacted value`);
      return;
    }
  }
  t.pass("no 8-character piece of the redacted value in the decision log");
});
