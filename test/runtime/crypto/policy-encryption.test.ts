/**
 * Encryption driven by policy: what `evaluate({ kind: "encryption" })`
 * requires is applied or refused, never weakened. PHI without its AAD fields,
 * an over-age KEK, `require tee` without attestation and a decision with
 * errors are refusals before any output; the repository's own policies are
 * used where they say what is needed.
 */
import t from "tap";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { compile, loadPolicies } from "../../../src/engine.js";
import { Keyring } from "../../../src/runtime/crypto/keyring.js";
import { MemoryKekUsage } from "../../../src/runtime/crypto/kek-usage.js";
import { encryptByPolicy, planEncryption, PolicyRefusal } from "../../../src/runtime/crypto/policy-encryption.js";
import { collectBytes, openStream } from "../../../src/runtime/crypto/stream.js";
import type { AttestationProvider } from "../../../src/runtime/crypto/attestation.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const DAY = 86_400_000;
const ATTESTED: AttestationProvider = { name: "test-tee", attest: () => ({ attested: true, provider: "test-tee", detail: "measurement ok" }) };
const text = (s: string) => new TextEncoder().encode(s);

async function refusal(p: Promise<unknown>): Promise<PolicyRefusal> {
  try {
    await p;
  } catch (e) {
    if (e instanceof PolicyRefusal) return e;
    throw e;
  }
  throw new Error("expected a refusal");
}

// The repository's own policies/ (all of it, as `encrypt policies/` reads it), schema included.
const shippedPolicies = () => loadPolicies(path.join(repoRoot, "policies"));

t.test("phi, confidential, public and model weights (the shipped policies)", async (t) => {
  const engine = await shippedPolicies();
  t.equal(engine.diagnostics.filter((d) => d.severity === "error").length, 0);
  const ring = await Keyring.create(path.join(t.testdir({}), "ring"));
  const phi = { classification: "phi", tenant_id: "acme", record_id: "r-1" };

  const missing = await refusal(planEncryption(engine, { classification: "phi", tenant_id: "acme" }, ring, { attestation: ATTESTED }));
  t.equal(missing.code, "missing-aad");
  t.equal(missing.message, "swarm.encryption/phi, swarm.encryption/default require AAD fields tenant_id, record_id; missing from the attributes: record_id");
  t.ok(missing.rules.includes("swarm.encryption/phi"));

  const noTee = await refusal(planEncryption(engine, phi, ring));
  t.equal(noTee.code, "not-attested", "phi requires a TEE; the default provider attests nothing");
  t.match(noTee.message, /require a TEE, and this environment is not attested \(provider "none": no attestation provider is configured\)/);

  const plan = await planEncryption(engine, phi, ring, { attestation: ATTESTED });
  t.match(plan, { cipher: "aes-256-gcm", aadFields: ["tenant_id", "record_id"], teeRequired: true, maxKeyAge: "90d", attestation: { attested: true } });

  const conf = await planEncryption(engine, { classification: "confidential", tenant_id: "acme" }, ring);
  t.match(conf, { teeRequired: false, aadFields: ["tenant_id"], maxKeyAge: "180d" });
  t.equal((await refusal(planEncryption(engine, { classification: "public" }, ring))).code, "missing-aad", "public data is still bound to its tenant");
  t.equal((await refusal(planEncryption(engine, { type: "model", tenant_id: "acme", classification: "internal" }, ring))).code, "not-attested");
});

t.test("PHI through the shipped policies: record_id is in the schema, bound, and checked on decrypt", async (t) => {
  const engine = await shippedPolicies();
  const ring = await Keyring.create(path.join(t.testdir({}), "ring"));
  for (const record_id of ["r-2026-0042", 42]) {
    const phi = { classification: "phi", tenant_id: "acme", record_id };
    let plan;
    const sealed = await collectBytes(encryptByPolicy([text("scan "), text("bytes")], phi, { policy: engine, keyring: ring, attestation: ATTESTED, onPlan: (p) => (plan = p) }));
    t.match(plan, { cipher: "aes-256-gcm", aadFields: ["tenant_id", "record_id"], teeRequired: true, maxKeyAge: "90d" });
    let header;
    const opened = await collectBytes(openStream([sealed], { resolveKek: ring.resolveKek, attributes: phi, attestation: ATTESTED, onHeader: (h) => (header = h) }));
    t.same(opened, text("scan bytes"), `record_id ${JSON.stringify(record_id)}: decrypts`);
    t.same(header!.aad, [["record_id", record_id], ["tenant_id", "acme"]]);
    await t.rejects(collectBytes(openStream([sealed], { resolveKek: ring.resolveKek, attributes: { ...phi, record_id: "r-other" }, attestation: ATTESTED })), { code: "aad-mismatch" });
  }
  const pii = await planEncryption(engine, { classification: "pii", tenant_id: "acme", record_id: "u-7" }, ring, { attestation: ATTESTED });
  t.same(pii.aadFields, ["tenant_id", "record_id"]);
  const backup = await planEncryption(engine, { type: "backup", classification: "confidential", tenant_id: "acme", record_id: "b-1" }, ring);
  t.same([...backup.aadFields].sort(), ["record_id", "tenant_id"]);
  const bad = await refusal(planEncryption(engine, { classification: "phi", tenant_id: "acme", record_id: true }, ring, { attestation: ATTESTED }));
  t.equal(bad.code, "policy-errors", "a record_id that is neither a string nor an integer is a schema violation");
  t.match(bad.message, /does not match the encryption schema/);
});

