/**
 * The keyring: files and modes on disk, refusal of directories and key files
 * that others can access, rotation and retirement, passphrase and
 * unlock-key protection, and the sealSecret/openSecret/resealSecret API; key material
 * never appears in JSON, inspect output or error messages.
 */
import t from "tap";
import type { Test } from "tap";
import path from "node:path";
import { inspect } from "node:util";
import { chmodSync, linkSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { Keyring, KeyringError, SECRET_CONTEXT_FIELD, parseUnlockKey } from "../../../src/runtime/crypto/keyring.js";
import { openEnvelope, sealEnvelope, readEnvelopeHeader, EnvelopeError } from "../../../src/runtime/crypto/envelope.js";
import { SecretKey } from "../../../src/runtime/crypto/secret-key.js";

const FAST = { logN: 10, r: 8, p: 1 }; // test-only cost; the default is 2^17
const text = (s: string) => new TextEncoder().encode(s);
const fileMode = (f: string) => statSync(f).mode & 0o777;
let now = Date.parse("2026-01-01T00:00:00Z");
const clock = () => now;

async function rejection(p: Promise<unknown>): Promise<KeyringError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof KeyringError) return e;
    throw e;
  }
  throw new Error("expected a KeyringError");
}

function keyHexes(ring: Keyring): string[] {
  return ring.list().filter((k) => k.status !== "retired").map((k) => Buffer.from(ring.key(k.id, k.version).exposeBytes()).toString("hex"));
}

t.test("create: a private directory, a manifest and a 0600 key file", async (t) => {
  const dir = path.join(t.testdir({}), "ring");
  const ring = await Keyring.create(dir, { clock });
  t.equal(fileMode(dir), 0o700);
  t.same(readdirSync(dir).sort(), ["kek.v1.kek", "keyring.json"]);
  for (const f of readdirSync(dir)) t.equal(fileMode(path.join(dir, f)), 0o600, `${f} is 0600`);
  t.same(ring.list().map((k) => [k.id, k.version, k.status, k.createdAt.toISOString()]), [["kek", 1, "primary", "2026-01-01T00:00:00.000Z"]]);
  const doc = JSON.parse(readFileSync(path.join(dir, "kek.v1.kek"), "utf8"));
  t.same(Object.keys(doc).sort(), ["created_at", "format", "id", "kek_version", "key", "retired_at", "version"]);
  const reopened = await Keyring.open(dir);
  t.same(keyHexes(reopened), keyHexes(ring), "the same key comes back from disk");
  t.equal((await rejection(Keyring.create(dir))).code, "exists");
});

t.test("rotate and retire: old versions decrypt until retired, then refuse clearly", async (t) => {
  const dir = path.join(t.testdir({}), "ring");
  const ring = await Keyring.create(dir, { clock, id: "data" });
  const v1env = sealEnvelope(text("under v1"), { cipher: "aes-256-gcm", kek: ring.primary() });
  now += 86_400_000;
  const v2 = await ring.rotate();
  t.same([v2.id, v2.version, v2.status], ["data", 2, "primary"]);
  t.same(ring.list().map((k) => k.status), ["active", "primary"]);
  t.equal(ring.primary().version, 2);
  t.same(openEnvelope(v1env, { resolveKek: ring.resolveKek }), text("under v1"), "v1 still decrypts after rotation");
  t.equal((await rejection(ring.retire("data", 2))).code, "bad-request", "the primary cannot be retired");
  t.match((await rejection(ring.retire("data", 2))).message, /primary: rotate before retiring/);
  const retired = await ring.retire("data", 1);
  t.equal(retired.status, "retired");
  t.equal(retired.retiredAt?.toISOString(), "2026-01-02T00:00:00.000Z");
  t.same((await ring.retire("data", 1)).status, "retired", "retiring twice is a no-op");
  const doc = JSON.parse(readFileSync(path.join(dir, "data.v1.kek"), "utf8"));
  t.notOk("key" in doc || "wrapped" in doc, "the key material is erased from disk");
  t.equal(fileMode(path.join(dir, "data.v1.kek")), 0o600);
  for (const r of [ring, await Keyring.open(dir)]) {
    t.throws(() => openEnvelope(v1env, { resolveKek: r.resolveKek }), {
      name: "KeyringError",
      code: "retired",
      message: 'KEK "data" version 1 was retired on 2026-01-02T00:00:00.000Z and no longer decrypts',
    });
  }
  t.throws(() => ring.key("data", 9), { code: "unknown-kek", message: /"data" version 9 is not in keyring/ });
  t.equal((await rejection(ring.retire("data", 9))).code, "unknown-kek");
  t.equal((await ring.rotate()).version, 3, "versions are never reused");
});

