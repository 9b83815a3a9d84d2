/**
 * Secrets at rest: sealed by the keyring and bound to the user, 0600,
 * re-enrolment only with force, a file swapped to another user or tampered
 * with refuses to open, the secret never in the file or in any error, and
 * a keyring-backed verifier end to end.
 */
import t, { type Test } from "tap";
import { createHash } from "node:crypto";
import { copyFile, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { Keyring } from "../../../src/runtime/crypto/keyring.js";
import { ENROLLMENTS_LOCK, KeyringEnrollments, MfaEnrollmentError, TOTP_SECRET_BYTES, checkUserName } from "../../../src/runtime/mfa/enrollments.js";
import type { MfaEvent } from "../../../src/runtime/mfa/events.js";
import { MfaVerifier } from "../../../src/runtime/mfa/mfa-verifier.js";
import { toBase32 } from "../../../src/runtime/mfa/otpauth.js";
import { totpCode } from "../../../src/runtime/mfa/totp.js";

async function ring(t: Test): Promise<Keyring> {
  const r = await Keyring.create(path.join(t.testdir(), "ring"));
  t.teardown(() => r.close());
  return r;
}

/** Every textual form the secret could leak in. */
function forms(secret: Uint8Array): string[] {
  const b = Buffer.from(secret);
  return [toBase32(secret), b.toString("base64"), b.toString("hex"), b.toString("base64url")];
}

t.test("enroll seals a fresh 160-bit secret bound to the user; secretFor opens it", async (t) => {
  const r = await ring(t);
  const events: MfaEvent[] = [];
  const e = new KeyringEnrollments(r, { onEvent: (x) => events.push(x) });
  const { secret, enrollment, replaced } = await e.enroll("alice", { now: Date.parse("2026-01-01T00:00:00Z") });
  t.equal(secret.length, TOTP_SECRET_BYTES);
  t.equal(replaced, false);
  t.same(enrollment, { user: "alice", createdAt: "2026-01-01T00:00:00.000Z", totp: { digits: 6, period: 30, algorithm: "sha1" } });
  const bytes = Uint8Array.from(secret.exposeBytes());
  const loaded = await e.secretFor("alice");
  t.ok(loaded);
  t.ok(Buffer.from(loaded!.secret.exposeBytes()).equals(Buffer.from(bytes)), "the same secret comes back");
  t.same(loaded!.totp, { algorithm: "sha1", digits: 6, period: 30 });
  t.equal(await e.secretFor("bob"), null, "bob is not enrolled");
  t.equal(await e.secretFor("bad\nname"), null);

  const files = await readdir(e.dir);
  t.equal(files.length, 1);
  t.match(files[0], /^[0-9a-f]{64}\.json$/, "the file is named by a hash of the user name");
  const file = path.join(e.dir, files[0]!);
  t.equal((await stat(file)).mode & 0o777, 0o600);
  const text = await readFile(file, "utf8");
  for (const f of forms(bytes)) t.notOk(text.includes(f), "no form of the secret in the file");
  t.same(JSON.stringify(secret), '"SecretKey(<redacted>)"');
  t.same(events.map((x) => [x.event.action, x.event.category, x.event.type]), [["mfa-enroll", "iam", ["creation"]]]);
  t.notOk(JSON.stringify(events).includes(forms(bytes)[0]!));

  const second = await new KeyringEnrollments(r).enroll("bob");
  t.notOk(Buffer.from(second.secret.exposeBytes()).equals(Buffer.from(bytes)), "every secret is fresh");
});

t.test("re-enrolling needs force; force replaces the secret", async (t) => {
  const r = await ring(t);
  const e = new KeyringEnrollments(r);
  const first = Uint8Array.from((await e.enroll("alice")).secret.exposeBytes());
  await t.rejects(e.enroll("alice"), { name: "MfaEnrollmentError", code: "enrolled", message: /alice is already enrolled/ });
  const again = await e.enroll("alice", { force: true });
  t.equal(again.replaced, true);
  t.notOk(Buffer.from(again.secret.exposeBytes()).equals(Buffer.from(first)));
  const loaded = await e.secretFor("alice");
  t.ok(Buffer.from(loaded!.secret.exposeBytes()).equals(Buffer.from(again.secret.exposeBytes())));
  // Concurrent first enrolments: one wins, the other is told.
  const results = await Promise.allSettled([e.enroll("carol"), e.enroll("carol")]);
  t.equal(results.filter((x) => x.status === "fulfilled").length, 1);
  const rejected = results.find((x) => x.status === "rejected") as PromiseRejectedResult;
  t.equal((rejected.reason as MfaEnrollmentError).code, "enrolled");
});

t.test("a file moved to another user, edited, or damaged never opens as a secret", async (t) => {
  const r = await ring(t);
  const e = new KeyringEnrollments(r);
  await e.enroll("alice");
  await e.enroll("bob");
  const [aliceFile, bobFile] = ["alice", "bob"].map((u) => path.join(e.dir, `${createHash("sha256").update(u).digest("hex")}.json`)) as [string, string];

  await copyFile(aliceFile, bobFile);
  await t.rejects(e.secretFor("bob"), { name: "MfaEnrollmentError", code: "malformed", message: /belongs to another user/ });

  const doc = JSON.parse(await readFile(aliceFile, "utf8"));
  await writeFile(bobFile, JSON.stringify({ ...doc, user: "bob" }), { mode: 0o600 });
  await t.rejects(e.secretFor("bob"), { name: "EnvelopeError" }, "the sealed secret is bound to alice: relabelling the file does not help");

  const sealed = Buffer.from(doc.sealed, "base64");
  sealed[sealed.length - 1]! ^= 1;
  await writeFile(aliceFile, JSON.stringify({ ...doc, sealed: sealed.toString("base64") }), { mode: 0o600 });
  await t.rejects(e.secretFor("alice"), { name: "EnvelopeError" }, "a flipped bit");

  for (const [what, body] of [
    ["not JSON", "{"],
    ["another format", JSON.stringify({ ...doc, format: "x" })],
    ["9 digits", JSON.stringify({ ...doc, digits: 9 })],
    ["period 0", JSON.stringify({ ...doc, period: 0 })],
    ["md5", JSON.stringify({ ...doc, algorithm: "md5" })],
  ] as const) {
    await writeFile(aliceFile, body, { mode: 0o600 });
    await t.rejects(e.secretFor("alice"), { name: "MfaEnrollmentError", code: "malformed" }, what);
  }
  await writeFile(aliceFile, "{", { mode: 0o600 });
  await t.rejects(e.enroll("alice"), { name: "MfaEnrollmentError", code: "malformed" }, "a damaged file is not silently replaced");
  t.equal((await e.enroll("alice", { force: true })).replaced, true, "but force replaces it");
});

t.test("the TOTP settings are sealed with the secret: editing them (8 digits down to 6, a longer period) refuses to open", async (t) => {
  const r = await ring(t);
  const e = new KeyringEnrollments(r);
  await e.enroll("alice", { totp: { digits: 8, algorithm: "sha256", period: 30 } });
  const file = path.join(e.dir, `${createHash("sha256").update("alice").digest("hex")}.json`);
  const doc = JSON.parse(await readFile(file, "utf8"));
  t.same((await e.secretFor("alice"))?.totp, { algorithm: "sha256", digits: 8, period: 30 });
  for (const edit of [{ digits: 6 }, { period: 300 }, { algorithm: "sha1" }, { version: 1 }]) {
    await writeFile(file, JSON.stringify({ ...doc, ...edit }), { mode: 0o600 });
    await t.rejects(e.secretFor("alice"), { name: "EnvelopeError" }, JSON.stringify(edit));
  }
});

t.test("a version 1 file (sealed to the user only) still opens, verifies and reseals", async (t) => {
  const r = await ring(t);
  const e = new KeyringEnrollments(r);
  const seed = new TextEncoder().encode("12345678901234567890");
  const doc = { format: "swarm-policy-mfa-secret", version: 1, user: "alice", created_at: "2026-01-01T00:00:00.000Z", algorithm: "sha1", digits: 6, period: 30 };
  const sealed = Buffer.from(await r.sealSecret(seed, "mfa:alice")).toString("base64");
  const file = path.join(e.dir, `${createHash("sha256").update("alice").digest("hex")}.json`);
  await mkdir(e.dir, { recursive: true, mode: 0o700 });
  await writeFile(file, JSON.stringify({ ...doc, sealed }), { mode: 0o600 });
  const now = Date.parse("2026-01-01T00:00:00Z");
  t.equal((await new MfaVerifier({ secrets: e, clock: () => now }).verify("alice", totpCode(seed, now / 1000))).valid, true);
  await r.rotate();
  t.match(await e.reseal(), [{ user: "alice", status: "resealed" }]);
  t.equal(JSON.parse(await readFile(file, "utf8")).version, 1, "resealing keeps the version (and its context)");
  t.ok(Buffer.from((await e.secretFor("alice"))!.secret.exposeBytes()).equals(Buffer.from(seed)));
});

t.test("user names and TOTP settings are checked", async (t) => {
  for (const [user, ok] of [
    ["alice", true],
    ["alice@example.com", true],
    ["Ünïcödé user", true],
    ["a".repeat(256), true],
    ["", false],
    ["a".repeat(257), false],
    ["tab\tname", false],
    ["new\nline", false],
    ["del\u007f", false],
    ["csi\u009b", false],
    ["ls\u2028", false],
    ["emoji \ud83d\ude00", true],
    ["lone high \ud83d", false],
    ["lone low \ude00", false],
    ["\ude00\ud83d", false],
    [42, false],
    [null, false],
  ] as const) {
    // Escape every non-ASCII character in the name: a raw U+2028 would break the TAP stream itself.
    const label = String(JSON.stringify(user)).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
    t.equal(checkUserName(user) !== null, ok, label);
  }
  const r = await ring(t);
  const e = new KeyringEnrollments(r);
  await t.rejects(e.enroll("bad\nuser"), { code: "bad-user" });
  await t.rejects(e.enroll("alice", { totp: { digits: 5 as 6 } }), RangeError);
  await t.rejects(e.enroll("alice", { totp: { period: 0 } }), RangeError);
  t.same(await readdir(path.join(r.dir)).then((n) => n.includes("mfa")), false, "nothing written for a refused enrolment");
});

t.test("names that are not valid Unicode are refused: as UTF-8 they would share one secret file", async (t) => {
  const r = await ring(t);
  const e = new KeyringEnrollments(r);
  // A lone surrogate encodes as U+FFFD: "x\ud800", "x\udc00" and "x\ufffd" would hash to one file name.
  await t.rejects(e.enroll("x\ud800"), { code: "bad-user" });
  await e.enroll("x\ufffd");
  t.equal(await e.isEnrolled("x\ufffd"), true);
  const verifier = new MfaVerifier({ secrets: e });
  t.same(await verifier.verify("x\udc00", "123456"), { valid: false, reason: "invalid" }, "not an error about x\ufffd's file");
});

t.test("end to end: enroll in a keyring, verify through MfaVerifier", async (t) => {
  const r = await ring(t);
  const e = new KeyringEnrollments(r);
  const { secret } = await e.enroll("alice", { totp: { digits: 8, algorithm: "sha256", period: 60 } });
  const now = Date.parse("2026-01-01T00:00:00Z");
  const verifier = new MfaVerifier({ secrets: e, clock: () => now });
  const code = totpCode(secret, now / 1000, { digits: 8, algorithm: "sha256", period: 60 });
  t.equal((await verifier.verify("alice", code)).valid, true);
  t.same(await verifier.verify("alice", code), { valid: false, reason: "replay" });
  t.same(await verifier.verify("alice", code.slice(0, 6)), { valid: false, reason: "invalid" }, "a 6-digit code for an 8-digit enrolment");
});

t.test("rotate, reseal, retire: every secret moves to the new primary and still verifies", async (t) => {
  const r = await ring(t);
  const e = new KeyringEnrollments(r);
  const alice = Uint8Array.from((await e.enroll("alice")).secret.exposeBytes());
  const bob = Uint8Array.from((await e.enroll("bob")).secret.exposeBytes());
  t.same((await e.list()).map((x) => [x.user, x.kek.version]).sort(), [["alice", 1], ["bob", 1]]);
  t.same((await e.reseal()).map((x) => x.status), ["current", "current"], "nothing to do before a rotation");

  await r.rotate();
  const carol = Uint8Array.from((await e.enroll("carol")).secret.exposeBytes());
  const before = new Map(await Promise.all((await readdir(e.dir)).map(async (f) => [f, await readFile(path.join(e.dir, f), "utf8")] as const)));
  const results = await e.reseal();
  t.same(
    results.map((x) => [x.user, x.status, x.from?.version, x.to?.version]).sort(),
    [["alice", "resealed", 1, 2], ["bob", "resealed", 1, 2], ["carol", "current", 2, 2]],
  );
  t.same((await e.list()).map((x) => x.kek.version), [2, 2, 2]);
  for (const [f, old] of before) {
    const now = await readFile(path.join(e.dir, f), "utf8");
    const [a, b] = [JSON.parse(old), JSON.parse(now)];
    t.same({ ...a, sealed: "" }, { ...b, sealed: "" }, "only the sealed secret changes");
    t.equal((await stat(path.join(e.dir, f))).mode & 0o777, 0o600);
    for (const s of [alice, bob, carol]) for (const form of forms(s)) t.notOk(now.includes(form), "no secret in clear");
  }

  await r.retire("kek", 1);
  const reopened = await Keyring.open(r.dir);
  t.teardown(() => reopened.close());
  const now = Date.parse("2026-01-01T00:00:00Z");
  const verifier = new MfaVerifier({ secrets: new KeyringEnrollments(reopened), clock: () => now });
  for (const [user, secret] of [["alice", alice], ["bob", bob], ["carol", carol]] as const) {
    t.equal((await verifier.verify(user, totpCode(secret, now / 1000))).valid, true, `${user} still verifies after version 1 is retired`);
  }
});

t.test("reseal: a secret that cannot be opened is reported and left as it is; the others move", async (t) => {
  const r = await ring(t);
  const e = new KeyringEnrollments(r);
  await e.enroll("alice");
  await e.enroll("bob");
  await r.rotate();
  const bobFile = path.join(e.dir, `${createHash("sha256").update("bob").digest("hex")}.json`);
  const doc = JSON.parse(await readFile(bobFile, "utf8"));
  const sealed = Buffer.from(doc.sealed, "base64");
  sealed[sealed.length - 1]! ^= 1;
  const tampered = JSON.stringify({ ...doc, sealed: sealed.toString("base64") });
  await writeFile(bobFile, tampered, { mode: 0o600 });
  const results = await e.reseal();
  const byUser = Object.fromEntries(results.map((x) => [x.user, x]));
  t.match(byUser["alice"], { status: "resealed" });
  t.match(byUser["bob"], { status: "error", error: /not authentic/ });
  t.equal(await readFile(bobFile, "utf8"), tampered, "left unchanged");
  await writeFile(bobFile, "{", { mode: 0o600 });
  await t.rejects(e.list(), { name: "MfaEnrollmentError", code: "malformed" }, "list never answers on partial knowledge");
});

t.test("enrolling and resealing take the enrolment lock", async (t) => {
  const r = await ring(t);
  await new KeyringEnrollments(r).enroll("alice");
  await r.rotate();
  const lock = path.join(r.dir, "mfa", ENROLLMENTS_LOCK);
  await writeFile(lock, `${process.pid} held-by-test\n`, { mode: 0o600 }); // a live owner: never taken over
  const e = new KeyringEnrollments(r, { lock: { timeoutMs: 150 } });
  t.match(await e.reseal(), [{ user: "alice", status: "error", error: /locked by another process/ }], "reseal waits, then gives up");
  await t.rejects(e.enroll("bob"), { name: "MfaEnrollmentError", code: "busy" });
  t.same((await e.list()).map((x) => x.kek.version), [1], "nothing written while the lock was held");
  await rm(lock);
  t.match(await e.reseal(), [{ user: "alice", status: "resealed" }]);
});

t.test("a secret file that is a FIFO or a symbolic link is refused without hanging", async (t) => {
  t.setTimeout(20_000); // a FIFO opened blocking would hang here
  const r = await ring(t);
  const e = new KeyringEnrollments(r);
  await e.enroll("alice");
  const file = (u: string) => path.join(e.dir, `${createHash("sha256").update(u).digest("hex")}.json`);
  execFileSync("mkfifo", ["-m", "600", file("bob")]);
  await t.rejects(e.isEnrolled("bob"), { name: "MfaEnrollmentError", code: "malformed", message: /is not a regular file/ });
  await symlink(file("alice"), file("carol"));
  await t.rejects(e.secretFor("carol"), { name: "MfaEnrollmentError", code: "malformed", message: /is a symbolic link/ });
});

/**
 * A keyring opened once, as `serve --keyring` opens it at start, with alice enrolled, and a second
 * Keyring on the same directory standing for other processes (`keys rotate`, `mfa rewrap`, `keys retire`).
 */
async function servedAndOther(t: Test): Promise<{ served: Keyring; servedEnrollments: KeyringEnrollments; cli: Keyring }> {
  const dir = path.join(t.testdir(), "ring");
  const served = await Keyring.create(dir);
  t.teardown(() => served.close());
  const servedEnrollments = new KeyringEnrollments(served);
  await servedEnrollments.enroll("alice");
  const cli = await Keyring.open(dir);
  t.teardown(() => cli.close());
  return { served, servedEnrollments, cli };
}

t.test("another process's rotate and rewrap: a keyring opened before them opens the resealed secret", async (t) => {
  const { servedEnrollments, cli } = await servedAndOther(t);
  await cli.rotate();
  t.same((await new KeyringEnrollments(cli).reseal()).map((r) => r.status), ["resealed"]);
  // The secret is now sealed under version 2, which the server never loaded: it still opens.
  const after = await servedEnrollments.secretFor("alice");
  t.ok(after, "alice still verifies at a server started before the rotation");
  after?.secret.destroy();
});

t.test("a version retired by another process no longer opens at a keyring opened before", async (t) => {
  const { served, servedEnrollments, cli } = await servedAndOther(t);
  await cli.rotate();
  await cli.retire("kek", 1); // `keys retire --force`: alice must re-enrol, docs/mfa.md
  await t.rejects(servedEnrollments.secretFor("alice"), { name: "KeyringError", code: "retired" }, "the erased key is not used from memory");
  t.equal(served.list().find((k) => k.version === 1)?.status, "retired");
});

t.test("enroll by a process that opened the keyring before a rotate and retire seals under the current primary", async (t) => {
  const dir = path.join(t.testdir(), "ring");
  const early = await Keyring.create(dir); // `mfa enroll` started (keyring opened, passphrase typed)...
  t.teardown(() => early.close());
  const other = await Keyring.open(dir); // ...while `keys rotate` and `keys retire 1` ran
  t.teardown(() => other.close());
  await other.rotate();
  await other.retire("kek", 1);
  await new KeyringEnrollments(early).enroll("bob");
  const fresh = await Keyring.open(dir);
  t.teardown(() => fresh.close());
  const [listed] = await new KeyringEnrollments(fresh).list();
  t.same(listed?.kek, { id: "kek", version: 2 }, "not sealed under the retired version 1");
  const opened = await new KeyringEnrollments(fresh).secretFor("bob");
  t.ok(opened, "bob can verify");
  opened?.secret.destroy();
});
