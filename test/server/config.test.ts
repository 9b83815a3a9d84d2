/**
 * The config file: every field read from YAML and from JSON, defaults,
 * paths relative to the file, and one clear error (file, field) per kind of
 * mistake.
 */
import t from "tap";
import path from "node:path";
import { writeFileSync } from "node:fs";
import { defaultServerConfig, hashToken, loadServerConfig, resolveServerConfig } from "../../src/index.js";
import { tempDir } from "./harness.js";

const H = hashToken("tok");
const FULL_YAML = `
host: 0.0.0.0
port: 9443
clients:
  - name: gateway
    token_sha256: ${H.toUpperCase()}
    scopes: [evaluate]
  - name: ops
    token_sha256: ${hashToken("other")}
    scopes: [admin, events]
tls:
  cert: certs/server.pem
  key: certs/server.key
  client_ca: /etc/pki/clients.pem
limits:
  body_bytes: 65536
  request_timeout_ms: 2000
  keep_alive_timeout_ms: 3000
  max_concurrent: 64
  batch_max_items: 100
  events_max_items: 500
decision_log:
  path: logs/decisions.jsonl
  max_bytes: 1048576
  keep: 3
  redact: [principal.email, context.*.serial]
  to_events: true
reload:
  watch: false
  debounce_ms: 50
events:
  allowed_lateness_ms: 30000
  max_future_ms: 60000
  max_groups_per_rule: 1000
alerts:
  capacity: 50
log:
  level: warn
mfa:
  keyring: ring
evaluate:
  input_time: refuse
risk:
  state_file: state/risk.json
  save_interval_ms: 250
`;

t.test("every field, from YAML; relative paths from the file's directory", async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, "serve.yaml");
  writeFileSync(file, FULL_YAML);
  const c = await loadServerConfig(file);
  t.same(c, {
    host: "0.0.0.0",
    port: 9443,
    clients: [
      { name: "gateway", token_sha256: H, scopes: ["evaluate"] },
      { name: "ops", token_sha256: hashToken("other"), scopes: ["admin", "events"] },
    ],
    tls: { cert: path.join(dir, "certs/server.pem"), key: path.join(dir, "certs/server.key"), clientCa: "/etc/pki/clients.pem" },
    limits: { bodyBytes: 65536, requestTimeoutMs: 2000, keepAliveTimeoutMs: 3000, maxConcurrent: 64, batchMaxItems: 100, eventsMaxItems: 500 },
    decisionLog: { path: path.join(dir, "logs/decisions.jsonl"), maxBytes: 1048576, keep: 3, redact: ["principal.email", "context.*.serial"], toEvents: true },
    reload: { watch: false, debounceMs: 50 },
    events: { allowedLatenessMs: 30000, maxGroupsPerRule: 1000, maxFutureMs: 60000 },
    alerts: { capacity: 50 },
    log: { level: "warn" },
    mfa: { keyring: path.join(dir, "ring") },
    evaluate: { inputTime: "refuse" },
    risk: { stateFile: path.join(dir, "state/risk.json"), saveIntervalMs: 250 },
  });
});

t.test("JSON works too; an empty file is the defaults; '-' is stdout", async (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, "a.json"), JSON.stringify({ port: 1, decision_log: { path: "-" } }));
  const c = await loadServerConfig(path.join(dir, "a.json"));
  t.equal(c.port, 1);
  t.equal(c.decisionLog.path, "-");
  t.equal(c.host, "127.0.0.1");
  writeFileSync(path.join(dir, "empty.yaml"), "");
  t.same(await loadServerConfig(path.join(dir, "empty.yaml")), defaultServerConfig());
});