t.test("several KEK ids, each with its own primary", async (t) => {
  const dir = path.join(t.testdir({}), "ring");
  const ring = await Keyring.create(dir, { clock });
  await ring.addKek("tenant-acme");
  await ring.rotate("tenant-acme");
  t.same(ring.ids(), ["kek", "tenant-acme"]);
  t.equal(ring.primary("tenant-acme").version, 2);
  t.equal(ring.primary().id, "kek");
  t.equal((await rejection(ring.addKek("kek"))).code, "exists");
  t.equal((await rejection(ring.rotate("nope"))).code, "unknown-kek");
  t.throws(() => ring.primary("nope"), { code: "no-primary" });
  for (const bad of ["", "../x", ".hidden", "a b", "x".repeat(65), "é"]) {
    t.equal((await rejection(ring.addKek(bad))).code, "bad-request", `id ${JSON.stringify(bad)} refused`);
  }
});

t.test("refuses directories and files that group or others can access", async (t) => {
  const cases: Array<{ what: string; target: string; mode: number; message: RegExp }> = [
    { what: "world-readable directory", target: "", mode: 0o755, message: /keyring directory .*ring has mode 0755: it must not be accessible by group or others \(chmod 700 / },
    { what: "group-readable directory", target: "", mode: 0o750, message: /mode 0750/ },
    { what: "group-writable directory", target: "", mode: 0o720, message: /mode 0720/ },
    { what: "world-readable key file", target: "kek.v1.kek", mode: 0o644, message: /keyring file .*kek\.v1\.kek has mode 0644.*chmod 600/ },
    { what: "group-writable key file", target: "kek.v1.kek", mode: 0o620, message: /mode 0620/ },
    { what: "group-readable manifest", target: "keyring.json", mode: 0o640, message: /keyring\.json has mode 0640/ },
  ];
  for (const c of cases) {
    const dir = path.join(t.testdir({}), "ring");
    await Keyring.create(dir);
    chmodSync(path.join(dir, c.target), c.mode);
    const err = await rejection(Keyring.open(dir));
    t.equal(err.code, "insecure", c.what);
    t.match(err.message, c.message, c.what);
  }
  const open = path.join(t.testdir({ ring: {} }), "ring");
  chmodSync(open, 0o755);
  t.equal((await rejection(Keyring.create(open))).code, "insecure", "create refuses an existing open directory");
  t.same(readdirSync(open), [], "and writes nothing into it");
});

t.test("missing, foreign and tampered keyrings", async (t) => {
  const root = t.testdir({});
  t.match((await rejection(Keyring.open(path.join(root, "none")))).message, /does not exist/);
  const empty = path.join(root, "empty");
  await Keyring.create(empty);
  writeFileSync(path.join(empty, ".kek.v2.kek.123.tmp"), "half-written", { mode: 0o600 });
  writeFileSync(path.join(empty, "README"), "not a key", { mode: 0o600 });
  t.equal((await Keyring.open(empty)).list().length, 1, "temp files and other names are ignored");
  const renamed = path.join(root, "renamed");
  await Keyring.create(renamed);
  writeFileSync(path.join(renamed, "kek.v7.kek"), readFileSync(path.join(renamed, "kek.v1.kek")), { mode: 0o600 });
  t.match((await rejection(Keyring.open(renamed))).message, /kek\.v7\.kek: id or version does not match the file name/);
  const garbled = path.join(root, "garbled");
  await Keyring.create(garbled);
  const secretish = "c2VjcmV0LWtleS1ieXRlcw==";
  writeFileSync(path.join(garbled, "kek.v1.kek"), `{"key": "${secretish}"`, { mode: 0o600 });
  const err = await rejection(Keyring.open(garbled));
  t.equal(err.code, "malformed");
  t.notMatch(err.message, secretish, "a JSON error never quotes the file");
});

t.test("passphrase protection: wrapped keys, wrong or missing passphrase refused", async (t) => {
  const dir = path.join(t.testdir({}), "ring");
  const ring = await Keyring.create(dir, { protect: "passphrase", passphrase: "correct horse", scrypt: FAST, clock });
  await ring.rotate();
  t.equal(ring.protection, "passphrase");
  const manifest = JSON.parse(readFileSync(path.join(dir, "keyring.json"), "utf8"));
  t.same({ ...manifest.protection, salt: "-", check: "-" }, { kind: "passphrase", kdf: "scrypt", logN: 10, r: 8, p: 1, salt: "-", check: "-" });
  const doc = JSON.parse(readFileSync(path.join(dir, "kek.v1.kek"), "utf8"));
  t.ok(doc.wrapped && doc.key === undefined, "the key file holds only wrapped material");
  const again = await Keyring.open(dir, { passphrase: "correct horse" });
  t.same(keyHexes(again), keyHexes(ring));
  t.match(await rejection(Keyring.open(dir, { passphrase: "wrong" })), { code: "wrong-secret" });
  t.match((await rejection(Keyring.open(dir))).message, /protected by a passphrase and none was given/);
  // NFC: the same text typed with a combining accent unlocks too.
  const accented = path.join(t.testdir({}), "ring");
  await Keyring.create(accented, { protect: "passphrase", passphrase: "caf\u00e9", scrypt: FAST });
  t.equal((await Keyring.open(accented, { passphrase: "cafe\u0301" })).list().length, 1);
  t.equal((await rejection(Keyring.create(path.join(dir, "x"), { protect: "passphrase" }))).code, "bad-request");
  t.equal((await rejection(Keyring.create(path.join(dir, "y"), { protect: "passphrase", passphrase: "p", scrypt: { logN: 30, r: 8, p: 1 } }))).code, "bad-request");
});

t.test("a protected keyring refuses edited files: a younger created_at, a plain key slipped in", async (t) => {
  const dir = path.join(t.testdir({}), "ring");
  const unlockKey = SecretKey.generate();
  await Keyring.create(dir, { protect: "env", unlockKey, clock });
  const file = path.join(dir, "kek.v1.kek");
  const original = readFileSync(file, "utf8");
  writeFileSync(file, original.replace(/"created_at": "[^"]+"/, '"created_at": "2030-06-01T00:00:00.000Z"'));
  t.match((await rejection(Keyring.open(dir, { unlockKey }))).message, /wrapped key is not authentic/);
  const doc = JSON.parse(original);
  delete doc.wrapped;
  doc.key = Buffer.alloc(32, 7).toString("base64");
  writeFileSync(file, JSON.stringify(doc));
  t.match((await rejection(Keyring.open(dir, { unlockKey }))).message, /an unwrapped key in a protected keyring/);
});

t.test("unlock key from the environment: format, wrong key, missing key", async (t) => {
  const raw = Buffer.alloc(32);
  for (let i = 0; i < 32; i++) raw[i] = 0xf0 ^ (i * 7);
  const std = raw.toString("base64"), url = raw.toString("base64url");
  for (const form of [std, url, std.replace(/=+$/, ""), ` ${std}\n`]) {
    t.same(Buffer.from(parseUnlockKey(form).exposeBytes()), raw, `accepts ${JSON.stringify(form)}`);
  }
  const bad: Array<[string | undefined, string]> = [
    [undefined, "locked"],
    ["", "locked"],
    ["not base64!", "bad-request"],
    [Buffer.alloc(16, 1).toString("base64"), "bad-request"],
    [Buffer.alloc(33, 1).toString("base64"), "bad-request"],
  ];
  for (const [value, code] of bad) {
    let err: unknown;
    try {
      parseUnlockKey(value);
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof KeyringError && err.code === code, `${JSON.stringify(value)}: ${code}`);
    if (value) t.notOk((err as Error).message.includes(value), "the value is not echoed");
  }
  const dir = path.join(t.testdir({}), "ring");
  const ring = await Keyring.create(dir, { protect: "env", unlockKey: parseUnlockKey(std) });
  t.same(keyHexes(await Keyring.open(dir, { unlockKey: parseUnlockKey(url) })), keyHexes(ring));
  t.match(await rejection(Keyring.open(dir, { unlockKey: SecretKey.generate() })), { code: "wrong-secret", message: /wrong unlock key/ });
  t.match(await rejection(Keyring.open(dir)), { code: "locked" });
});

t.test("sealSecret / openSecret: bound to the context, survive rotation, refuse after retirement", async (t) => {
  const dir = path.join(t.testdir({}), "ring");
  const ring = await Keyring.create(dir);
  const seed = text("JBSWY3DPEHPK3PXP-seed");
  const sealed = await ring.sealSecret(seed, "mfa:alice");
  t.same(ring.openSecret(sealed, "mfa:alice"), seed);
  t.throws(() => ring.openSecret(sealed, "mfa:bob"), { name: "EnvelopeError", code: "not-authentic" }, "another context");
  const plain = sealEnvelope(seed, { cipher: "aes-256-gcm", kek: ring.primary() });
  t.throws(() => ring.openSecret(plain, "mfa:alice"), { code: "not-authentic", message: /no context bound/ });
  const other = sealEnvelope(seed, { cipher: "aes-256-gcm", kek: ring.primary(), aadFields: ["x", SECRET_CONTEXT_FIELD], attributes: { x: 1, [SECRET_CONTEXT_FIELD]: "mfa:alice" } });
  t.throws(() => ring.openSecret(other, "mfa:alice"), EnvelopeError, "only the context field may be bound");
  await t.rejects(ring.sealSecret(seed, ""), { code: "bad-request" });
  await ring.rotate();
  const reopened = await Keyring.open(dir);
  t.same(reopened.openSecret(sealed, "mfa:alice"), seed, "an older version still opens after rotation");
  t.equal(readEnvelopeHeader(await reopened.sealSecret(seed, "c")).kekVersion, 2, "new secrets use the new primary");
  await reopened.retire("kek", 1);
  t.throws(() => reopened.openSecret(sealed, "mfa:alice"), { name: "KeyringError", code: "retired" });
});

t.test("resealSecret: moves a secret to the new primary, same context; the old version can then be retired", async (t) => {
  const ring = await Keyring.create(path.join(t.testdir({}), "ring"));
  const seed = text("totp-seed-bytes-20b!");
  const sealed = await ring.sealSecret(seed, "mfa:alice");
  const current = await ring.resealSecret(sealed, "mfa:alice");
  t.same(current, { sealed, from: { id: "kek", version: 1 }, to: { id: "kek", version: 1 }, resealed: false }, "already under the primary: unchanged");
  await ring.rotate();
  await t.rejects(ring.resealSecret(sealed, "mfa:bob"), { name: "EnvelopeError", code: "not-authentic" }, "the context must match");
  const moved = await ring.resealSecret(sealed, "mfa:alice");
  t.match(moved, { from: { id: "kek", version: 1 }, to: { id: "kek", version: 2 }, resealed: true });
  t.equal(readEnvelopeHeader(moved.sealed).kekVersion, 2);
  t.same(readEnvelopeHeader(moved.sealed).aadFields, [SECRET_CONTEXT_FIELD], "still a sealed secret");
  await ring.retire("kek", 1);
  t.same(ring.openSecret(moved.sealed, "mfa:alice"), seed, "opens after the old version is retired");
  t.throws(() => ring.openSecret(moved.sealed, "mfa:bob"), { code: "not-authentic" }, "and only for its context");
  await t.rejects(ring.resealSecret(sealed, "mfa:alice"), { name: "KeyringError", code: "retired" }, "too late once retired");
});

t.test("concurrent rotation: only one process gets each version", async (t) => {
  const dir = path.join(t.testdir({}), "ring");
  await Keyring.create(dir);
  const [a, b] = [await Keyring.open(dir), await Keyring.open(dir)];
  await a.rotate();
  const err = await rejection(b.rotate());
  t.equal(err.code, "exists");
  t.match(err.message, /version 2 was created meanwhile/);
  t.equal((await Keyring.open(dir)).primary().version, 2);
});

t.test("no key material in JSON, inspect, or errors", async (t) => {
  const dir = path.join(t.testdir({}), "ring");
  const ring = await Keyring.create(dir, { clock });
  await ring.rotate();
  const hexes = keyHexes(ring);
  const b64s = ring.list().map((k) => Buffer.from(ring.key(k.id, k.version).exposeBytes()).toString("base64"));
  const outputs = [JSON.stringify(ring), inspect(ring, { depth: 10, showHidden: true }), JSON.stringify(ring.primary()), inspect(ring.primary())];
  const json = JSON.parse(outputs[0]!);
  t.same(json.keks.map((k: { version: number; status: string }) => [k.version, k.status]), [[1, "active"], [2, "primary"]]);
  await ring.retire("kek", 1);
  try {
    ring.key("kek", 1);
  } catch (e) {
    outputs.push(String(e), (e as Error).stack ?? "");
  }
  for (const out of outputs) {
    t.notOk([...hexes, ...b64s].some((k) => out.includes(k)), "no key bytes");
  }
  ring.close();
  t.throws(() => ring.primary().key.exposeBytes(), /destroyed/, "close wipes the keys");
});

/** Runs `fn` and says whether `secret` is left in Node's shared Buffer pool (retrying if the pool was replaced meanwhile). */
async function leftInBufferPool(t: Test, secret: Buffer, fn: () => Promise<void> | void): Promise<boolean> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const before = Buffer.from("probe"); // a slice of the current pool
    await fn();
    const after = Buffer.from("probe");
    if (before.buffer === after.buffer) return Buffer.from(after.buffer).indexOf(secret) !== -1;
  }
  t.fail("the Buffer pool was replaced on every attempt");
  return false;
}

