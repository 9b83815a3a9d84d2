/**
 * Bearer tokens and scopes over loopback, the non-loopback refusal, and
 * logs that carry neither tokens nor bodies.
 */
import t from "tap";
import { hashToken, isLoopbackHost, startServer } from "../../src/index.js";
import { TokenAuth } from "../../src/server/auth.js";
import { accessInput, call, LogCapture, policyDir, POLICY, start, testConfig } from "./harness.js";

const TOKENS = { gateway: "tok-gateway-6f1c9a", siem: "tok-siem-44b2e0", ops: "tok-ops-90aa17", all: "tok-all-1d3c55" };

function authConfig() {
  return testConfig((c) => {
    c.clients = [
      { name: "gateway", token_sha256: hashToken(TOKENS.gateway), scopes: ["evaluate"] },
      { name: "siem", token_sha256: hashToken(TOKENS.siem), scopes: ["events"] },
      { name: "ops", token_sha256: hashToken(TOKENS.ops), scopes: ["admin"] },
      { name: "all", token_sha256: hashToken(TOKENS.all), scopes: ["evaluate", "events", "admin"] },
    ];
  });
}

const ROUTES: { method: string; path: string; scope: string | null; body?: unknown }[] = [
  { method: "POST", path: "/v1/evaluate", scope: "evaluate", body: accessInput("ann", ["reader"]) },
  { method: "POST", path: "/v1/evaluate/batch", scope: "evaluate", body: { inputs: [] } },
  { method: "POST", path: "/v1/mfa/verify", scope: "evaluate", body: { user: "ann", code: "123456" } },
  { method: "POST", path: "/v1/events", scope: "events", body: [] },
  { method: "GET", path: "/v1/alerts", scope: "events" },
  { method: "GET", path: "/v1/policies", scope: "admin" },
  { method: "POST", path: "/v1/policies/reload", scope: "admin" },
  { method: "GET", path: "/metrics", scope: "admin" },
  { method: "GET", path: "/healthz", scope: null },
  { method: "GET", path: "/readyz", scope: null },
];

const CLIENT_SCOPES: Record<keyof typeof TOKENS, string[]> = { gateway: ["evaluate"], siem: ["events"], ops: ["admin"], all: ["evaluate", "events", "admin"] };

t.test("every route against every client: scope grants, others 403, no or bad token 401", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  const { url, logs } = await start(t, [dir], { config: authConfig() });
  for (const route of ROUTES) {
    const base = { method: route.method, ...(route.body !== undefined ? { body: route.body as object } : {}) };
    const anon = await call(url, route.path, base);
    const bad = await call(url, route.path, { ...base, headers: { authorization: "Bearer not-a-token" } });
    const basic = await call(url, route.path, { ...base, headers: { authorization: `Basic ${TOKENS.all}` } });
    if (route.scope === null) {
      t.ok(anon.status < 400 || anon.status === 503, `${route.path} is open`);
      continue;
    }
    t.equal(anon.status, 401, `${route.path}: no token`);
    t.equal(anon.json.error.code, "unauthorized");
    t.match(anon.headers["www-authenticate"], /^Bearer/);
    t.equal(bad.status, 401, `${route.path}: unknown token`);
    t.equal(basic.status, 401, `${route.path}: not a bearer token`);
    for (const [client, token] of Object.entries(TOKENS) as [keyof typeof TOKENS, string][]) {
      const r = await call(url, route.path, { ...base, headers: { authorization: `Bearer ${token}` } });
      if (CLIENT_SCOPES[client].includes(route.scope)) {
        t.not(r.status, 401, `${route.path} as ${client}`);
        t.not(r.status, 403, `${route.path} as ${client}`);
      } else {
        t.equal(r.status, 403, `${route.path} as ${client}: forbidden`);
        t.equal(r.json.error.code, "forbidden");
        t.match(r.json.error.message, new RegExp(`lacks the scope ${route.scope}`));
      }
    }
  }
  const ok = await call(url, "/v1/evaluate", { body: accessInput("ann", ["reader"]), headers: { authorization: `bearer ${TOKENS.gateway}` } });
  t.equal(ok.json.decision, "allow", "the scheme is case-insensitive");
  t.ok(logs.lines.some((l) => l.client === "gateway"), "logs name the client");
  for (const token of Object.values(TOKENS)) t.notOk(logs.raw.includes(token), "no token in the logs");
  t.notOk(logs.raw.includes("not-a-token"), "not even a wrong one");
  t.notOk(logs.raw.includes('"reader"'), "no request body in the logs");
});

t.test("TokenAuth compares hashes; the config never holds a token", async (t) => {
  const auth = new TokenAuth([{ name: "a", token_sha256: hashToken("secret-a"), scopes: ["evaluate"] }]);
  t.same(auth.check("Bearer secret-a", "evaluate"), { ok: true, client: "a" });
  t.match(auth.check("Bearer secret-b", "evaluate"), { ok: false, status: 401 });
  t.match(auth.check("Bearer secret-a", "admin"), { ok: false, status: 403 });
  t.match(auth.check(undefined, "evaluate"), { ok: false, status: 401 });
  t.match(auth.check("Bearer", "evaluate"), { ok: false, status: 401 });
  // sha256("abc"), FIPS 180-2 appendix B.1.
  t.equal(hashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});

t.test("isLoopbackHost", async (t) => {
  const cases: [string, boolean][] = [
    ["127.0.0.1", true],
    ["127.8.9.10", true],
    ["localhost", true],
    ["LOCALHOST", true],
    ["::1", true],
    ["[::1]", true],
    ["::ffff:127.0.0.1", true],
    ["0.0.0.0", false],
    ["::", false],
    ["10.0.0.1", false],
    ["100.64.0.1", false],
    ["128.0.0.1", false],
    ["example.com", false],
    ["localhost.example.com", false],
    ["::ffff:10.0.0.1", false],
  ];
  for (const [host, want] of cases) t.equal(isLoopbackHost(host), want, host);
});

t.test("refuses a non-loopback address without tokens, before listening", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  for (const host of ["0.0.0.0", "::", "198.18.0.1", "example.com"]) {
    const logs = new LogCapture();
    await t.rejects(
      startServer({ paths: [dir], config: testConfig((c) => (c.host = host)), logStream: logs }),
      { name: "ServerConfigError", message: /refusing to listen on .* without authentication/ },
      host,
    );
  }
});