t.test("mistakes: one line naming the file and the field", async (t) => {
  const cases: [string, RegExp][] = [
    ["port: 70000", /^c\.yaml: port: must be <= 65535$/],
    ["port: '80'", /^c\.yaml: port: must be integer$/],
    ["prot: 80", /^c\.yaml: prot: unknown field$/],
    ["limits: {body_bytes: 10}", /^c\.yaml: limits\.body_bytes: must be >= 1024$/],
    ["limits: {max_concurrent: 0}", /^c\.yaml: limits\.max_concurrent: must be >= 1$/],
    // Past node's longest timer a timeout was cut to 24.8 days with a warning on stderr (not a JSON log line), not refused.
    ["limits: {keep_alive_timeout_ms: 3000000000}", /^c\.yaml: limits\.keep_alive_timeout_ms: must be <= 2147483647$/],
    ["limits: {request_timeout_ms: 3000000000}", /^c\.yaml: limits\.request_timeout_ms: must be <= 2147483647$/],
    ["reload: {debounce_ms: 3000000000}", /^c\.yaml: reload\.debounce_ms: must be <= 2147483647$/],
    ["risk: {save_interval_ms: 0}", /^c\.yaml: risk\.save_interval_ms: must be >= 1$/],
    ["risk: {state_file: ''}", /^c\.yaml: risk\.state_file: must NOT have fewer than 1 characters$/],
    ["risk: {statefile: x}", /^c\.yaml: risk\.statefile: unknown field$/],
    ["clients: [{name: a, scopes: [evaluate]}]", /^c\.yaml: clients\[0\]\.token_sha256: is required$/],
    [`clients: [{name: a, token_sha256: abc, scopes: [evaluate]}]`, /^c\.yaml: clients\[0\]\.token_sha256: must match pattern/],
    [`clients: [{name: a, token_sha256: ${H}, scopes: [root]}]`, /^c\.yaml: clients\[0\]\.scopes\[0\]: must be one of evaluate, events, admin$/],
    [`clients: [{name: a, token_sha256: ${H}, scopes: []}]`, /^c\.yaml: clients\[0\]\.scopes: must NOT have fewer than 1 items$/],
    [`clients: [{name: a, token_sha256: ${H}, scopes: [admin]}, {name: a, token_sha256: ${hashToken("x")}, scopes: [admin]}]`, /^c\.yaml: clients\[1\]\.name: a is configured twice$/],
    [`clients: [{name: a, token_sha256: ${H}, scopes: [admin]}, {name: b, token_sha256: ${H}, scopes: [admin]}]`, /^c\.yaml: clients\[1\]\.token_sha256: the same token is given to two clients$/],
    [`clients: [{name: "a b", token_sha256: ${H}, scopes: [admin]}]`, /^c\.yaml: clients\[0\]\.name: must match pattern/],
    ["tls: {cert: a.pem}", /^c\.yaml: tls\.key: is required$/],
    ["decision_log: {keep: 2}", /^c\.yaml: decision_log\.path: is required$/],
    ["decision_log: {path: x, redact: [a..b]}", /^c\.yaml: decision_log\.redact\[0\]: must match pattern/],
    ["log: {level: loud}", /^c\.yaml: log\.level: must be one of fatal, error, warn, info, debug, trace, silent$/],
    ["mfa: {}", /^c\.yaml: mfa\.keyring: is required$/],
    ["evaluate: {input_time: ignore}", /^c\.yaml: evaluate\.input_time: must be one of accept, refuse$/],
    ["- 1", /^c\.yaml: \(top level\): must be object$/],
    ["port: 1\nport: 2", /^c\.yaml:2:1: not valid YAML or JSON: Map keys must be unique$/],
  ];
  for (const [text, message] of cases) {
    const dir = tempDir(t);
    writeFileSync(path.join(dir, "c.yaml"), text);
    await t.rejects(loadServerConfig(path.join(dir, "c.yaml"), "c.yaml"), { name: "ServerConfigError", message }, text);
  }
  await t.rejects(loadServerConfig("/nonexistent/serve.yaml"), { message: /^cannot read config \/nonexistent\/serve\.yaml: no such file or directory$/ });
});

t.test("resolveServerConfig does not share state between calls", async (t) => {
  const a = resolveServerConfig({ decision_log: { path: "x" } }, "a", "/tmp");
  const b = resolveServerConfig({}, "b", "/tmp");
  t.equal(a.decisionLog.path, "/tmp/x");
  t.equal(b.decisionLog.path, null);
});