t.test("the repository's policies: an input the schema rejects is refused, not guessed at", async (t) => {
  const engine = await loadPolicies(path.join(repoRoot, "policies/encryption"));
  const ring = await Keyring.create(path.join(t.testdir({}), "ring"));
  const err = await refusal(planEncryption(engine, { classification: "secret-ish", tenant_id: "a" }, ring));
  t.equal(err.code, "policy-errors");
  t.match(err.message, /does not match the encryption schema/);
  t.match(await planEncryption(engine, { classification: "confidential", tenant_id: "acme" }, ring), { aadFields: ["tenant_id"], maxKeyAge: "180d" });
  // Two integer ids beyond 2^53 could round to one value and bind the same AAD: the schema sends them as strings.
  // (A test block in policies/ cannot say this: a policy literal past 2^53 - 1 is SP1004.)
  const big = JSON.parse('{"classification":"pii","tenant_id":"t-acme","record_id":9007199254740993}') as Record<string, unknown>;
  const bigErr = await refusal(planEncryption(engine, big, ring, { attestation: ATTESTED }));
  t.equal(bigErr.code, "policy-errors");
  t.match(bigErr.message, /does not match the encryption schema/);
});

t.test("an over-age primary KEK is refused until rotated", async (t) => {
  const engine = compile('package p\nencryption "phi" {\n  when data.classification == "phi"\n  require cipher "aes-256-gcm"\n  require key_age within 90d\n}\n');
  const dir = path.join(t.testdir({}), "ring");
  await Keyring.create(dir, { clock: () => Date.now() - 91 * DAY });
  const ring = await Keyring.open(dir);
  const err = await refusal(planEncryption(engine, { classification: "phi" }, ring));
  t.equal(err.code, "key-age");
  t.match(err.message, /^primary KEK "kek" version 1 is 91d\S* old; p\/phi require key_age within 90d: rotate it/);
  t.match(await planEncryption(engine, { classification: "other" }, ring), { maxKeyAge: null }, "data without the limit is not affected");
  t.match(await planEncryption(engine, { classification: "phi" }, ring, { now: Date.now() - 2 * DAY }), { maxKeyAge: "90d" }, "at an earlier time it was within the limit");
  await ring.rotate();
  t.match(await planEncryption(engine, { classification: "phi" }, ring), { kek: { version: 2 } }, "after rotation the new primary is used");
});

t.test("a primary KEK dated in the future has no known age: refused where key_age is limited", async (t) => {
  const engine = compile('package p\nencryption "phi" {\n  when data.classification == "phi"\n  require cipher "aes-256-gcm"\n  require key_age within 90d\n}\n');
  const dir = path.join(t.testdir({}), "ring");
  const created = Date.parse("2099-01-01T00:00:00Z");
  await Keyring.create(dir, { clock: () => created });
  const ring = await Keyring.open(dir);
  const err = await refusal(planEncryption(engine, { classification: "phi" }, ring, { now: Date.parse("2026-03-01T00:00:00Z") }));
  t.equal(err.code, "key-age");
  t.match(err.message, /^primary KEK "kek" version 1 was created at 2099-01-01T00:00:00.000Z, after now \(2026-03-01T00:00:00.000Z\): its age is unknown; p\/phi require key_age within 90d/);
  t.match(await planEncryption(engine, { classification: "phi" }, ring, { now: created - 60_000 }), { maxKeyAge: "90d" }, "within the clock skew allowed: a brand-new key");
  t.match(await planEncryption(engine, { classification: "other" }, ring, { now: Date.parse("2026-03-01T00:00:00Z") }), { maxKeyAge: null }, "no limit, nothing to check");
});

t.test("`now` that is not a time is refused, never an age check that passes", async (t) => {
  const engine = compile('package p\nencryption "phi" {\n  require cipher "aes-256-gcm"\n  require key_age within 90d\n}\n');
  const ring = await Keyring.create(path.join(t.testdir({}), "ring"), { clock: () => Date.now() - 400 * DAY });
  await t.rejects(planEncryption(engine, {}, ring, { now: Number.NaN }), RangeError);
  await t.rejects(planEncryption(engine, {}, ring, { now: Number.POSITIVE_INFINITY }), RangeError);
  t.equal((await refusal(planEncryption(engine, {}, ring))).code, "key-age", "the default clock: 400 days old");
});

