/**
 * `swarm-policy rewrap --keyring DIR FILE...`: after a rotation, each file's
 * data key is re-wrapped under the new primary without changing a payload
 * byte; the file keeps its mode; the old version can then be retired and the
 * files still decrypt. Files already current are left alone; a file that
 * fails is reported, left unchanged, and the rest are still processed.
 */
import t from "tap";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { chmodSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { run } from "../run.js";
import { Keyring, sealEnvelope } from "../../../src/index.js";

const POLICY = 'package t\nencryption "any" {\n  require aad ["tenant_id"]\n}\n';
const ATTRS = JSON.stringify({ tenant_id: "acme" });
const WRAP_END = 7 + 4 + 4 + 12 + 48; // fixed section, KEK id "kek", version, wrap nonce, wrapped key

t.test("rotate, rewrap, retire: payloads untouched, files still decrypt", async (t) => {
  const cwd = t.testdir({ "p.policy": POLICY });
  await Keyring.create(path.join(cwd, "ring"));
  const plains = [0, 1, 2].map(() => Uint8Array.from(randomBytes(100_000)));
  for (const [i, plain] of plains.entries()) {
    writeFileSync(path.join(cwd, `in${i}`), plain);
    const r = await run(["encrypt", "p.policy", "--keyring", "ring", "--attrs", ATTRS, `in${i}`, `f${i}.spev`], { cwd });
    t.equal(r.code, 0, r.stderr);
  }
  chmodSync(path.join(cwd, "f0.spev"), 0o640);
  const before = [0, 1, 2].map((i) => readFileSync(path.join(cwd, `f${i}.spev`)));
  t.equal((await run(["keys", "rotate", "--keyring", "ring"], { cwd })).code, 0);

  const r = await run(["rewrap", "--keyring", "ring", "f0.spev", "f1.spev"], { cwd });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'f0.spev: KEK "kek" version 1 -> "kek" version 2\nf1.spev: KEK "kek" version 1 -> "kek" version 2\n');
  for (const i of [0, 1]) {
    const after = readFileSync(path.join(cwd, `f${i}.spev`));
    t.equal(after.length, before[i]!.length);
    t.same([...after.subarray(11, 15)], [0, 0, 0, 2], `f${i}: KEK version 2 in the header`);
    t.ok(after.subarray(WRAP_END).equals(before[i]!.subarray(WRAP_END)), `f${i}: every byte after the wrap section unchanged`);
    t.notOk(after.subarray(15, WRAP_END).equals(before[i]!.subarray(15, WRAP_END)), `f${i}: a new wrap nonce and wrapped key`);
  }
  t.equal(statSync(path.join(cwd, "f0.spev")).mode & 0o777, 0o640, "the file keeps its mode");
  t.same(readdirSync(cwd).filter((f) => f.startsWith(".")), [], "no temporary files left");

  const again = await run(["rewrap", "--keyring", "ring", "f0.spev", "f2.spev", "-f", "json"], { cwd });
  t.equal(again.code, 0);
  t.same(JSON.parse(again.stdout).files.map((f: { file: string; status: string }) => [f.file, f.status]), [["f0.spev", "current"], ["f2.spev", "rewrapped"]]);

  t.equal((await run(["keys", "retire", "--keyring", "ring", "1"], { cwd })).code, 0);
  for (const [i, plain] of plains.entries()) {
    const d = await run(["decrypt", "--keyring", "ring", `f${i}.spev`, `out${i}`], { cwd });
    t.equal(d.code, 0, d.stderr);
    t.ok(readFileSync(path.join(cwd, `out${i}`)).equals(plain), `f${i} decrypts after the old version is retired`);
  }
});

