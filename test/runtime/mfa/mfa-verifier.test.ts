/**
 * MfaVerifier.verify(user, code): a valid code once, then replay; malformed
 * input of every kind a clean "invalid" (never a throw, never a success);
 * lockout with back-off; one security event per attempt and per lock, never
 * holding the code or the secret; the events drive a detect rule; and a
 * success gives the context.mfa.verified_at that turns an MFA challenge into
 * an allow.
 */
import t from "tap";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { compile } from "../../../src/index.js";
import { SecretKey } from "../../../src/runtime/crypto/secret-key.js";
import type { TotpSecretSource } from "../../../src/runtime/mfa/enrollments.js";
import type { MfaEvent } from "../../../src/runtime/mfa/events.js";
import { MemoryLockoutStore, type LockoutStore } from "../../../src/runtime/mfa/lockout.js";
import { MfaVerifier, type MfaVerifierOptions } from "../../../src/runtime/mfa/mfa-verifier.js";
import type { ReplayStore } from "../../../src/runtime/mfa/replay-store.js";
import { totpCode } from "../../../src/runtime/mfa/totp.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const SEED = new TextEncoder().encode("12345678901234567890");
const SEED_B32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const T0 = Date.parse("2026-01-01T00:00:10Z");

/** Secrets for "alice" and "bob" (same seed), in memory; a fresh SecretKey per call, as the contract says. */
const secrets: TotpSecretSource = {
  async secretFor(user) {
    if (user !== "alice" && user !== "bob") return null;
    return { secret: SecretKey.from(SEED), totp: { algorithm: "sha1", digits: 6, period: 30 } };
  },
};

function setup(extra: Partial<MfaVerifierOptions> = {}) {
  let now = T0;
  const events: MfaEvent[] = [];
  const verifier = new MfaVerifier({ secrets, clock: () => now, onEvent: (e) => events.push(e), ...extra });
  return {
    verifier,
    events,
    at: (ms: number) => void (now = ms),
    advance: (ms: number) => void (now += ms),
    now: () => now,
    code: (ms = now) => totpCode(SEED, Math.floor(ms / 1000)),
  };
}

t.test("a valid code is accepted once, with verified_at; the same step again is a replay", async (t) => {
  const s = setup();
  const code = s.code();
  t.same(await s.verifier.verify("alice", code), {
    valid: true,
    user: "alice",
    verifiedAt: "2026-01-01T00:00:10.000Z",
    context: { mfa: { verified_at: "2026-01-01T00:00:10.000Z" } },
  });
  s.advance(20_000);
  t.same(await s.verifier.verify("alice", code), { valid: false, reason: "replay" });
  t.equal((await s.verifier.verify("bob", code)).valid, true, "replay is per user");
  s.advance(30_000);
  t.equal((await s.verifier.verify("alice", s.code())).valid, true, "the next step's code is fresh");
  t.same(
    s.events.map((e) => [e.event.action, e.event.outcome, e.event.reason, (e.user as { name: string }).name]),
    [
      ["mfa-verify", "success", undefined, "alice"],
      ["mfa-verify", "failure", "replay", "alice"],
      ["mfa-verify", "success", undefined, "bob"],
      ["mfa-verify", "success", undefined, "alice"],
    ],
  );
});

t.test("RFC 6238 Appendix B: all 18 rows through the whole verifier (8 digits; errata seeds)", async (t) => {
  const rfc = JSON.parse(readFileSync(path.resolve(repoRoot, "../shared/vectors/rfc6238.json"), "utf8")) as {
    seeds: Record<string, { hex: string }>;
    vectors: Array<{ time: number; totp: string; mode: "SHA1" | "SHA256" | "SHA512" }>;
  };
  t.equal(rfc.vectors.length, 18);
  for (const v of rfc.vectors) {
    const seed = Buffer.from(rfc.seeds[v.mode]!.hex, "hex");
    const algorithm = v.mode.toLowerCase() as "sha1" | "sha256" | "sha512";
    const source: TotpSecretSource = { secretFor: async () => ({ secret: SecretKey.from(seed), totp: { algorithm, digits: 8, period: 30 } }) };
    const verifier = new MfaVerifier({ secrets: source, clock: () => v.time * 1000 });
    const ok = await verifier.verify("rfc", v.totp);
    t.equal(ok.valid, true, `${v.mode} at ${v.time}`);
    t.same(await verifier.verify("rfc", v.totp), { valid: false, reason: "replay" }, `${v.mode} at ${v.time}: once`);
  }
});

