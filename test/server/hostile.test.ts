/**
 * Hostile requests to the service: each is answered (4xx for what cannot be
 * read), the process goes on, and no request can switch off what the next
 * one relies on.
 */
import t from "tap";
import { call, policyDir, POLICY, start, testConfig } from "./harness.js";

const BURST = `detect "login-burst" {
  severity medium
  where event.action == "login"
  by user.name within 5m
  having count >= 3
}
`;

t.test("one event dated far ahead does not blind `by ... within` rules (events.max_future_ms)", async (t) => {
  const dir = policyDir(t, { "d.policy": BURST });
  const T0 = Date.parse("2026-03-10T10:00:00Z");
  const { url } = await start(t, [dir], { clock: () => T0 + 10 * 60_000 });
  const login = (sec: number) => ({ "@timestamp": new Date(T0 + sec * 1000).toISOString(), event: { action: "login" }, user: { name: "ann" } });
  await call(url, "/v1/events", { body: login(0) });
  const forged = await call(url, "/v1/events", { body: { ...login(0), "@timestamp": "9999-12-31T23:59:59Z" } });
  t.equal(forged.status, 200);
  t.match(forged.json, { received: 1, accepted: 0, malformed: 1, problems: [{ index: 1, kind: "malformed", message: /is more than 300000 ms after the clock/ }] });
  const rest = await call(url, "/v1/events", { body: [login(1), login(2)] });
  t.match(rest.json, { received: 2, accepted: 2, late: 0 });
  t.equal(rest.json.alerts.length, 1, "the third login fires");

  const lenient = await start(t, [dir], { clock: () => T0, config: testConfig((c) => (c.events.maxFutureMs = 3_600_000)) });
  const ahead = await call(lenient.url, "/v1/events", { body: { ...login(0), "@timestamp": new Date(T0 + 3_000_000).toISOString() } });
  t.match(ahead.json, { accepted: 1, malformed: 0 }, "within the configured bound");
});

const deepObject = (n: number) => `${'{"a":'.repeat(n)}1${"}".repeat(n)}`;
const deepList = (n: number, inner = "1") => `${"[".repeat(n)}${inner}${"]".repeat(n)}`;

t.test("?explain=true with an attribute nested 100,000 deep is answered, not 500", async (t) => {
  const dir = policyDir(t, { "a.policy": `allow "flag" {\n  when principal.is_admin\n}\n` });
  const { url, logs } = await start(t, [dir]);
  const input = `{"principal":{"is_admin":${deepObject(100_000)}},"action":"read","resource":{"type":"doc"}}`;
  const json = { "content-type": "application/json" };
  const one = await call(url, "/v1/evaluate?explain=true", { body: input, headers: json });
  t.equal(one.status, 200);
  t.equal(one.json.decision, "deny");
  t.equal(one.json.explain.rules[0].clauses[0].value, "[nested deeper than 256 levels]");
  const batch = await call(url, "/v1/evaluate/batch", { body: `{"inputs":[${input}],"explain":true}`, headers: json });
  t.equal(batch.status, 200);
  t.same(logs.lines.filter((l) => (l["level"] as number) >= 50), [], "nothing logged as an error");
});