t.test("failures are per file: reported, left unchanged, the rest processed", async (t) => {
  const cwd = t.testdir({ "p.policy": POLICY, "plain.txt": "not encrypted" });
  const ring = await Keyring.create(path.join(cwd, "ring"));
  writeFileSync(path.join(cwd, "in"), "data");
  await run(["encrypt", "p.policy", "--keyring", "ring", "--attrs", ATTRS, "in", "good.spev"], { cwd });
  await run(["encrypt", "p.policy", "--keyring", "ring", "--attrs", ATTRS, "in", "tampered.spev"], { cwd });
  const tampered = readFileSync(path.join(cwd, "tampered.spev"));
  tampered[40]! ^= 1; // inside the wrapped key
  writeFileSync(path.join(cwd, "tampered.spev"), tampered);
  writeFileSync(path.join(cwd, "v1.env"), sealEnvelope(new Uint8Array(3), { cipher: "aes-256-gcm", kek: ring.primary() }));
  await ring.rotate();

  const r = await run(["rewrap", "--keyring", "ring", "tampered.spev", "plain.txt", "v1.env", "missing", "good.spev"], { cwd });
  t.equal(r.code, 2, "the worst of the per-file codes");
  t.equal(r.stdout, 'good.spev: KEK "kek" version 1 -> "kek" version 2\n');
  const lines = r.stderr.trimEnd().split("\n");
  t.match(lines, [
    /^swarm-policy: tampered\.spev: the wrapped data key is not authentic/,
    /^swarm-policy: plain\.txt: not a swarm-policy envelope/,
    /^swarm-policy: v1\.env: a version-1 envelope binds its wrapped key into the payload's AAD and cannot be re-wrapped/,
    /^swarm-policy: missing: no such file or directory$/,
  ]);
  t.ok(readFileSync(path.join(cwd, "tampered.spev")).equals(tampered), "a failed file is unchanged");
  const only = await run(["rewrap", "--keyring", "ring", "tampered.spev"], { cwd });
  t.equal(only.code, 1, "a file that is not authentic alone: exit 1");
  t.equal((await run(["rewrap", "--keyring", "ring"], { cwd })).code, 2, "no files: usage error");
});

t.test("a damaged header or a KEK the keyring lacks is a refusal (exit 1); an unknown --kek is bad usage (exit 2)", async (t) => {
  const cwd = t.testdir({ "p.policy": POLICY, in: "data" });
  const ring = await Keyring.create(path.join(cwd, "ring"));
  await run(["encrypt", "p.policy", "--keyring", "ring", "--attrs", ATTRS, "in", "f.spev"], { cwd });
  await ring.rotate();
  const good = readFileSync(path.join(cwd, "f.spev"));
  const badCipher = Buffer.from(good);
  badCipher[5] = 0xee;
  writeFileSync(path.join(cwd, "cipher.spev"), badCipher);
  const badVersion = Buffer.from(good);
  badVersion[4] = 9;
  writeFileSync(path.join(cwd, "version.spev"), badVersion);
  const r = await run(["rewrap", "--keyring", "ring", "cipher.spev", "version.spev"], { cwd });
  t.equal(r.code, 1);
  t.equal(
    r.stderr,
    "swarm-policy: cipher.spev: not authentic (malformed header): unknown cipher id\n" +
      "swarm-policy: version.spev: not authentic (malformed header): envelope version 9 is not supported\n",
  );

  const other = await Keyring.create(path.join(cwd, "other"));
  await other.addKek("elsewhere");
  await run(["encrypt", "p.policy", "--keyring", "other", "--kek", "elsewhere", "--attrs", ATTRS, "in", "elsewhere.spev"], { cwd });
  const foreign = await run(["rewrap", "--keyring", "ring", "elsewhere.spev"], { cwd });
  t.equal(foreign.code, 1, "a file under a KEK id this keyring lacks: refused as decrypt refuses it");
  t.match(foreign.stderr, /^swarm-policy: elsewhere\.spev: KEK "elsewhere" version 1 is not in keyring /);

  const usage = await run(["rewrap", "--keyring", "ring", "--kek", "nope", "f.spev", "cipher.spev"], { cwd });
  t.equal(usage.code, 2, "--kek naming no KEK of the keyring");
  t.equal(usage.stderr, `swarm-policy: keyring ${path.join(cwd, "ring")} has no active version of KEK "nope"\n`, "said once, not per file");
  t.ok(readFileSync(path.join(cwd, "f.spev")).equals(good), "nothing was rewrapped");
});

t.test("--kek moves files to another KEK id", async (t) => {
  const cwd = t.testdir({ "p.policy": POLICY, in: "tenant data" });
  const ring = await Keyring.create(path.join(cwd, "ring"));
  await ring.addKek("tenant-acme");
  await run(["encrypt", "p.policy", "--keyring", "ring", "--attrs", ATTRS, "in", "f.spev"], { cwd });
  const r = await run(["rewrap", "--keyring", "ring", "--kek", "tenant-acme", "f.spev"], { cwd });
  t.equal(r.stdout, 'f.spev: KEK "kek" version 1 -> "tenant-acme" version 1\n');
  const d = await run(["decrypt", "--keyring", "ring", "f.spev", "out", "-f", "json"], { cwd });
  t.match(JSON.parse(d.stdout), { kek: { id: "tenant-acme", version: 1 } });
  t.equal(readFileSync(path.join(cwd, "out"), "utf8"), "tenant data");
});