t.test("one step either side, not two", async (t) => {
  for (const [delta, valid] of [
    [-60_000, false],
    [-30_000, true],
    [0, true],
    [30_000, true],
    [60_000, false],
  ] as const) {
    const s = setup();
    t.equal((await s.verifier.verify("alice", s.code(T0 + delta))).valid, valid, `code of ${delta / 1000} s away`);
  }
});

t.test("malformed input is a clean 'invalid', never a throw, never a success", async (t) => {
  const s = setup({ lockoutPolicy: { maxFailures: 1000 } });
  const good = s.code();
  const cases: Array<[string, unknown, unknown]> = [
    ["5 digits", "alice", good.slice(0, 5)],
    ["7 digits", "alice", good + "0"],
    ["8 digits", "alice", good + "00"],
    ["empty", "alice", ""],
    ["letters", "alice", "12a456"],
    ["signs", "alice", "-12345"],
    ["spaces around", "alice", ` ${good} `],
    ["newline inside", "alice", `${good.slice(0, 3)}\n${good.slice(3)}`],
    ["fullwidth digits", "alice", "１２３４５６"],
    ["arabic-indic digits", "alice", "١٢٣٤٥٦"],
    ["a number", "alice", Number(good)],
    ["null", "alice", null],
    ["undefined", "alice", undefined],
    ["an array", "alice", [good]],
    ["an object with toString", "alice", { toString: () => good }],
    ["a huge string", "alice", "1".repeat(1_000_000)],
    ["user not a string", 42, good],
    ["user empty", "", good],
    ["user with a newline", "alice\n", good],
    ["user with ESC", "\u001b[2Jalice", good],
    ["user too long", "a".repeat(257), good],
    ["user object", { toString: () => "alice" }, good],
  ];
  for (const [what, user, code] of cases) {
    let result: unknown;
    await t.resolves(
      (async () => {
        result = await s.verifier.verify(user, code);
      })(),
      what,
    );
    t.same(result, { valid: false, reason: "invalid" }, `${what}: invalid`);
  }
  t.equal(s.events.length, cases.length, "one failure event per attempt");
  t.ok(s.events.every((e) => e.event.outcome === "failure" && e.event.reason === "invalid"));
  t.ok(s.events.filter((e) => e.user === undefined).length === 6, "no user.name when the user name is not one");
  t.equal((await s.verifier.verify("alice", good)).valid, true, "control: the well-formed code still works");
});

t.test("a secret otplib would refuse (too short, too long, empty) is 'invalid', never a throw", async (t) => {
  for (const bytes of [0, 10, 15, 65, 128]) {
    const seed = new Uint8Array(bytes).fill(7);
    const odd: TotpSecretSource = { secretFor: async () => ({ secret: SecretKey.from(seed), totp: { algorithm: "sha1", digits: 6, period: 30 } }) };
    const v = new MfaVerifier({ secrets: odd, clock: () => T0 });
    let code = "123456";
    try {
      code = totpCode(seed, T0 / 1000); // otplib itself may refuse to make a code from such a secret
    } catch {
      // keep the placeholder
    }
    t.same(await v.verify("alice", code), { valid: false, reason: "invalid" }, `${bytes}-byte secret`);
  }
});

t.test("a user who is not enrolled: 'not-enrolled', no lockout record", async (t) => {
  const lockout = new MemoryLockoutStore();
  const s = setup({ lockout });
  t.same(await s.verifier.verify("mallory", s.code()), { valid: false, reason: "not-enrolled" });
  t.equal(lockout.size, 0);
  t.equal(s.events[0]!.event.reason, "not-enrolled");
});

