/**
 * POST /v1/evaluate and /v1/evaluate/batch over loopback: the answers are
 * the library's decisions for the same inputs (all three kinds, on the
 * bundled example policies), batches keep order and name one version, and
 * every malformed request is a 4xx JSON error after which the server still
 * answers.
 */
import t from "tap";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadPolicies } from "../../src/index.js";
import { accessInput, call, policyDir, POLICY, BROKEN, start, testConfig } from "./harness.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const examples = path.join(repoRoot, "policies");

const LEE = { id: "lee", type: "human", roles: ["researcher"], department: "research", tenant: "t-acme" };
const DATASET = { id: "ds-benchmarks", type: "dataset", env: "prod", classification: "internal", department: "research", tenant: "t-acme" };
const INPUTS: Record<string, unknown>[] = [
  { principal: LEE, action: "dataset.read", resource: DATASET, time: "2026-03-10T10:00:00Z" },
  { kind: "access", principal: { ...LEE, department: "finance" }, action: "dataset.read", resource: DATASET, time: "2026-03-10T10:00:00Z" },
  { kind: "access", principal: LEE, action: "dataset.nope", resource: DATASET },
  { kind: "encryption", data: { id: "ds-mystery", type: "dataset" }, time: "2026-03-10T10:00:00Z" },
  {
    kind: "mesh",
    node: {
      id: "worker-eu-01",
      public_key: "vbyidVnXMXZQ4r7c36XjKgwdLxSNlm8aZknJDGIZxw0=",
      tags: ["worker"],
      attested: true,
      tee: true,
      endpoint: "198.51.100.10:51820",
      key_created_at: "2026-03-01T00:00:00Z",
    },
    time: "2026-03-10T10:00:00Z",
  },
];

const plain = (x: unknown) => JSON.parse(JSON.stringify(x));

t.test("single and batch answers equal the library's decisions, all kinds", async (t) => {
  const engine = await loadPolicies(examples);
  const { url, server } = await start(t, [examples]);
  t.equal(server.version, engine.version);
  const want = INPUTS.map((i) => plain(engine.evaluate(i)));
  t.same(
    want.map((d) => d.decision ?? (d.required ? "required" : "not-required")),
    ["allow", "deny", "deny", "required", "admit"],
    "the inputs cover allow, deny, bad input, encryption and mesh",
  );
  for (const [i, input] of INPUTS.entries()) {
    const r = await call(url, "/v1/evaluate", { body: input });
    t.equal(r.status, 200);
    t.same(r.json, want[i], `input ${i}`);
    t.equal(r.json.version, engine.version, "every decision names the version it used");
  }
  const batch = await call(url, "/v1/evaluate/batch", { body: { inputs: INPUTS } });
  t.equal(batch.status, 200);
  t.equal(batch.json.version, engine.version);
  t.same(batch.json.decisions, want, "in order, the same answers as one by one");
  const empty = await call(url, "/v1/evaluate/batch", { body: { inputs: [] } });
  t.same(empty.json, { version: engine.version, decisions: [] });
});

t.test("explain: ?explain=true on evaluate, explain: true or the query on batch", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  const { url } = await start(t, [dir]);
  const input = accessInput("ann", ["reader"]);
  const off = await call(url, "/v1/evaluate", { body: input });
  t.equal(off.json.explain, undefined);
  const on = await call(url, "/v1/evaluate?explain=true", { body: input });
  t.ok(on.json.explain.rules.length > 0);
  const b1 = await call(url, "/v1/evaluate/batch", { body: { inputs: [input], explain: true } });
  t.ok(b1.json.decisions[0].explain.rules.length > 0);
  const b2 = await call(url, "/v1/evaluate/batch?explain=1", { body: { inputs: [input] } });
  t.ok(b2.json.decisions[0].explain.rules.length > 0);
});