t.test("decoded key bytes are wiped where they were decoded, not only in a copy (Buffer's shared pool)", async (t) => {
  // Buffer.alloc and write: the test itself must not put the key in the pool.
  const raw = Buffer.alloc(32);
  for (let i = 0; i < 32; i++) raw[i] = 0xa5 ^ (i * 13);
  const b64 = raw.toString("base64");
  t.notOk(await leftInBufferPool(t, raw, () => parseUnlockKey(b64).destroy()), "parseUnlockKey");
  const dir = path.join(t.testdir({}), "ring");
  (await Keyring.create(dir)).close();
  const key = Buffer.alloc(32);
  key.write(JSON.parse(readFileSync(path.join(dir, "kek.v1.kek"), "utf8")).key, "base64");
  t.notOk(await leftInBufferPool(t, key, async () => (await Keyring.open(dir)).close()), "a plain key file loaded");
});

t.test("a damaged check value in the manifest is malformed, not a wrong passphrase", async (t) => {
  const dir = path.join(t.testdir({}), "ring");
  (await Keyring.create(dir, { protect: "passphrase", passphrase: "correct horse", scrypt: FAST })).close();
  const file = path.join(dir, "keyring.json");
  const doc = JSON.parse(readFileSync(file, "utf8"));
  doc.protection.check = doc.protection.check.slice(0, 20); // truncated: 15 bytes instead of 28
  writeFileSync(file, JSON.stringify(doc));
  t.match(await rejection(Keyring.open(dir, { passphrase: "correct horse" })), { code: "malformed", message: /"check" must hold 28 bytes/ });
});