t.test("with unenrolledLockout, a name that is not enrolled locks like an enrolled one (and only that store is touched)", async (t) => {
  const lockout = new MemoryLockoutStore();
  const unenrolledLockout = new MemoryLockoutStore();
  const s = setup({ lockout, unenrolledLockout });
  const answers = async (user: string) => {
    const out = [];
    for (let i = 0; i < 6; i++) out.push(await s.verifier.verify(user, "000000"));
    return out;
  };
  const alice = await answers("alice");
  const mallory = await answers("mallory");
  t.same(alice.slice(4), [{ valid: false, reason: "invalid", retryAfterMs: 60_000 }, { valid: false, reason: "locked", retryAfterMs: 60_000 }]);
  t.same(
    mallory,
    alice.map((a) => (a.valid === false && a.reason === "invalid" ? { ...a, reason: "not-enrolled" } : a)),
    "the same lock, at the same failure, for the same time",
  );
  t.same([lockout.size, unenrolledLockout.size], [1, 1], "mallory's record is in the store of names that are not enrolled");
  t.same(
    s.events.filter((e) => (e.user as { name: string }).name === "mallory").map((e) => [e.event.action, e.event.reason]),
    [...Array(5).fill(["mfa-verify", "not-enrolled"]), ["mfa-lockout", "5 consecutive failures"], ["mfa-verify", "locked"]],
  );
});

t.test("lockout after 5 failures, back-off doubling to the cap; success resets", async (t) => {
  const s = setup({ lockoutPolicy: { maxFailures: 5, baseLockMs: 60_000, maxLockMs: 240_000 } });
  for (let i = 1; i <= 4; i++) t.same(await s.verifier.verify("alice", "000000"), { valid: false, reason: "invalid" }, `failure ${i}`);
  t.same(await s.verifier.verify("alice", "000000"), { valid: false, reason: "invalid", retryAfterMs: 60_000 }, "the fifth starts a lock");
  const lockEvent = s.events.at(-1)!;
  t.same(lockEvent.event.action, "mfa-lockout");
  t.same(lockEvent.swarm, { mfa: { failures: 5, locked_until: "2026-01-01T00:01:10.000Z", retry_after_ms: 60_000 } });

  s.advance(10_000);
  t.same(await s.verifier.verify("alice", s.code()), { valid: false, reason: "locked", retryAfterMs: 50_000 }, "locked: even a valid code is refused");
  s.advance(50_000);
  t.same(await s.verifier.verify("alice", "000000"), { valid: false, reason: "invalid", retryAfterMs: 120_000 }, "one more failure after the lock: twice as long");
  s.advance(120_000);
  t.same(await s.verifier.verify("alice", "000000"), { valid: false, reason: "invalid", retryAfterMs: 240_000 });
  s.advance(240_000);
  t.same(await s.verifier.verify("alice", "000000"), { valid: false, reason: "invalid", retryAfterMs: 240_000 }, "capped");
  s.advance(240_000);
  t.equal((await s.verifier.verify("alice", s.code())).valid, true, "after the lock a valid code works");
  t.same(await s.verifier.verify("alice", "000000"), { valid: false, reason: "invalid" }, "and the counter started over");
  t.equal(s.events.filter((e) => e.event.action === "mfa-lockout").length, 4);
});

t.test("a clock set back does not stretch a lock past maxLockMs", async (t) => {
  const s = setup({ lockoutPolicy: { maxFailures: 5, baseLockMs: 60_000, maxLockMs: 240_000 } });
  for (let i = 0; i < 5; i++) await s.verifier.verify("alice", "000000");
  // The lock ends at T0 + 60 s by the clock that set it; the clock is then stepped back 30 days
  // (NTP after a boot with a wrong RTC, or a state file written by a machine whose clock ran ahead).
  s.at(T0 - 30 * 86_400_000);
  const back = await s.verifier.verify("alice", s.code());
  t.same(back, { valid: false, reason: "locked", retryAfterMs: 240_000 }, "still locked, for at most maxLockMs");
  s.advance(100_000);
  t.same(await s.verifier.verify("alice", s.code()), { valid: false, reason: "locked", retryAfterMs: 140_000 }, "the clamped lock runs on the new clock");
  s.advance(140_000);
  t.equal((await s.verifier.verify("alice", s.code())).valid, true, "and ends maxLockMs after the clock went back, not 30 days later");
});

t.test("parallel wrong guesses all count: the lock engages after maxFailures whatever the interleaving", async (t) => {
  const s = setup({ lockoutPolicy: { maxFailures: 5 } });
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => s.verifier.verify("alice", String(100000 + i))));
  t.equal(results.filter((r) => !r.valid && r.reason === "invalid").length, 5);
  t.equal(results.filter((r) => !r.valid && r.reason === "locked").length, 15);
  const code = s.code();
  const racing = await Promise.all([s.verifier.verify("bob", code), s.verifier.verify("bob", code), s.verifier.verify("bob", code)]);
  t.equal(racing.filter((r) => r.valid).length, 1, "one code, three racing attempts: exactly one success");
});

