/**
 * POST /v1/mfa/verify with an in-memory secret source and a fixed clock:
 * good, replayed, wrong and unknown codes, lockout (429), a failing secret
 * store (500, never a success), the loop into access decisions
 * (`require mfa within D` reads the `verified_at` the endpoint gives), MFA
 * security events reaching a detect rule, and no code in the logs.
 */
import t from "tap";
import { chmodSync, statSync } from "node:fs";
import path from "node:path";
import { FileMfaStateStore, SecretKey, totpCode, type TotpSecretSource } from "../../src/index.js";
import { call, policyDir, start, tempDir } from "./harness.js";

const NOW = Date.parse("2026-03-10T10:00:00Z");
const SECRETS: Record<string, Uint8Array> = {
  alice: Uint8Array.from({ length: 20 }, (_, i) => i + 1),
  bob: Uint8Array.from({ length: 20 }, (_, i) => 200 - i),
};
const TOTP = { digits: 6, period: 30, algorithm: "sha1" } as const;

/** An in-memory secret source, as the verifier expects (a fresh SecretKey per call). */
function memorySecrets(secrets: Record<string, Uint8Array>): TotpSecretSource {
  return {
    secretFor: async (user) => (Object.hasOwn(secrets, user) ? { secret: SecretKey.from(secrets[user]!), totp: TOTP } : null),
  };
}

const codeFor = (user: string, ms = NOW) => totpCode(SECRETS[user]!, Math.floor(ms / 1000), TOTP);

const POLICY = `package app

allow "read-with-fresh-mfa" {
  when action == "read"
  require mfa within 5m
}

detect "mfa-guessing" {
  severity high
  where event.action == "mfa-verify" and event.outcome == "failure"
  by user.name within 10m
  having count >= 3
}
`;

t.test("good, replayed, wrong and unknown codes; the verified_at opens access", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  let clock = NOW;
  const { url, logs } = await start(t, [dir], { mfaSecrets: memorySecrets(SECRETS), clock: () => clock });
  const input = { principal: { id: "alice" }, action: "read", resource: { id: "r" } };
  const before = await call(url, "/v1/evaluate", { body: input });
  t.equal(before.json.decision, "challenge", "no MFA yet: step up");

  const code = codeFor("alice");
  const good = await call(url, "/v1/mfa/verify", { body: { user: "alice", code } });
  t.equal(good.status, 200);
  t.same(good.json, { valid: true, user: "alice", verified_at: "2026-03-10T10:00:00.000Z", context: { mfa: { verified_at: "2026-03-10T10:00:00.000Z" } } });
  const after = await call(url, "/v1/evaluate", { body: { ...input, context: good.json.context } });
  t.equal(after.json.decision, "allow", "the endpoint's verified_at satisfies require mfa");
  clock += 6 * 60_000;
  const stale = await call(url, "/v1/evaluate", { body: { ...input, context: good.json.context } });
  t.equal(stale.json.decision, "challenge", "and expires with the policy's window");
  clock = NOW;

  const replay = await call(url, "/v1/mfa/verify", { body: { user: "alice", code } });
  t.same(replay.json, { valid: false, reason: "replay" });
  const wrong = await call(url, "/v1/mfa/verify", { body: { user: "bob", code: code === "000000" ? "111111" : "000000" } });
  t.same(wrong.json, { valid: false, reason: "invalid" });
  const unknown = await call(url, "/v1/mfa/verify", { body: { user: "mallory", code: "123456" } });
  t.same(unknown.json, { valid: false, reason: "invalid" }, "an unknown user looks like a wrong code");
  const bobGood = await call(url, "/v1/mfa/verify", { body: { user: "bob", code: codeFor("bob") } });
  t.equal(bobGood.json.valid, true, "one user's failures do not touch another's codes");

  for (const body of [{ user: "alice" }, { user: "alice", code: 123456 }, { user: "", code: "1" }, { user: "alice", code: "1".repeat(17) }, { user: "alice", code: "1", extra: 1 }]) {
    const r = await call(url, "/v1/mfa/verify", { body });
    t.equal(r.status, 400, JSON.stringify(body));
    t.equal(r.json.error.code, "invalid_body");
  }
  t.notOk(logs.raw.includes(code), "the code never reaches the logs");
  t.ok(logs.lines.some((l) => l.msg === "mfa event"), "MFA attempts are logged as security events");
  const metrics = (await call(url, "/metrics")).text;
  t.match(metrics, /^swarm_policy_mfa_verifications_total\{result="valid"\} 2$/m);
  t.match(metrics, /^swarm_policy_mfa_verifications_total\{result="replay"\} 1$/m);
  t.match(metrics, /^swarm_policy_mfa_verifications_total\{result="not-enrolled"\} 1$/m);
});

