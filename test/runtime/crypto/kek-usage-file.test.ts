/**
 * The persistent per-KEK wrap counter (kek-usage-file.ts): counts survive
 * across Keyring instances and processes, the limit refuses however the
 * wraps were spread, blocks are reserved and a lost reserve is never reused,
 * and a damaged, exposed or locked counter file fails closed.
 */
import t from "tap";
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  EnvelopeError,
  FileKekUsage,
  Keyring,
  KeyringError,
  USAGE_FILE,
  collectBytes,
  encryptByPolicy,
  compile,
  rewrapStream,
  sealStream,
} from "../../../src/index.js";
import { run } from "../../cli/run.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const text = (s: string) => new TextEncoder().encode(s);
const reservedIn = (dir: string) => JSON.parse(readFileSync(path.join(dir, USAGE_FILE), "utf8")).reserved as Record<string, number>;

t.test("the keyring counts in its directory by default: usage.json, 0600, one wrap per one-shot use", async (t) => {
  const dir = path.join(t.testdir({}), "ring");
  const ring = await Keyring.create(dir);
  t.ok(ring.usage instanceof FileKekUsage, "Keyring's default counter is the file");
  await ring.sealSecret(text("seed"), "mfa:alice");
  t.same(reservedIn(dir), { "kek.v1": 1 }, "the first block is one wrap");
  t.equal(statSync(path.join(dir, USAGE_FILE)).mode & 0o777, 0o600);
  const again = await Keyring.open(dir);
  await collectBytes(encryptByPolicy([text("x")], {}, { policy: compile("package p\n"), keyring: again }));
  t.same(reservedIn(dir), { "kek.v1": 2 }, "encryptByPolicy counts with the keyring's counter; another instance adds to the file");
  await ring.rotate();
  const reopened = await Keyring.open(dir);
  const sealed = await collectBytes(sealStream([text("y")], { cipher: "aes-256-gcm", kek: reopened.primary(), usage: reopened.usage }));
  await collectBytes(rewrapStream([sealed], { resolveKek: reopened.resolveKek, kek: reopened.primary(), usage: reopened.usage }));
  t.same(reservedIn(dir), { "kek.v1": 2, "kek.v2": 3 }, "each version has its own count (one instance, two wraps: blocks of 1 and 2)");
  t.equal(await new FileKekUsage(dir).reserved("kek", 2), 3);
  t.ok((await Keyring.open(dir)).list().length === 2, "the counter files do not disturb loading");
});

t.test("two Keyring instances share the limit: the count survives and the limit refuses", async (t) => {
  const dir = path.join(t.testdir({}), "ring");
  await Keyring.create(dir, { usage: new FileKekUsage(path.join(dir), { limit: 5 }) });
  const a = await Keyring.open(dir, { usage: new FileKekUsage(dir, { limit: 5 }) });
  const b = await Keyring.open(dir, { usage: new FileKekUsage(dir, { limit: 5 }) });
  const outcomes: string[] = [];
  for (const ring of [a, b, a, b, a, b, a]) {
    try {
      await ring.sealSecret(text("s"), "c");
      outcomes.push("ok");
    } catch (e) {
      if (!(e instanceof EnvelopeError && e.code === "key-limit")) throw e;
      outcomes.push("limit");
    }
  }
  t.equal(outcomes.filter((o) => o === "ok").length, 5, `exactly 5 wraps across the two instances: ${outcomes.join(" ")}`);
  t.equal(reservedIn(dir)["kek.v1"], 5, "never more than the limit reserved");
  const c = await Keyring.open(dir, { usage: new FileKekUsage(dir, { limit: 5 }) });
  await t.rejects(c.sealSecret(text("s"), "c"), { name: "EnvelopeError", code: "key-limit", message: /KEK "kek" version 1 reached its wrap limit; rotate it/ }, "a fresh instance still refuses");
  await c.rotate();
  t.ok(await c.sealSecret(text("s"), "c"), "a new version has its own budget");
});