t.test("events: ECS shape, and never the code or the secret", async (t) => {
  const s = setup({ lockoutPolicy: { maxFailures: 2 } });
  const code = s.code();
  await s.verifier.verify("alice", code, { sourceIp: "198.51.100.7" });
  await s.verifier.verify("alice", code);
  await s.verifier.verify("alice", "999999");
  const first = s.events[0]!;
  t.same(first, {
    "@timestamp": "2026-01-01T00:00:10.000Z",
    event: { kind: "event", category: "authentication", action: "mfa-verify", outcome: "success", dataset: "swarm_policy.mfa", provider: "swarm-policy" },
    user: { name: "alice" },
    source: { ip: "198.51.100.7" },
  });
  const all = JSON.stringify(s.events);
  t.notMatch(all, new RegExp(code), "no code");
  t.notMatch(all, /999999/, "no wrong code");
  t.notMatch(all, new RegExp(SEED_B32), "no base32 secret");
  t.notMatch(all, /12345678901234567890/, "no raw secret");
  t.notMatch(all, new RegExp(Buffer.from(SEED).toString("base64")), "no base64 secret");
  t.notMatch(all, new RegExp(Buffer.from(SEED).toString("hex")), "no hex secret");
});

t.test("events: a failure names the source address as a success does", async (t) => {
  const s = setup();
  await s.verifier.verify("alice", "999999", { sourceIp: "198.51.100.7" });
  await s.verifier.verify("alice", "999999");
  t.match(s.events[0], { event: { outcome: "failure" }, source: { ip: "198.51.100.7" } });
  t.notOk("source" in s.events[1]!, "no address given, none written");
  const locking = setup({ lockoutPolicy: { maxFailures: 1 } });
  await locking.verifier.verify("alice", "999999", { sourceIp: "198.51.100.7" });
  t.match(locking.events, [{ event: { action: "mfa-verify", outcome: "failure" }, source: { ip: "198.51.100.7" } }, { event: { action: "mfa-lockout" }, source: { ip: "198.51.100.7" } }], "and so does the lock it starts");
});

t.test("the default replay store refuses a used code however many claims came since, and each secret is destroyed", async (t) => {
  // Enough verifications to make the store prune itself (every 1,024 claims): records still in a window stay.
  const handed: SecretKey[] = [];
  const anyone: TotpSecretSource = {
    async secretFor() {
      const secret = SecretKey.from(SEED);
      handed.push(secret);
      return { secret, totp: { algorithm: "sha1", digits: 6, period: 30 } };
    },
  };
  const s = setup({ secrets: anyone });
  const code = s.code();
  t.equal((await s.verifier.verify("alice", code)).valid, true);
  for (let i = 0; i < 1100; i++) await s.verifier.verify(`user${i}`, code);
  s.advance(20_000);
  t.same(await s.verifier.verify("alice", code), { valid: false, reason: "replay" });
  t.equal(handed.length, 1102);
  t.notOk(
    handed.some((k) => {
      try {
        k.exposeBytes();
        return true;
      } catch {
        return false;
      }
    }),
    "every secret handed out was destroyed",
  );
});

t.test("a store that fails makes verify reject: never a success", async (t) => {
  const broken: ReplayStore = { claim: async () => Promise.reject(new Error("replay store down")) };
  const s = setup({ replay: broken });
  await t.rejects(s.verifier.verify("alice", s.code()), /replay store down/);
  const brokenLock: LockoutStore = { get: async () => undefined, update: async () => Promise.reject(new Error("lockout store down")) };
  const s2 = setup({ lockout: brokenLock });
  await t.rejects(s2.verifier.verify("alice", s2.code()), /lockout store down/);
  const lazy: LockoutStore = { get: async () => undefined, update: async () => undefined }; // never calls `change`
  const s3 = setup({ lockout: lazy });
  await t.rejects(s3.verifier.verify("alice", s3.code()), /did not apply/);
  const all = [...s.events, ...s2.events, ...s3.events];
  t.ok(!all.some((e) => e.event.outcome === "success"));
  t.same(all.map((e) => [e.event.outcome, e.event.reason]), [["failure", "error"], ["failure", "error"], ["failure", "error"]], "each visible to a SIEM");
  const throwing: TotpSecretSource = { secretFor: async () => Promise.reject(new Error("not authentic")) };
  const s4 = setup({ secrets: throwing });
  await t.rejects(s4.verifier.verify("alice", "123456"), /not authentic/);
  t.same(s4.events.map((e) => e.event.reason), ["error"]);
});