t.test("scrypt: every parameter set the manifest may hold gets the memory it needs (no raw maxmem error)", async (t) => {
  // logN 21, r 8, p 4 is within the documented bounds (2 GiB for N); noble also counts p + 1 blocks.
  const seen: Array<{ N: number; r: number; p: number; maxmem: number }> = [];
  const { deriveUnlockKey } = await t.mockImport<typeof import("../../../src/runtime/crypto/keyring-unlock.js")>(
    "../../../src/runtime/crypto/keyring-unlock.js",
    { "@noble/hashes/scrypt.js": { scryptAsync: async (_pw: Uint8Array, _salt: Uint8Array, opts: (typeof seen)[0]) => (seen.push(opts), new Uint8Array(32)) } },
  );
  for (const params of [{ logN: 21, r: 8, p: 4 }, { logN: 22, r: 4, p: 16 }, { logN: 19, r: 32, p: 16 }, FAST]) {
    (await deriveUnlockKey("pass", new Uint8Array(32), params)).destroy();
    const { N, r, p, maxmem } = seen.at(-1)!;
    t.ok(128 * r * (N + p + 1) <= maxmem, `logN ${params.logN}, r ${r}, p ${p}: maxmem covers noble's 128*r*(N+p+1)`);
  }
});

t.test("scrypt parameters out of range in the manifest are a malformed file, not a bad request", async (t) => {
  const dir = path.join(t.testdir({}), "ring");
  (await Keyring.create(dir, { protect: "passphrase", passphrase: "correct horse", scrypt: FAST })).close();
  const file = path.join(dir, "keyring.json");
  const doc = JSON.parse(readFileSync(file, "utf8"));
  doc.protection.logN = 40;
  writeFileSync(file, JSON.stringify(doc));
  t.match(await rejection(Keyring.open(dir, { passphrase: "correct horse" })), {
    code: "malformed",
    message: `${file}: scrypt parameters out of range (logN 10-22, r 1-32, p 1-16, at most 2 GiB)`,
  });
});