t.test("blocks double up to maxBlock; an unused reserve is burned, never reused", async (t) => {
  const dir = t.testdir({});
  const u = new FileKekUsage(dir, { maxBlock: 4 });
  const counts: number[] = [];
  for (let i = 0; i < 12; i++) {
    t.equal(await u.take("k", 1), true);
    counts.push(reservedIn(dir)["k.v1"]!);
  }
  t.same(counts, [1, 3, 3, 7, 7, 7, 7, 11, 11, 11, 11, 15], "blocks of 1, 2, 4, 4, 4: one file write per block");
  // The process "crashes" here with 3 wraps of its last block unused.
  const next = new FileKekUsage(dir, { maxBlock: 4 });
  t.equal(await next.take("k", 1), true);
  t.equal(reservedIn(dir)["k.v1"], 16, "the next process starts after everything reserved");

  const limited = new FileKekUsage(t.testdir({}), { limit: 50, maxBlock: 8 });
  const results = await Promise.all(Array.from({ length: 80 }, () => limited.take("k", 1)));
  t.equal(results.filter(Boolean).length, 50, "concurrent takes in one process: exactly the limit");
});

t.test("across processes: the limit holds however the wraps are spread", async (t) => {
  const dir = t.testdir({});
  const script = `
    import { FileKekUsage } from ${JSON.stringify(path.join(repoRoot, "src/runtime/crypto/kek-usage-file.ts"))};
    const u = new FileKekUsage(process.argv[1], { limit: 100, maxBlock: 8 });
    let ok = 0;
    for (let i = 0; i < 60; i++) if (await u.take("k", 1)) ok++;
    process.stdout.write(String(ok));
  `;
  const child = () =>
    new Promise<number>((resolve, reject) => {
      const p = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script, dir], { cwd: repoRoot });
      let out = "";
      let err = "";
      p.stdout.on("data", (d) => (out += d));
      p.stderr.on("data", (d) => (err += d));
      p.on("error", reject);
      p.on("close", (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`child exited ${code}: ${err}`))));
    });
  const granted = await Promise.all([child(), child(), child()]);
  t.ok(granted.reduce((a, b) => a + b, 0) <= 100, `at most the limit granted in total: ${granted.join(" + ")}`);
  t.equal(reservedIn(dir)["k.v1"], 100, "180 asked for, the limit of 100 reserved");
  t.equal(await new FileKekUsage(dir, { limit: 100 }).take("k", 1), false, "and this process is refused");
});

t.test("the CLI counts in the keyring: encrypt, rewrap and mfa enroll; a spent KEK is refused", async (t) => {
  const cwd = t.testdir({ "p.policy": "package p\n", "in.txt": "hello" });
  t.equal((await run(["keys", "init", "--keyring", "ring"], { cwd })).code, 0);
  const enc = await run(["encrypt", "p.policy", "--keyring", "ring", "--attrs", "{}", "in.txt", "a.spev"], { cwd });
  t.equal(enc.code, 0, enc.stderr);
  t.equal((await run(["mfa", "enroll", "alice", "--keyring", "ring"], { cwd })).code, 0);
  t.same(reservedIn(path.join(cwd, "ring")), { "kek.v1": 2 });
  t.equal((await run(["keys", "rotate", "--keyring", "ring"], { cwd })).code, 0);
  t.equal((await run(["rewrap", "--keyring", "ring", "a.spev"], { cwd })).code, 0);
  t.equal((await run(["mfa", "rewrap", "--keyring", "ring"], { cwd })).code, 0);
  t.same(reservedIn(path.join(cwd, "ring")), { "kek.v1": 2, "kek.v2": 2 });

  // Another process has used up version 2: the CLI refuses, writes nothing, and rotation is the way out.
  writeFileSync(path.join(cwd, "ring", USAGE_FILE), JSON.stringify({ format: "swarm-policy-kek-usage", version: 1, reserved: { "kek.v2": 2 ** 32 } }), { mode: 0o600 });
  const refused = await run(["encrypt", "p.policy", "--keyring", "ring", "--attrs", "{}", "in.txt", "b.spev"], { cwd });
  t.equal(refused.code, 1);
  t.equal(refused.stderr, 'swarm-policy: KEK "kek" version 2 reached its wrap limit; rotate it\n');
  t.throws(() => statSync(path.join(cwd, "b.spev")), { code: "ENOENT" }, "no output");
  const enroll = await run(["mfa", "enroll", "bob", "--keyring", "ring"], { cwd });
  t.equal(enroll.code, 1, "mfa enroll is refused too");
  t.equal((await run(["keys", "rotate", "--keyring", "ring"], { cwd })).code, 0);
  t.equal((await run(["encrypt", "p.policy", "--keyring", "ring", "--attrs", "{}", "in.txt", "b.spev"], { cwd })).code, 0);
});

