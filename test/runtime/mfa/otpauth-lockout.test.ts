/**
 * The enrolment display (otpauth:// Key URI, terminal QR code) and the pure
 * lockout arithmetic (counting, locks, back-off, cap, forgetting).
 */
import t from "tap";
import QRCode from "qrcode";
import { otpauthUri, terminalQr, toBase32 } from "../../../src/runtime/mfa/otpauth.js";
import { afterFailure, beginAttempt, lockoutPolicy, lockRemainingMs, MAX_LOCKOUT_MS, MemoryLockoutStore, type LockoutState } from "../../../src/runtime/mfa/lockout.js";

const SEED = new TextEncoder().encode("12345678901234567890");

t.test("otpauth URI: Key URI format, every parameter, label and issuer encoded", async (t) => {
  t.equal(toBase32(SEED), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  t.equal(toBase32(new Uint8Array([1, 2, 3])), "AEBAG", "unpadded");
  t.equal(
    otpauthUri({ issuer: "swarm-policy", account: "alice", secret: SEED, algorithm: "sha1", digits: 6, period: 30 }),
    "otpauth://totp/swarm-policy:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=swarm-policy&algorithm=SHA1&digits=6&period=30",
  );
  const uri = otpauthUri({ issuer: "Acme / Ops & Co?#", account: "a:b c@example.com", secret: SEED, algorithm: "sha256", digits: 8, period: 60 });
  const parsed = new URL(uri);
  t.equal(parsed.protocol, "otpauth:");
  t.equal(parsed.host, "totp");
  t.equal(parsed.pathname, "/Acme%20%2F%20Ops%20%26%20Co%3F%23:a%3Ab%20c%40example.com", "the first ':' splits issuer and account");
  t.same(Object.fromEntries(parsed.searchParams), { secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", issuer: "Acme / Ops & Co?#", algorithm: "SHA256", digits: "8", period: "60" });
  // The Key URI format splits the label at a literal *or* percent-encoded colon: an issuer "Acme:root"
  // would be shown as issuer "Acme" with account "root:alice", so an issuer with a colon is refused.
  t.throws(() => otpauthUri({ issuer: "Acme:root", account: "alice", secret: SEED, algorithm: "sha1", digits: 6, period: 30 }), RangeError);
  t.throws(() => otpauthUri({ issuer: "", account: "alice", secret: SEED, algorithm: "sha1", digits: 6, period: 30 }), RangeError);
});

t.test("the terminal QR code encodes exactly the URI", async (t) => {
  const uri = otpauthUri({ issuer: "swarm-policy", account: "alice", secret: SEED, algorithm: "sha1", digits: 6, period: 30 });
  const qr = await terminalQr(uri);
  t.equal(qr, await QRCode.toString(uri, { type: "terminal", small: true }));
  t.not(qr, await QRCode.toString(uri.replace("alice", "alicf"), { type: "terminal", small: true }), "another URI draws another code");
  t.match(qr, /[▀▄█]/);
  t.ok(qr.split("\n").length > 10);
});

const policy = lockoutPolicy({ maxFailures: 3, baseLockMs: 1000, maxLockMs: 4000, forgetAfterMs: 10_000 });

t.test("lockout arithmetic", async (t) => {
  let s: LockoutState | undefined;
  const trail: Array<[number, number]> = [];
  let now = 100_000;
  for (let i = 0; i < 6; i++) {
    s = afterFailure(s, now, policy);
    trail.push([s.failures, s.lockedUntil === 0 ? 0 : s.lockedUntil - now]);
    now += 5000;
  }
  t.same(trail, [
    [1, 0],
    [2, 0],
    [3, 1000],
    [4, 2000],
    [5, 4000],
    [6, 4000],
  ], "locks from the third failure, doubling, capped");
  t.equal(lockRemainingMs(s, now - 5000), 4000);
  t.equal(lockRemainingMs(s, now - 1000), 0);
  t.equal(lockRemainingMs(undefined, now), 0);
  const later = afterFailure(s, now + 20_000, policy);
  t.same([later.failures, later.lockedUntil], [1, 0], "a counter idle past forgetAfterMs starts over");
  const one = afterFailure(undefined, 0, policy);
  t.equal(afterFailure(one, 10_000 - 1, policy).failures, 2, "counted until forgetAfterMs has passed");
  t.equal(afterFailure(one, 10_000, policy).failures, 1, "forgotten once it has");
  t.equal(s!.forgetAt, now - 5000 + 10_000);
});

t.test("beginAttempt: refuses while locked without counting; counts otherwise", async (t) => {
  const locked = { failures: 3, lockedUntil: 5000, lastFailureAt: 4000, forgetAt: 14_000 };
  t.same(beginAttempt(locked, 4500, policy), { state: locked, locked: true, lockedNow: false });
  t.same(beginAttempt(locked, 4999, policy), { state: locked, locked: true, lockedNow: false }, "locked to the last millisecond");
  const after = beginAttempt(locked, 5000, policy);
  t.same([after.locked, after.lockedNow, after.state!.failures, after.state!.lockedUntil], [false, true, 4, 7000]);
  const ahead = beginAttempt({ ...locked, lockedUntil: 86_400_000 }, 4500, policy);
  t.same([ahead.locked, ahead.state!.lockedUntil], [true, 4500 + 4000], "a lock set by a clock ahead of ours ends within maxLockMs of ours");
  const fresh = beginAttempt(undefined, 0, policy);
  t.same([fresh.locked, fresh.lockedNow, fresh.state!.failures], [false, false, 1]);
});

t.test("policy checks and the memory store", async (t) => {
  t.throws(() => lockoutPolicy({ maxFailures: 0 }), RangeError);
  t.throws(() => lockoutPolicy({ baseLockMs: -1 }), RangeError);
  t.throws(() => lockoutPolicy({ baseLockMs: 10, maxLockMs: 5 }), RangeError);
  t.throws(() => lockoutPolicy({ forgetAfterMs: Number.NaN }), RangeError);
  // The bounds themselves are allowed: one failure may lock; times from 0 to 100 years.
  const hundredYears = 100 * 365.25 * 86_400_000;
  t.same(lockoutPolicy({ maxFailures: 1, baseLockMs: 0, maxLockMs: 0, forgetAfterMs: 0 }), { maxFailures: 1, baseLockMs: 0, maxLockMs: 0, forgetAfterMs: 0 });
  t.same(lockoutPolicy({ baseLockMs: hundredYears, maxLockMs: hundredYears, forgetAfterMs: hundredYears }).maxLockMs, hundredYears);
  for (const key of ["baseLockMs", "maxLockMs", "forgetAfterMs"] as const) {
    t.throws(() => lockoutPolicy({ baseLockMs: 0, maxLockMs: hundredYears, [key]: hundredYears + 1 }), RangeError, `${key} past 100 years`);
  }
  // Lock ends must stay dates: now + 1e300 ms made the lock-starting attempt throw (its event's
  // locked_until has no ISO form) and a Retry-After of "1e+297".
  for (const key of ["baseLockMs", "maxLockMs", "forgetAfterMs"] as const) {
    t.throws(() => lockoutPolicy({ baseLockMs: 1000, maxLockMs: 1000, [key]: 1e300 }), RangeError, key);
  }
  const century = lockoutPolicy({ baseLockMs: MAX_LOCKOUT_MS, maxLockMs: MAX_LOCKOUT_MS, forgetAfterMs: MAX_LOCKOUT_MS });
  const locked = afterFailure({ failures: 40, lockedUntil: 0, lastFailureAt: 0, forgetAt: Date.parse("2100-01-01T00:00:00Z") }, Date.parse("2099-01-01T00:00:00Z"), century);
  t.ok(Number.isFinite(new Date(locked.lockedUntil).getTime()), "the longest lock, starting in 2099, still ends on a date");
  let now = 0;
  const store = new MemoryLockoutStore(() => now);
  await store.update("alice", (s) => afterFailure(s, now, policy));
  t.equal((await store.get("alice"))?.failures, 1);
  now = 10_001;
  store.prune();
  t.equal(store.size, 0, "forgotten records are pruned");

  const bounded = new MemoryLockoutStore(() => now, { maxRecords: 2 });
  for (const user of ["a", "b", "a", "c"]) await bounded.update(user, (s) => afterFailure(s, now, policy));
  t.equal(bounded.size, 2, "at most maxRecords");
  t.same([(await bounded.get("a"))?.failures, await bounded.get("b"), (await bounded.get("c"))?.failures], [2, undefined, 1], "the least recently updated goes first");
  t.throws(() => new MemoryLockoutStore(() => now, { maxRecords: 0 }), RangeError);
  const single = new MemoryLockoutStore(() => now, { maxRecords: 1 });
  for (const user of ["a", "b"]) await single.update(user, (s) => afterFailure(s, now, policy));
  t.same([single.size, await single.get("a"), (await single.get("b"))?.failures], [1, undefined, 1], "maxRecords 1 keeps the latest");
});

t.test("a full bounded store evicts one record for a new name, without walking the others", async (t) => {
  // Records count the reads of their forgetAt: each read is a record looked at.
  let reads = 0;
  const record = (): LockoutState => {
    const state = { failures: 1, lockedUntil: 0, lastFailureAt: 0 };
    return Object.defineProperty(state, "forgetAt", { get: () => (reads++, 1e12), enumerable: true }) as LockoutState;
  };
  const store = new MemoryLockoutStore(() => 0, { maxRecords: 1000 });
  for (let i = 0; i < 1000; i++) await store.update(`fill-${i}`, record);
  reads = 0;
  for (let i = 0; i < 5000; i++) await store.update(`new-${i}`, record);
  t.equal(store.size, 1000);
  t.equal(store.evictions, 5000, "each new name evicted one record still in force");
  // One read per eviction, plus the prune after each 1,024 updates (1,000 records each time). Every
  // new name walked the full store before: 5,000,000 reads.
  t.ok(reads <= 5000 + 5 * 1000, `${reads} records looked at`);
  t.equal(await store.get("new-3999"), undefined, "the least recently updated went first");
  t.ok(await store.get("new-4000"));
  await store.update("new-4000", record); // updated again: now the most recent
  await store.update("one-more", record);
  t.ok(await store.get("new-4000"), "a record updated again is not the next to go");
  t.equal(await store.get("new-4001"), undefined, "the least recently updated is");

  let now = 0;
  const expiring = new MemoryLockoutStore(() => now, { maxRecords: 2 });
  await expiring.update("a", () => ({ failures: 1, lockedUntil: 0, lastFailureAt: 0, forgetAt: 10 }));
  await expiring.update("b", () => ({ failures: 1, lockedUntil: 0, lastFailureAt: 0, forgetAt: 10 }));
  now = 11;
  await expiring.update("c", () => ({ failures: 1, lockedUntil: 0, lastFailureAt: 11, forgetAt: 20 }));
  t.equal(expiring.evictions, 0, "a record past its forgetAt is not counted as evicted");
});