t.test("create where a file stands: a KeyringError naming the path, not a raw EEXIST/ENOTDIR", async (t) => {
  const root = t.testdir({ afile: "" });
  for (const dir of [path.join(root, "afile"), path.join(root, "afile", "ring")]) {
    t.match(await rejection(Keyring.create(dir)), { code: "not-a-keyring", message: `cannot create a keyring at ${dir}: it, or a directory above it, is a file` });
  }
});

t.test("open where the file system refuses the path: a KeyringError naming it, not a raw ENOTDIR", async (t) => {
  const root = t.testdir({ afile: "" });
  const dir = path.join(root, "afile", "ring");
  t.match(await rejection(Keyring.open(dir)), { code: "unreadable", message: `cannot read ${dir}: not a directory` });
});

t.test("a key file or manifest that is a FIFO, a symbolic link or far too large is refused without hanging or reading it", async (t) => {
  t.setTimeout(20_000); // a FIFO that is opened blocking would hang here
  const outside = t.testdir({});
  const cases: Array<{ what: string; name: string; plant: (file: string) => void; message: RegExp }> = [
    { what: "a FIFO as a key file", name: "kek.v2.kek", plant: (f) => execFileSync("mkfifo", ["-m", "600", f]), message: /kek\.v2\.kek is not a regular file/ },
    { what: "a FIFO as the manifest", name: "keyring.json", plant: (f) => (rmSync(f), execFileSync("mkfifo", ["-m", "600", f])), message: /keyring\.json is not a regular file/ },
    {
      // The link's target is 0600 but sits in a directory others may write: the directory check would be side-stepped.
      what: "a symbolic link to a private file elsewhere",
      name: "kek.v2.kek",
      plant: (f) => {
        const target = path.join(outside, "kek.v2.kek");
        writeFileSync(target, "{}", { mode: 0o600 });
        symlinkSync(target, f);
      },
      message: /kek\.v2\.kek is a symbolic link/,
    },
    { what: "a sparse 64 MiB key file", name: "kek.v2.kek", plant: (f) => (writeFileSync(f, "", { mode: 0o600 }), truncateSync(f, 64 * 1024 * 1024)), message: /kek\.v2\.kek is too large/ },
  ];
  for (const c of cases) {
    const dir = path.join(t.testdir({}), "ring");
    await Keyring.create(dir);
    c.plant(path.join(dir, c.name));
    const err = await rejection(Keyring.open(dir));
    t.equal(err.code, "insecure", c.what);
    t.match(err.message, c.message, c.what);
  }
});