t.test("the default limit is 2^32 wraps per KEK version: the last one is allowed, the next refused", async (t) => {
  const dir = path.join(t.testdir({}), "ring");
  await Keyring.create(dir);
  writeFileSync(path.join(dir, USAGE_FILE), JSON.stringify({ format: "swarm-policy-kek-usage", version: 1, reserved: { "kek.v1": 2 ** 32 - 1 } }), { mode: 0o600 });
  const ring = await Keyring.open(dir);
  await ring.sealSecret(text("seed"), "mfa:alice");
  t.same(reservedIn(dir), { "kek.v1": 2 ** 32 });
  await t.rejects(ring.sealSecret(text("seed"), "mfa:bob"), { code: "key-limit" });
});

t.test("fail closed: a damaged, exposed or locked counter file refuses", async (t) => {
  const cases: Array<[string, string]> = [
    ["not JSON", "{"],
    ["another format", JSON.stringify({ format: "x", version: 1, reserved: {} })],
    ["negative count", JSON.stringify({ format: "swarm-policy-kek-usage", version: 1, reserved: { "kek.v1": -1 } })],
    ["bad key", JSON.stringify({ format: "swarm-policy-kek-usage", version: 1, reserved: { "../x": 1 } })],
  ];
  for (const [what, body] of cases) {
    const dir = path.join(t.testdir({}), "ring");
    const ring = await Keyring.create(dir);
    writeFileSync(path.join(dir, USAGE_FILE), body, { mode: 0o600 });
    await t.rejects(ring.sealSecret(text("s"), "c"), { name: "KeyringError", code: "malformed", message: /deleting it would restart every count at zero/ }, what);
    t.equal(readFileSync(path.join(dir, USAGE_FILE), "utf8"), body, `${what}: left as it was`);
  }
  const dir = path.join(t.testdir({}), "ring");
  const ring = await Keyring.create(dir);
  await ring.sealSecret(text("s"), "c");
  if (process.platform !== "win32") {
    chmodSync(path.join(dir, USAGE_FILE), 0o644);
    await t.rejects(ring.sealSecret(text("s"), "c"), { name: "KeyringError", code: "insecure" });
    chmodSync(path.join(dir, USAGE_FILE), 0o600);
  }
  writeFileSync(path.join(dir, `${USAGE_FILE}.lock`), `${process.pid} held-by-test\n`, { mode: 0o600 });
  const busy = await Keyring.open(dir, { usage: new FileKekUsage(dir, { lock: { timeoutMs: 150 } }) });
  const err = await busy.sealSecret(text("s"), "c").catch((e: unknown) => e);
  t.ok(err instanceof KeyringError && err.code === "busy", "a held lock: busy, not a wrap without counting");
});

t.test("a counter file that is a FIFO or a symbolic link is refused without hanging", async (t) => {
  t.setTimeout(20_000); // a FIFO opened blocking would hang here
  const dir = path.join(t.testdir({}), "ring");
  const ring = await Keyring.create(dir);
  t.teardown(() => ring.close());
  await ring.sealSecret(text("seed"), "mfa:alice");
  renameSync(path.join(dir, USAGE_FILE), path.join(dir, "elsewhere.json"));
  execFileSync("mkfifo", ["-m", "600", path.join(dir, USAGE_FILE)]);
  const fresh = await Keyring.open(dir);
  t.teardown(() => fresh.close());
  await t.rejects(fresh.sealSecret(text("seed"), "mfa:bob"), { name: "KeyringError", code: "insecure", message: /is not a regular file/ });
  rmSync(path.join(dir, USAGE_FILE));
  symlinkSync(path.join(dir, "elsewhere.json"), path.join(dir, USAGE_FILE));
  await t.rejects(fresh.sealSecret(text("seed"), "mfa:bob"), { name: "KeyringError", code: "insecure", message: /is a symbolic link/ });
});