t.test("malformed requests: 4xx with a stable code, and the server goes on", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  const { url } = await start(t, [dir], { config: testConfig((c) => (c.limits.bodyBytes = 2048, c.limits.batchMaxItems = 3)) });
  const json = { "content-type": "application/json" };
  // A Latin-1 "josé" (0xe9): decoded with U+FFFD it was "jos\ufffd", a name no rule names.
  const latin1 = Buffer.concat([Buffer.from('{"principal":{"id":"jos'), Buffer.from([0xe9]), Buffer.from('"}}')]);
  const cases: { name: string; path: string; body?: string | Buffer; headers?: Record<string, string>; method?: string; status: number; code: string; message?: RegExp }[] = [
    { name: "not JSON", path: "/v1/evaluate", body: "{nope", headers: json, status: 400, code: "invalid_json" },
    { name: "empty JSON body", path: "/v1/evaluate", body: "", headers: json, status: 400, code: "empty_body" },
    { name: "JSON but not an object", path: "/v1/evaluate", body: "[1,2]", headers: json, status: 400, code: "invalid_body", message: /body must be object/ },
    { name: "a string", path: "/v1/evaluate", body: '"allow me"', headers: json, status: 400, code: "invalid_body" },
    { name: "unknown kind", path: "/v1/evaluate", body: '{"kind":"nuclear"}', headers: json, status: 400, code: "invalid_body", message: /kind/ },
    { name: "prototype poisoning", path: "/v1/evaluate", body: '{"__proto__":{"admin":true}}', headers: json, status: 400, code: "invalid_json" },
    { name: "not UTF-8", path: "/v1/evaluate", body: latin1, headers: json, status: 400, code: "invalid_json", message: /not valid UTF-8 \(byte 0xe9 at line 1, column 24\)/ },
    { name: "text/plain", path: "/v1/evaluate", body: "hello", headers: { "content-type": "text/plain" }, status: 415, code: "unsupported_media_type" },
    { name: "no content type", path: "/v1/evaluate", body: "{}", headers: {}, status: 415, code: "unsupported_media_type" },
    { name: "too large", path: "/v1/evaluate", body: JSON.stringify({ pad: "x".repeat(4096) }), headers: json, status: 413, code: "body_too_large", message: /2048 bytes/ },
    { name: "unknown query parameter", path: "/v1/evaluate?debug=1", body: "{}", headers: json, status: 400, code: "invalid_query" },
    { name: "explain not a boolean", path: "/v1/evaluate?explain=yes", body: "{}", headers: json, status: 400, code: "invalid_query" },
    { name: "batch without inputs", path: "/v1/evaluate/batch", body: "{}", headers: json, status: 400, code: "invalid_body", message: /inputs/ },
    { name: "batch inputs not a list", path: "/v1/evaluate/batch", body: '{"inputs":{}}', headers: json, status: 400, code: "invalid_body" },
    { name: "batch item not an object", path: "/v1/evaluate/batch", body: '{"inputs":[{},3]}', headers: json, status: 400, code: "invalid_body" },
    { name: "batch too long", path: "/v1/evaluate/batch", body: '{"inputs":[{},{},{},{}]}', headers: json, status: 400, code: "invalid_body", message: /more than 3/ },
    { name: "batch extra field", path: "/v1/evaluate/batch", body: '{"inputs":[],"x":1}', headers: json, status: 400, code: "invalid_body", message: /additional/ },
    { name: "unknown route", path: "/v1/nope", status: 404, code: "not_found" },
    { name: "wrong method", path: "/v1/evaluate", method: "GET", status: 404, code: "not_found" },
    { name: "malformed URL (bad percent-encoding)", path: "/v1/evaluate%zz", body: "{}", headers: json, status: 400, code: "bad_request", message: /URL/ },
  ];
  for (const c of cases) {
    const r = await call(url, c.path, { ...(c.body !== undefined ? { body: c.body } : {}), headers: c.headers ?? {}, ...(c.method ? { method: c.method } : {}) });
    t.equal(r.status, c.status, `${c.name}: status`);
    t.equal(r.json?.error?.code, c.code, `${c.name}: code`);
    t.type(r.json?.error?.message, "string", `${c.name}: a message`);
    if (c.message) t.match(r.json.error.message, c.message, `${c.name}: message`);
    t.match(r.headers["content-type"], /^application\/json/, `${c.name}: JSON`);
    t.equal(r.headers["x-content-type-options"], "nosniff", `${c.name}: security headers`);
  }
  const after = await call(url, "/v1/evaluate", { body: accessInput("ann", ["reader"]) });
  t.equal(after.status, 200, "still serving");
  t.equal(after.json.decision, "allow");
});

