/**
 * Keyrings, streams and version-1 envelopes written by earlier versions (test/fixtures/compat/)
 * are read by this one: every protection decrypts its stream, a stream that requires a TEE still
 * opens only in one, an envelope opens only with the attributes it binds, and an old keyring goes
 * through the documented rotation (keys rotate, rewrap, mfa rewrap, keys retire) with nothing
 * lost and no wrap counted twice or forgotten.
 */
import t from "tap";
import path from "node:path";
import { existsSync, readFileSync } from "node:fs";
import { run } from "../cli/run.js";
import { EnvelopeError, Keyring, KeyringEnrollments, SecretKey, collectBytes, openEnvelope, openStream, type AttestationProvider } from "../../src/index.js";
import { COMPAT_DIR, OLD_VERSIONS, UNLOCK_KEY, oldFiles } from "./old-files.js";

const env = { SWARM_POLICY_KEYRING_KEY: UNLOCK_KEY };
const usage = (dir: string): Record<string, number> | null =>
  existsSync(path.join(dir, "ring", "usage.json")) ? (JSON.parse(readFileSync(path.join(dir, "ring", "usage.json"), "utf8")) as { reserved: Record<string, number> }).reserved : null;

t.test("2026-11-25-f7f9531: version-1 envelopes binding every kind of value open with those values", async (t) => {
  // The oldest envelopes (no keyring yet): a change in how values are bound would lock them out.
  const key = SecretKey.from(Uint8Array.from({ length: 32 }, (_, i) => i));
  const resolveKek = (id: string, version: number) => (id === "k1" && version === 3 ? key : undefined);
  const attributes = { tenant: "acme", n: 42, f: -1.5, t: true, s: "Zoë ✓ 𝔸", e: "", z: 0 };
  for (const cipher of ["aes-256-gcm", "aes-256-gcm-siv"]) {
    const sealed = readFileSync(path.join(COMPAT_DIR, "2026-11-25-f7f9531", `envelope-${cipher}.bin`));
    t.equal(new TextDecoder().decode(openEnvelope(sealed, { resolveKek, attributes })), `payload ${cipher}`);
    for (const [field, other] of [["n", "42"], ["t", "true"], ["s", "Zoë ✓ 𝔸".normalize("NFD")], ["z", -0.5]] as const) {
      t.throws(() => openEnvelope(sealed, { resolveKek, attributes: { ...attributes, [field]: other } }), { code: "not-authentic" }, `${cipher}: ${field} as ${JSON.stringify(other)}`);
    }
  }
});

for (const version of OLD_VERSIONS) {
  t.test(`${version}: each protection's keyring decrypts its stream`, async (t) => {
    const dir = oldFiles(t, version);
    const plain = readFileSync(path.join(dir, "plain.txt"));
    for (const [ring, file] of [["ring", "stream.spev"], ["ring-passphrase", "stream-passphrase.spev"], ["ring-env", "stream-env.spev"]] as const) {
      const r = await run(["decrypt", "--keyring", ring, "--passphrase-file", "passphrase.txt", "--attrs", '{"tenant_id":"acme"}', file, `${file}.out`], { cwd: dir, env });
      t.equal(r.code, 0, `${ring}: ${r.stderr}`);
      t.ok(readFileSync(path.join(dir, `${file}.out`)).equals(plain), `${ring}: the plaintext written`);
      const wrong = await run(["decrypt", "--keyring", ring, "--passphrase-file", "passphrase.txt", "--attrs", '{"tenant_id":"globex"}', file, `${file}.wrong`], { cwd: dir, env });
      t.equal(wrong.code, 1, `${ring}: another tenant is refused`);
      t.notOk(existsSync(path.join(dir, `${file}.wrong`)));
    }
  });

  t.test(`${version}: a version-1 envelope opens only with the attributes it binds`, async (t) => {
    const dir = oldFiles(t, version);
    const ring = await Keyring.open(path.join(dir, "ring"));
    t.teardown(() => ring.close());
    const sealed = readFileSync(path.join(dir, "envelope-v1.bin"));
    const opened = openEnvelope(sealed, { resolveKek: ring.resolveKek, attributes: { tenant_id: "acme", record_id: "r-1" } });
    t.equal(new TextDecoder().decode(opened), "version-1 envelope payload");
    t.throws(() => openEnvelope(sealed, { resolveKek: ring.resolveKek, attributes: { tenant_id: "acme", record_id: "r-2" } }), EnvelopeError);
  });

  t.test(`${version}: a stream that requires a TEE is refused without attestation`, async (t) => {
    const dir = oldFiles(t, version);
    const ring = await Keyring.open(path.join(dir, "ring"));
    t.teardown(() => ring.close());
    const sealed = readFileSync(path.join(dir, "stream-tee.spev"));
    await t.rejects(collectBytes(openStream([sealed], { resolveKek: ring.resolveKek })), { code: "not-attested" });
    const r = await run(["decrypt", "--keyring", "ring", "stream-tee.spev", "tee.out"], { cwd: dir });
    t.equal(r.code, 1, "decrypt refuses");
    t.notOk(existsSync(path.join(dir, "tee.out")));
    const attested: AttestationProvider = { name: "test", attest: () => ({ attested: true, provider: "test" }) };
    const plain = await collectBytes(openStream([sealed], { resolveKek: ring.resolveKek, attestation: attested, attributes: { tenant_id: "acme", n: 7 } }));
    t.equal(new TextDecoder().decode(plain), "tee-bound payload", "opened in an attested TEE, bound values as sealed");
  });

  t.test(`${version}: keys rotate, rewrap, mfa rewrap and keys retire over the old keyring`, async (t) => {
    const dir = oldFiles(t, version);
    const before = usage(dir);
    const opts = { cwd: dir };
    t.equal((await run(["keys", "rotate", "--keyring", "ring"], opts)).code, 0);
    const rewrap = await run(["rewrap", "--keyring", "ring", "stream.spev"], opts);
    t.equal(rewrap.code, 0, rewrap.stderr);
    t.match(rewrap.stdout, /version 1 -> "kek" version 2/);
    const mfa = await run(["mfa", "rewrap", "--keyring", "ring"], opts);
    t.equal(mfa.code, 0, mfa.stderr);
    t.match(mfa.stdout, /3 resealed, 0 already current, 0 failed/);
    const retire = await run(["keys", "retire", "--keyring", "ring", "1"], opts);
    t.equal(retire.code, 0, `nothing still needs version 1: ${retire.stderr}`);

    const out = await run(["decrypt", "--keyring", "ring", "stream.spev", "plain.out"], opts);
    t.equal(out.code, 0, out.stderr);
    t.ok(readFileSync(path.join(dir, "plain.out")).equals(readFileSync(path.join(dir, "plain.txt"))));
    const ring = await Keyring.open(path.join(dir, "ring"));
    t.teardown(() => ring.close());
    const carol = await new KeyringEnrollments(ring).secretFor("carol");
    t.same(carol?.totp, { algorithm: "sha256", digits: 8, period: 60 }, "the old enrolment's settings are kept");
    t.throws(() => openEnvelope(readFileSync(path.join(dir, "envelope-v1.bin")), { resolveKek: ring.resolveKek, attributes: { tenant_id: "acme", record_id: "r-1" } }), { code: "retired" });

    // Wraps the old version counted stay counted; the new version's are counted from 0.
    const after = usage(dir);
    t.equal(after?.["kek.v1"], before?.["kek.v1"], "version 1's count is neither lost nor raised");
    t.equal(after?.["kek.v2"], 4, "one rewrap and three reseals under version 2");
  });
}