t.test("a battery of hostile requests: every one answered below 500, and the service goes on", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY, "d.policy": BURST });
  const { url, logs } = await start(t, [dir]);
  const json = { "content-type": "application/json" };
  const ndjson = { "content-type": "application/x-ndjson" };
  const reader = '"principal":{"id":"a","roles":["reader"]},"action":"read","resource":{"type":"doc"}';
  const ts = '"@timestamp":"2026-03-10T10:00:00Z"';
  const cases: { name: string; path: string; body?: string | Buffer; headers?: Record<string, string>; status?: number; decision?: string }[] = [
    { name: "own __proto__", path: "/v1/evaluate", body: `{"__proto__":{"decision":"allow"},${reader}}`, headers: json, status: 400 },
    { name: "constructor.prototype", path: "/v1/evaluate", body: `{"constructor":{"prototype":{"x":1}},${reader}}`, headers: json, status: 400 },
    { name: "nested __proto__", path: "/v1/evaluate", body: `{"principal":{"id":"a","roles":["reader"],"__proto__":{"admin":true}},"action":"read","resource":{}}`, headers: json, status: 400 },
    { name: "roles nested 100,000 deep", path: "/v1/evaluate", body: `{"principal":{"id":"a","roles":${deepList(100_000, '"reader"')}},"action":"read","resource":{"type":"doc"}}`, headers: json, decision: "deny" },
    { name: "a role nested 100,000 deep", path: "/v1/evaluate", body: `{"principal":{"id":"a","roles":[${deepObject(100_000)}]},"action":"read","resource":{"type":"doc"}}`, headers: json, decision: "deny" },
    { name: "explain, attribute nested deep", path: "/v1/evaluate?explain=true", body: `{${reader},"context":{"x":${deepObject(100_000)}}}`, headers: json, decision: "allow" },
    { name: "1e400 time", path: "/v1/evaluate", body: `{${reader},"time":1e400}`, headers: json, decision: "deny" },
    { name: "huge epoch time", path: "/v1/evaluate", body: `{${reader},"time":99999999999999999999}`, headers: json, decision: "deny" },
    { name: "year 0 time", path: "/v1/evaluate", body: `{${reader},"time":"0000-01-01T00:00:00Z"}`, headers: json },
    { name: "huge number id", path: "/v1/evaluate", body: `{"principal":{"id":1e400,"roles":["reader"]},"action":"read","resource":{"type":"doc"}}`, headers: json },
    { name: "lone surrogate", path: "/v1/evaluate", body: `{"principal":{"id":"\\ud800","roles":["reader"]},"action":"read","resource":{"type":"doc"}}`, headers: json, decision: "allow" },
    // Refused: decoded with U+FFFD, a Latin-1 name would be decided as a name no deny rule names.
    { name: "invalid UTF-8", path: "/v1/evaluate", body: Buffer.concat([Buffer.from('{"principal":{"id":"'), Buffer.from([0xff, 0xfe]), Buffer.from(`"},"action":"read","resource":{}}`)]), headers: json, status: 400 },
    { name: "text/plain", path: "/v1/evaluate", body: `{${reader}}`, headers: { "content-type": "text/plain" }, status: 415 },
    { name: "no content type", path: "/v1/evaluate", body: `{${reader}}`, headers: {}, status: 415 },
    { name: "NDJSON to evaluate", path: "/v1/evaluate", body: `{${reader}}`, headers: ndjson, status: 400 },
    { name: "JSON null", path: "/v1/evaluate", body: "null", headers: json, status: 400 },
    { name: "empty body", path: "/v1/evaluate", body: "", headers: json, status: 400 },
    { name: "not JSON", path: "/v1/evaluate", body: '{"principal":', headers: json, status: 400 },
    { name: "batch of lists nested deep", path: "/v1/evaluate/batch", body: `{"inputs":${deepList(100_000)}}`, headers: json, status: 400 },
    { name: "batch with __proto__", path: "/v1/evaluate/batch", body: '{"inputs":[{"__proto__":{"x":1}}]}', headers: json, status: 400 },
    { name: "events with __proto__", path: "/v1/events", body: `{"__proto__":{"x":1},${ts}}`, headers: json, status: 400 },
    { name: "event nested 100,000 deep", path: "/v1/events", body: `{${ts},"event":{"action":"login"},"user":{"name":"x"},"x":${deepObject(100_000)}}`, headers: json, status: 200 },
    { name: "NDJSON __proto__ line", path: "/v1/events", body: `{${ts},"a":{"__proto__":{"x":1}}}\n{${ts}}`, headers: ndjson, status: 200 },
    { name: "NDJSON line nested deep", path: "/v1/events", body: `${deepList(200_000)}\n`, headers: ndjson, status: 200 },
    { name: "NDJSON blank lines only", path: "/v1/events", body: "\n\n \r\n\t\n", headers: ndjson, status: 200 },
    { name: "NDJSON empty", path: "/v1/events", body: "", headers: ndjson, status: 200 },
    { name: "NDJSON CR separators", path: "/v1/events", body: `{${ts}}\r{${ts}}`, headers: ndjson, status: 200 },
    { name: "NDJSON BOM", path: "/v1/events", body: `\ufeff{${ts}}\n`, headers: ndjson, status: 200 },
    { name: "NDJSON U+2028", path: "/v1/events", body: `{${ts},"a":"\u2028"}\u2028{${ts}}`, headers: ndjson, status: 200 },
    { name: "NDJSON too many lines", path: "/v1/events", body: "1\n".repeat(20_000), headers: ndjson, status: 400 },
    { name: "NDJSON scalars and lists", path: "/v1/events", body: `null\n"x"\n[]\n[{${ts}}]\n`, headers: ndjson, status: 200 },
    { name: "NDJSON constructor.prototype", path: "/v1/events", body: `{${ts},"constructor":{"prototype":{}}}`, headers: ndjson, status: 200 },
    { name: "NDJSON odd charset", path: "/v1/events", body: `{${ts}}`, headers: { "content-type": "application/x-ndjson; charset=latin1" }, status: 200 },
    { name: "event in year 275760", path: "/v1/events", body: '{"@timestamp":"+275760-09-13T00:00:00Z"}', headers: json, status: 200 },
    { name: "MFA with __proto__", path: "/v1/mfa/verify", body: '{"__proto__":{"user":"a"},"user":"a","code":"123456"}', headers: json, status: 400 },
    { name: "MFA numeric code", path: "/v1/mfa/verify", body: '{"user":"a","code":123456}', headers: json, status: 400 },
    { name: "MFA code nested deep", path: "/v1/mfa/verify", body: `{"user":"a","code":${deepList(100_000)}}`, headers: json, status: 400 },
  ];
  for (const c of cases) {
    const r = await call(url, c.path, { body: c.body ?? "", headers: c.headers ?? {} });
    t.ok(r.status < 500, `${c.name}: ${r.status} ${r.text.slice(0, 120)}`);
    if (c.status !== undefined) t.equal(r.status, c.status, `${c.name}: status`);
    if (c.decision !== undefined) t.equal(r.json?.decision, c.decision, `${c.name}: decision`);
  }
  for (const q of ["?limit=1e400", "?since=notatime", "?after=-1", "?rule=__proto__", "?severity=%ZZ", "?limit=99999999999999999999"]) {
    const r = await call(url, `/v1/alerts${q}`);
    t.ok(r.status < 500, `GET /v1/alerts${q}: ${r.status}`);
  }
  t.equal((await call(url, "/healthz")).status, 200, "still serving");
  t.equal((await call(url, "/v1/evaluate", { body: JSON.parse(`{${reader}}`) as object })).json.decision, "allow", "and deciding");
  t.same(logs.lines.filter((l) => (l["level"] as number) >= 50).map((l) => l["msg"]), [], "nothing logged as an error");
  for (const key in Object.prototype) t.fail(`Object.prototype gained ${key}`);
});

// The detect CLI drops a leading UTF-8 BOM from an events file (cli/json-lines.ts), and a JSON body
// with one is read; the same file POSTed as NDJSON lost its first event as "not JSON (at column 1)".
t.test("an NDJSON body that starts with a BOM keeps its first event", async (t) => {
  const dir = policyDir(t, { "d.policy": BURST });
  const { url } = await start(t, [dir]);
  const body = `\ufeff{"@timestamp":"2026-03-10T10:00:00Z"}\n\ufeff{"@timestamp":"2026-03-10T10:00:01Z"}\n`;
  const r = await call(url, "/v1/events", { body, headers: { "content-type": "application/x-ndjson" } });
  t.equal(r.status, 200);
  t.match(r.json, { received: 2, accepted: 1, malformed: 1, problems: [{ index: 2, line: 2, kind: "malformed" }] }, "only the first line's BOM is one");
});
