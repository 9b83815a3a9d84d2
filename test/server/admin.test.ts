/**
 * Health, readiness, GET /v1/policies, GET /metrics (Prometheus text with
 * decisions by kind and outcome, latency histograms, reloads) and the
 * security headers on every answer.
 */
import t from "tap";
import { call, accessInput, policyDir, POLICY, start } from "./harness.js";

const LINT_WARNING = 'package loose\n\nallow "open" {\n  require mfa\n}\n';

t.test("healthz, readyz and policies", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  const { url, server } = await start(t, [dir]);
  t.same((await call(url, "/healthz")).json, { status: "ok" });
  t.same((await call(url, "/readyz")).json, { ready: true, version: server.version });
  const p = (await call(url, "/v1/policies")).json;
  t.equal(p.served.version, server.version);
  t.same(p.served.rules, ["demo/readers-read", "demo/no-contractors", "demo/many-login-failures"]);
  t.ok(Math.abs(Date.parse(p.served.loaded_at) - Date.now()) < 60_000, "loaded_at is an ISO time");
  t.same(p.served.warnings, []);
  t.match(p.last_reload, { ok: true, trigger: "start", version: server.version, duration_ms: Number, checked_in: "event-loop", diagnostics: [], load_errors: [] });
  t.ok(p.last_reload.duration_ms >= 0, "a whole number of milliseconds");
  // Once a set is served, a reload is checked in the worker thread first.
  await call(url, "/v1/policies/reload", { method: "POST" });
  const again = (await call(url, "/v1/policies")).json;
  t.match(again.last_reload, { ok: true, trigger: "api", checked_in: "worker" });
});

t.test("warnings do not keep a set out; they are reported", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY, "b.policy": LINT_WARNING });
  const { url } = await start(t, [dir]);
  const p = (await call(url, "/v1/policies")).json;
  t.ok(p.served.rules.includes("loose/open"));
  t.same(p.served.warnings.filter((d: { severity: string }) => d.severity === "error"), []);
});

t.test("metrics: decisions by kind and outcome, histograms, reloads, inflight", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  const { url, server } = await start(t, [dir]);
  await call(url, "/v1/evaluate", { body: accessInput("ann", ["reader"]) });
  await call(url, "/v1/evaluate", { body: accessInput("ann", ["reader"]) });
  await call(url, "/v1/evaluate", { body: accessInput("cy", ["contractor"]) });
  await call(url, "/v1/evaluate/batch", { body: { inputs: [{ kind: "encryption", data: {} }, { kind: "mesh", node: {} }] } });
  await server.reload();
  const r = await call(url, "/metrics");
  t.equal(r.status, 200);
  t.match(r.headers["content-type"], /^text\/plain; version=0\.0\.4/);
  const m = r.text;
  t.match(m, /^swarm_policy_decisions_total\{kind="access",outcome="allow"\} 2$/m);
  t.match(m, /^swarm_policy_decisions_total\{kind="access",outcome="deny"\} 1$/m);
  t.match(m, /^swarm_policy_decisions_total\{kind="encryption",outcome="not-required"\} 1$/m);
  t.match(m, /^swarm_policy_decisions_total\{kind="mesh",outcome="reject"\} 1$/m);
  t.match(m, /^swarm_policy_decision_duration_seconds_count\{route="evaluate"\} 3$/m);
  t.match(m, /^swarm_policy_decision_duration_seconds_count\{route="batch"\} 1$/m);
  t.match(m, /^swarm_policy_decision_duration_seconds_bucket\{route="evaluate",le="\+Inf"\} 3$/m);
  t.match(m, /^swarm_policy_request_duration_seconds_count\{route="evaluate"\} 3$/m);
  t.match(m, /^swarm_policy_reloads_total\{result="success"\} 2$/m);
  t.match(m, /^swarm_policy_reload_failures_total 0$/m);
  t.match(m, /^swarm_policy_last_reload_duration_seconds \d+(\.\d+)?(e-\d+)?$/m);
  t.match(m, /^swarm_policy_inflight_requests 0$/m);
  t.match(m, /^swarm_policy_risk_entities\{kind="quarantine"\} 0$/m);
  t.notMatch(m, /swarm_policy_risk_state_last_save/, "no risk state file: no save time");
  t.match(m, new RegExp(`^swarm_policy_info\\{version="${server.version}"\\} 1$`, "m"));
  t.match(m, /^process_resident_memory_bytes \d+$/m);
  // Histogram buckets are cumulative and end at the count.
  const buckets = [...m.matchAll(/^swarm_policy_request_duration_seconds_bucket\{route="evaluate",le="[^"]+"\} (\d+)$/gm)].map((x) => Number(x[1]));
  t.same([...buckets].sort((a, b) => a - b), buckets, "non-decreasing");
  t.equal(buckets[buckets.length - 1], 3);
  // Every sample line is `name{labels} number`, every family has HELP and TYPE.
  for (const line of m.trim().split("\n")) {
    if (line.startsWith("#")) t.match(line, /^# (HELP|TYPE) [a-z_]+ .+$/);
    else t.match(line, /^[a-z_]+(\{[^}]*\})? -?[0-9.e+-]+$/, line);
  }
});

t.test("security headers on answers and errors", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  const { url } = await start(t, [dir]);
  for (const r of [await call(url, "/v1/evaluate", { body: accessInput("ann", ["reader"]) }), await call(url, "/nope"), await call(url, "/healthz")]) {
    t.equal(r.headers["x-content-type-options"], "nosniff");
    t.equal(r.headers["x-frame-options"], "DENY");
    t.equal(r.headers["cache-control"], "no-store");
    t.equal(r.headers["content-security-policy"], "default-src 'none'; frame-ancestors 'none'");
    t.equal(r.headers["referrer-policy"], "no-referrer");
    t.equal(r.headers["strict-transport-security"], undefined, "HSTS only over TLS");
    t.equal(r.headers["x-powered-by"], undefined);
  }
});