t.test("`now` is the instant of the whole decision: the policies' `now` and the key-age check agree", async (t) => {
  // A requirement that depends on the time: the decision must be taken at the same `now` as the key check.
  const engine = compile('package p\nencryption "embargo" {\n  when now < "2000-01-01T00:00:00Z"\n  require cipher "aes-256-gcm"\n  require tee\n}\n');
  const ring = await Keyring.create(path.join(t.testdir({}), "ring"), { clock: () => Date.parse("1999-01-01T00:00:00Z") });
  const err = await refusal(planEncryption(engine, {}, ring, { now: Date.parse("1999-06-01T00:00:00Z") }));
  t.equal(err.code, "not-attested", "in 1999 the embargo rule applies");
  t.match(await planEncryption(engine, {}, ring, { now: Date.parse("2001-01-01T00:00:00Z") }), { teeRequired: false, rules: [] });
});

t.test("the cipher the policy names is the cipher used", async (t) => {
  const engine = compile('package p\nencryption "siv" {\n  require cipher "aes-256-gcm-siv"\n  require aad ["tenant_id"]\n}\n');
  const ring = await Keyring.create(path.join(t.testdir({}), "ring"));
  let header;
  const sealed = await collectBytes(encryptByPolicy([text("weights")], { tenant_id: "acme" }, { policy: engine, keyring: ring }));
  const opened = await collectBytes(openStream([sealed], { resolveKek: ring.resolveKek, attributes: { tenant_id: "acme" }, onHeader: (h) => (header = h) }));
  t.same(opened, text("weights"));
  t.match(header, { cipher: "aes-256-gcm-siv", teeRequired: false, aad: [["tenant_id", "acme"]] });
  const unknown = compile('package p\nencryption "x" {\n  require cipher "chacha20-poly1305"\n}\n');
  const err = await refusal(planEncryption(unknown, {}, ring));
  t.ok(err.code === "unsupported-cipher" || err.code === "policy-errors", `refused: ${err.message}`);
});

t.test("require tee: accepted with an attesting provider, recorded, enforced on decrypt", async (t) => {
  const engine = compile('package p\nencryption "tee" {\n  require cipher "aes-256-gcm"\n  require tee\n}\n');
  const ring = await Keyring.create(path.join(t.testdir({}), "ring"));
  const usage = new MemoryKekUsage();
  const refused = encryptByPolicy([text("x")], {}, { policy: engine, keyring: ring, usage });
  const err = await t.rejects(refused.next());
  t.equal(usage.count("kek", 1), 0, "nothing wrapped for a refused request");
  t.ok(err);
  const sealed = await collectBytes(encryptByPolicy([text("secret")], {}, { policy: engine, keyring: ring, attestation: ATTESTED }));
  await t.rejects(collectBytes(openStream([sealed], { resolveKek: ring.resolveKek })), { code: "not-attested" });
  t.same(await collectBytes(openStream([sealed], { resolveKek: ring.resolveKek, attestation: ATTESTED })), text("secret"));
});

t.test("decisions with errors and data no rule covers", async (t) => {
  const ring = await Keyring.create(path.join(t.testdir({}), "ring"));
  const conflict = compile('package p\nencryption "a" {\n  require cipher "aes-256-gcm"\n}\nencryption "b" {\n  require cipher "aes-256-gcm-siv"\n}\n');
  t.equal((await refusal(planEncryption(conflict, {}, ring))).code, "policy-errors", "two ciphers: a conflict, refused");
  const broken = compile('encryption "x" {\n  when data.level >\n}\n');
  t.equal((await refusal(planEncryption(broken, {}, ring))).code, "policy-errors", "a broken policy set fails closed");
  const erroring = compile('package p\nencryption "x" {\n  when data.level > 3\n  require aad ["tenant_id"]\n}\n');
  t.equal((await refusal(planEncryption(erroring, { level: "high" }, ring))).code, "policy-errors", "a rule that errors refuses");
  const none = compile('package p\nencryption "phi" {\n  when data.classification == "phi"\n  require tee\n}\n');
  t.match(await planEncryption(none, { classification: "public" }, ring), { cipher: "aes-256-gcm", aadFields: [], teeRequired: false }, "still AES-256-GCM");
  const bad = compile('package p\nencryption "x" {\n  require aad ["tenant_id"]\n}\n');
  t.equal((await refusal(planEncryption(bad, { tenant_id: { nested: 1 } }, ring))).code, "bad-aad-value");
});
