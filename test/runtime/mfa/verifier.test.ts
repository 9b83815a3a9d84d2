/**
 * A code is accepted at most once per (user, time step), also within the
 * window and under concurrent use; the memory replay store forgets expired
 * steps.
 */
import t from "tap";
import { SecretKey } from "../../../src/runtime/crypto/secret-key.js";
import { MemoryReplayStore } from "../../../src/runtime/mfa/replay-store.js";
import { totpCode } from "../../../src/runtime/mfa/totp.js";
import { TotpVerifier } from "../../../src/runtime/mfa/verifier.js";

const secret = SecretKey.from(new TextEncoder().encode("12345678901234567890"));
const now = 1_700_000_015;
const step = Math.floor(now / 30);

t.test("accepted once, then a replay", async (t) => {
  const v = new TotpVerifier();
  const code = totpCode(secret, now);
  t.same(await v.verify("alice", secret, code, now), { valid: true, timeStep: step });
  t.same(await v.verify("alice", secret, code, now), { valid: false, reason: "replay" });
  t.same(await v.verify("alice", secret, code, now + 30), { valid: false, reason: "replay" }, "still a replay one step later");
  t.same(await v.verify("bob", secret, code, now), { valid: true, timeStep: step }, "replay is per user");
  const next = totpCode(secret, now + 30);
  t.same(await v.verify("alice", secret, next, now + 30), { valid: true, timeStep: step + 1 }, "the next step's code is fresh");
});

t.test("invalid and malformed codes are 'invalid' and use up nothing", async (t) => {
  const store = new MemoryReplayStore(() => now);
  const v = new TotpVerifier({ replay: store });
  t.same(await v.verify("alice", secret, "000000", now), { valid: false, reason: "invalid" });
  t.same(await v.verify("alice", secret, "12", now), { valid: false, reason: "invalid" });
  t.same(await v.verify("alice", new Uint8Array(4), totpCode(secret, now), now), { valid: false, reason: "invalid" });
  t.same(await v.verify("", secret, totpCode(secret, now), now), { valid: false, reason: "invalid" }, "empty user");
  t.equal(store.size, 0);
  t.same(await v.verify("alice", secret, totpCode(secret, now), now), { valid: true, timeStep: step });
});

t.test("concurrent verifications of one code: exactly one wins", async (t) => {
  const v = new TotpVerifier();
  const code = totpCode(secret, now);
  const results = await Promise.all(Array.from({ length: 5 }, () => v.verify("carol", secret, code, now)));
  t.equal(results.filter((r) => r.valid).length, 1);
});

t.test("memory store: records expire once their step is out of every window", async (t) => {
  let clock = now;
  const store = new MemoryReplayStore(() => clock);
  const v = new TotpVerifier({ replay: store });
  await v.verify("alice", secret, totpCode(secret, now), now);
  t.equal(store.size, 1);
  clock = (step + 2) * 30 - 1;
  store.prune();
  t.equal(store.size, 1, "kept while step+1 is current");
  clock = (step + 2) * 30;
  store.prune();
  t.equal(store.size, 0, "dropped when step+2 begins");
});

t.test("memory store: its default clock is the wall clock in seconds", async (t) => {
  const store = new MemoryReplayStore();
  const wall = Date.now() / 1000;
  t.ok(await store.claim("alice", 1, wall + 600));
  t.ok(await store.claim("alice", 2, wall - 600));
  store.prune();
  t.equal(store.size, 1, "the expired record goes, the live one stays");
  t.notOk(await store.claim("alice", 1, wall + 600), "the live record still refuses its step");
});

t.test("memory store: a store nobody prunes drops expired records every 1,024 claims", async (t) => {
  let clock = 0;
  const store = new MemoryReplayStore(() => clock);
  const round = async (first: number) => {
    await store.claim("expired", first, 10);
    clock += 100;
    for (let i = 1; i < 1023; i++) await store.claim("live", first + i, clock + 1000);
    t.equal(store.size, 1023 + (first === 0 ? 0 : 1023), `round ${first}: nothing dropped after 1,023 claims`);
    await store.claim("live", first + 1023, clock + 1000);
    t.equal(store.size, 1023 + (first === 0 ? 0 : 1023), `round ${first}: the 1,024th claim dropped the expired record`);
  };
  await round(0);
  await round(1024);
});

t.test("options: 8 digits, SHA-256, 60-second period", async (t) => {
  const seed = new TextEncoder().encode("12345678901234567890123456789012");
  const v = new TotpVerifier({ totp: { digits: 8, algorithm: "sha256", period: 60 } });
  const code = totpCode(seed, now, { digits: 8, algorithm: "sha256", period: 60 });
  t.equal(code.length, 8);
  t.same(await v.verify("dave", seed, code, now + 60), { valid: true, timeStep: Math.floor(now / 60) });
  t.same(await v.verify("dave", seed, code, now + 60), { valid: false, reason: "replay" });
});