t.test("deny and bad input are decisions (200), never errors that look like allow", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  const { url } = await start(t, [dir]);
  const denied = await call(url, "/v1/evaluate", { body: accessInput("cy", ["reader", "contractor"]) });
  t.equal(denied.json.decision, "deny");
  t.equal(denied.json.rule, "demo/no-contractors");
  const noPrincipal = await call(url, "/v1/evaluate", { body: { action: "read" } });
  t.equal(noPrincipal.status, 200);
  t.equal(noPrincipal.json.decision, "deny");
  t.ok(noPrincipal.json.errors.length > 0);
});

t.test("before any good set: 503 policy_unavailable, not ready", async (t) => {
  const dir = policyDir(t, { "a.policy": BROKEN });
  const { url, server } = await start(t, [dir]);
  t.equal(server.version, null);
  for (const [p, body] of [["/v1/evaluate", accessInput("ann", ["reader"])], ["/v1/evaluate/batch", { inputs: [] }], ["/v1/events", { "@timestamp": "2026-01-01T00:00:00Z" }]] as const) {
    const r = await call(url, p, { body });
    t.equal(r.status, 503, p);
    t.equal(r.json.error.code, "policy_unavailable", p);
  }
  const ready = await call(url, "/readyz");
  t.equal(ready.status, 503);
  t.equal(ready.json.error.code, "policy_unavailable");
  t.equal((await call(url, "/healthz")).status, 200, "alive all the same");
  const p = await call(url, "/v1/policies");
  t.equal(p.json.served, null);
  t.equal(p.json.last_reload.ok, false);
  t.match(p.json.last_reload.diagnostics[0], { severity: "error", file: /a\.policy$/ });
});

t.test("evaluate.input_time: refuse answers an input's `time` with 400 input_time_refused, so the caller cannot pick `now`", async (t) => {
  const policy = `package t\nallow "ops-restart" {\n  when action == "restart"\n  require mfa within 15m\n}\n`;
  const stale = { principal: { id: "a" }, action: "restart", resource: { type: "node" }, context: { mfa: { verified_at: "2020-01-01T00:00:00Z" } } };
  const picked = { ...stale, time: "2020-01-01T00:05:00Z" };
  const dir = policyDir(t, { "a.policy": policy });

  const accepting = await start(t, [dir]);
  t.equal((await call(accepting.url, "/v1/evaluate", { body: picked })).json.decision, "allow", "accept (the default, the spec): the input's time is now");

  const { url } = await start(t, [dir], { config: testConfig((c) => (c.evaluate.inputTime = "refuse")) });
  const single = await call(url, "/v1/evaluate", { body: picked });
  t.equal(single.status, 400);
  t.equal(single.json.error.code, "input_time_refused");
  t.match(single.json.error.message, /own clock/);
  const batch = await call(url, "/v1/evaluate/batch", { body: { inputs: [stale, picked] } });
  t.equal(batch.status, 400);
  t.match(batch.json.error, { code: "input_time_refused", message: /^inputs\[1\]: / });
  const d = await call(url, "/v1/evaluate", { body: stale });
  t.equal(d.status, 200);
  t.equal(d.json.decision, "challenge", "without `time`, the server's clock: the MFA is stale");
  t.equal((await call(url, "/v1/evaluate/batch", { body: { inputs: [stale, { ...stale, time: undefined }] } })).json.decisions.length, 2, "a batch without times is answered");
});