t.test("lockout: 429 with Retry-After; MFA failures reach detect rules", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  const { url } = await start(t, [dir], { mfaSecrets: memorySecrets(SECRETS), clock: () => NOW });
  const bad = codeFor("alice") === "000000" ? "111111" : "000000";
  const answers = [];
  for (let i = 0; i < 6; i++) answers.push(await call(url, "/v1/mfa/verify", { body: { user: "alice", code: bad } }));
  t.same(answers.slice(0, 4).map((a) => a.json), Array(4).fill({ valid: false, reason: "invalid" }));
  t.match(answers[4]!.json, { valid: false, reason: "invalid", retry_after_seconds: 60 }, "the fifth failure starts a lock");
  t.equal(answers[5]!.status, 429);
  t.equal(answers[5]!.json.error.code, "too_many_attempts");
  t.equal(answers[5]!.headers["retry-after"], "60");
  const good = await call(url, "/v1/mfa/verify", { body: { user: "alice", code: codeFor("alice") } });
  t.equal(good.status, 429, "locked: even a good code waits");
  const alerts = (await call(url, "/v1/alerts?rule=mfa-guessing")).json.alerts;
  // Seven failed attempts (five wrong codes, two refused while locked): the rule fires at the third and the sixth.
  t.equal(alerts.length, 2, "every three failures for one user within 10m raise the detect rule");
  t.match(alerts, [{ group: { "user.name": "alice" }, severity: "high", count: 3 }, { group: { "user.name": "alice" }, count: 3 }]);
});

t.test("a failing secret store is a 500, never a success; no source is a 501", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  const broken: TotpSecretSource = { secretFor: async () => Promise.reject(new Error("keyring unreadable")) };
  const { url } = await start(t, [dir], { mfaSecrets: broken, clock: () => NOW });
  const r = await call(url, "/v1/mfa/verify", { body: { user: "alice", code: codeFor("alice") } });
  t.equal(r.status, 500);
  t.same(r.json, { error: { code: "internal_error", message: "MFA verification is unavailable" } });
  const none = await start(t, [dir]);
  const n = await call(none.url, "/v1/mfa/verify", { body: { user: "alice", code: "123456" } });
  t.equal(n.status, 501);
  t.equal(n.json.error.code, "mfa_not_configured");
});

t.test("lockout does not tell enrolled users from others: an unknown user is locked after as many failures", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  const { url } = await start(t, [dir], { mfaSecrets: memorySecrets(SECRETS), clock: () => NOW });
  const bad = codeFor("alice") === "000000" ? "111111" : "000000";
  const answersFor = async (user: string) => {
    const out = [];
    for (let i = 0; i < 6; i++) {
      const r = await call(url, "/v1/mfa/verify", { body: { user, code: bad } });
      out.push({ status: r.status, json: r.json, retryAfter: r.headers["retry-after"] });
    }
    return out;
  };
  const enrolled = await answersFor("alice");
  const unknown = await answersFor("mallory");
  t.equal(enrolled[5]!.status, 429, "the enrolled user is locked");
  t.same(unknown, enrolled, "the same answers, status and Retry-After for a user who is not enrolled");
});

t.test("with mfaState, used codes and locks outlive the server: a restart accepts no code twice and undoes no lock", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  const stateDir = tempDir(t);
  const serve = () => start(t, [dir], { mfaSecrets: memorySecrets(SECRETS), mfaState: new FileMfaStateStore(stateDir, { now: () => NOW }), clock: () => NOW });
  const first = await serve();
  const code = codeFor("alice");
  t.equal((await call(first.url, "/v1/mfa/verify", { body: { user: "alice", code } })).json.valid, true);
  const bad = codeFor("bob") === "000000" ? "111111" : "000000";
  for (let i = 0; i < 5; i++) await call(first.url, "/v1/mfa/verify", { body: { user: "bob", code: bad } });
  await first.server.close();
  const second = await serve();
  t.same((await call(second.url, "/v1/mfa/verify", { body: { user: "alice", code } })).json, { valid: false, reason: "replay" });
  t.equal((await call(second.url, "/v1/mfa/verify", { body: { user: "bob", code: codeFor("bob") } })).status, 429, "bob is still locked");
});

t.test("with mfaState, a name that is not enrolled costs the same state-file work: no timing or failure tells who is enrolled", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  const stateDir = tempDir(t);
  const { url } = await start(t, [dir], { mfaSecrets: memorySecrets(SECRETS), mfaState: new FileMfaStateStore(stateDir, { now: () => NOW }), clock: () => NOW });
  const file = path.join(stateDir, "state.json");
  const bad = codeFor("alice") === "000000" ? "111111" : "000000";
  await call(url, "/v1/mfa/verify", { body: { user: "alice", code: bad } });
  for (const user of ["alice", "mallory"]) {
    const before = statSync(file).ino;
    t.same((await call(url, "/v1/mfa/verify", { body: { user, code: bad } })).json, { valid: false, reason: "invalid" });
    t.not(statSync(file).ino, before, `${user}: the state file was written (replaced)`);
  }
  chmodSync(file, 0o644);
  for (const user of ["alice", "mallory"]) {
    t.equal((await call(url, "/v1/mfa/verify", { body: { user, code: bad } })).status, 500, `${user}: an unusable state file fails alike`);
  }
});