t.test("the correlation engine sees a brute force in the verifier's events", async (t) => {
  const engine = compile(`package mfa
detect "mfa-brute-force" {
  severity high
  tags ["MITRE:T1110"]
  where event.category == "authentication" and event.action == "mfa-verify" and event.outcome == "failure"
  by user.name within 10m
  having count >= 5
}
detect "mfa-brute-force-then-success" {
  severity critical
  by user.name within 30m
  sequence {
    failures: event.category == "authentication" and event.outcome == "failure" count >= 5
    success: event.category == "authentication" and event.outcome == "success"
  }
}
detect "mfa-lockout" {
  severity medium
  where event.action == "mfa-lockout"
}
`);
  t.same(engine.diagnostics.filter((d) => d.severity === "error"), []);
  const detector = engine.detector();
  const s = setup({ onEvent: undefined, lockoutPolicy: { maxFailures: 5, baseLockMs: 60_000 } });
  const alerts: Array<{ rule: string; group: unknown; count: number }> = [];
  const verifier = new MfaVerifier({ secrets, clock: s.now, lockoutPolicy: { maxFailures: 5, baseLockMs: 60_000 }, onEvent: (e) => alerts.push(...detector.push(e)) });
  for (let i = 0; i < 6; i++) {
    await verifier.verify("alice", String(200000 + i));
    s.advance(5_000);
  }
  s.advance(60_000);
  t.equal((await verifier.verify("alice", s.code())).valid, true, "the attacker finally has a good code");
  alerts.push(...detector.flush());
  t.same(
    alerts.map((a) => [a.rule, a.group]).sort(),
    [
      ["mfa-brute-force", { "user.name": "alice" }],
      ["mfa-brute-force-then-success", { "user.name": "alice" }],
      ["mfa-lockout", {}],
    ],
  );
});

t.test("the shipped detect rules (policies/detect/authentication.policy) fire on the verifier's own events", async (t) => {
  const engine = compile(readFileSync(path.join(repoRoot, "policies/detect/authentication.policy"), "utf8"));
  t.same(engine.diagnostics.filter((d) => d.severity === "error"), []);
  const detector = engine.detector();
  const s = setup();
  const alerts: Array<{ rule: string; group: unknown }> = [];
  const verifier = new MfaVerifier({ secrets, clock: s.now, onEvent: (e) => alerts.push(...detector.push(e)) });
  for (let i = 0; i < 6; i++) {
    await verifier.verify("alice", String(200000 + i));
    s.advance(5_000);
  }
  alerts.push(...detector.flush());
  t.same(alerts.map((a) => [a.rule, a.group]).sort(), [
    ["mfa-lockout", {}],
    ["totp-guessing", { "user.name": "alice" }],
  ]);
});

t.test("verified_at from a success satisfies `require mfa within 15m`", async (t) => {
  const engine = compile(`package access
allow "ops-restart" {
  when action == "node.restart" and principal.roles contains "ops"
  require mfa within 15m
}
`);
  const request = (context: object, time: number) => ({
    principal: { id: "alice", roles: ["ops"] },
    action: "node.restart",
    resource: { type: "node" },
    context,
    time: new Date(time).toISOString(),
  });
  const before = engine.evaluateAccess(request({}, T0));
  t.equal(before.decision, "challenge");
  t.same(before.obligations, [{ mfa: { maxAge: "15m" } }]);

  const s = setup();
  const result = await s.verifier.verify("alice", s.code());
  if (!result.valid) throw new Error("expected a valid code");
  t.equal(engine.evaluateAccess(request({ ...result.context }, T0 + 5 * 60_000)).decision, "allow");
  t.equal(engine.evaluateAccess(request({ ...result.context }, T0 + 15 * 60_000)).decision, "allow", "at exactly 15m");
  t.equal(engine.evaluateAccess(request({ ...result.context }, T0 + 16 * 60_000)).decision, "challenge", "too old: challenge again");
});