t.test("a key file created by a process killed before it removed its temporary name loses its key when retired", async (t) => {
  const dir = path.join(t.testdir({}), "ring");
  const ring = await Keyring.create(dir, { clock, id: "data" });
  const key = Buffer.from(ring.key("data", 1).exposeBytes()).toString("base64");
  // What a SIGKILL between exclusive creation's link(temp, kek) and rm(temp) leaves: a second name for the key file.
  const dead = Number(execFileSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }));
  linkSync(path.join(dir, "data.v1.kek"), path.join(dir, `.data.v1.kek.${dead}.0123456789ab.tmp`));
  await ring.rotate();
  await ring.retire("data", 1);
  for (const f of readdirSync(dir)) t.notOk(readFileSync(path.join(dir, f), "utf8").includes(key), `${f} does not hold the retired key`);
  t.same(readdirSync(dir).sort(), ["data.v1.kek", "data.v2.kek", "keyring.json"]);
});

t.test("a creation killed after the manifest, before the first KEK: creating again says how to finish it, and rotate does", async (t) => {
  const dir = path.join(t.testdir({}), "ring");
  (await Keyring.create(dir, { clock, id: "data" })).close();
  rmSync(path.join(dir, "data.v1.kek")); // what a kill between the manifest and the first key file leaves
  const again = await rejection(Keyring.create(dir, { clock, id: "data" }));
  t.equal(again.code, "exists");
  t.match(again.message, /without any KEK .*keys rotate/);
  const ring = await Keyring.open(dir, { clock });
  t.equal((await ring.rotate()).version, 1, "rotate makes the default id's first version");
  t.equal(ring.primary().version, 1);
});
