/**
 * `swarm-policy keys init|rotate|list|retire`: the keyring on disk, text and
 * JSON output, ages against the policies' key_age limits (exit 1 when a
 * primary is overdue), protected keyrings, and no key material in any output.
 */
import t from "tap";
import path from "node:path";
import { chmodSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { run } from "../run.js";
import { Keyring } from "../../../src/index.js";

const DAY = 86_400_000;
const POLICY = `package demo
encryption default {
  require cipher "aes-256-gcm"
  require key_age within 365d
}
encryption "phi" {
  when data.classification == "phi"
  require cipher "aes-256-gcm"
  require key_age within 90d
}
`;

function keyMaterial(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".kek"))
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), "utf8")).key as string | undefined)
    .filter((k): k is string => k !== undefined);
}

t.test("init, rotate, list, retire", async (t) => {
  const cwd = t.testdir({});
  const init = await run(["keys", "init", "--keyring", "ring"], { cwd });
  t.equal(init.code, 0, init.stderr);
  t.match(init.stdout, /created keyring \(protection none\) with KEK "kek" version 1 \(primary\)/);
  t.equal(statSync(path.join(cwd, "ring")).mode & 0o777, 0o700);
  t.equal(statSync(path.join(cwd, "ring/kek.v1.kek")).mode & 0o777, 0o600);
  t.equal((await run(["keys", "init", "--keyring", "ring"], { cwd })).code, 2, "init twice is an error");

  const env = { SWARM_POLICY_KEYRING: "ring" };
  const rotated = await run(["keys", "rotate", "--format", "json"], { cwd, env });
  t.equal(rotated.code, 0, rotated.stderr);
  t.same(JSON.parse(rotated.stdout).kek, { ...JSON.parse(rotated.stdout).kek, id: "kek", version: 2, status: "primary", retired_at: null });

  const listed = await run(["keys", "list", "--keyring", "ring"], { cwd });
  t.equal(listed.code, 0);
  const lines = listed.stdout.split("\n");
  t.match(lines[0], /^keyring .*ring \(protection none, default KEK "kek"\)$/);
  t.match(lines[1], /^KEK\s+VERSION\s+STATUS\s+CREATED\s+AGE$/);
  t.match(lines[2], /^kek\s+1\s+active\s+\d{4}-\d\d-\d\dT/);
  t.match(lines[3], /^kek\s+2\s+primary\s+/);

  const primary = await run(["keys", "retire", "--keyring", "ring", "2"], { cwd });
  t.equal(primary.code, 2);
  t.equal(primary.stderr, 'swarm-policy: KEK "kek" version 2 is the primary: rotate before retiring it\n');
  const retired = await run(["keys", "retire", "--keyring", "ring", "1", "-f", "json"], { cwd });
  t.equal(retired.code, 0, retired.stderr);
  t.equal(JSON.parse(retired.stdout).kek.status, "retired");
  t.equal((await run(["keys", "retire", "--keyring", "ring", "one"], { cwd })).code, 2);
  t.equal((await run(["keys", "retire", "--keyring", "ring", "7"], { cwd })).code, 1, "an unknown version");

  const added = await run(["keys", "init", "--keyring", "ring", "--id", "tenant-acme"], { cwd });
  t.match(added.stdout, /added KEK "tenant-acme" version 1/);
  const json = JSON.parse((await run(["keys", "list", "--keyring", "ring", "-f", "json"], { cwd })).stdout);
  t.same(json.keks.map((k: { id: string; version: number; status: string }) => `${k.id}/${k.version}/${k.status}`), ["kek/1/retired", "kek/2/primary", "tenant-acme/1/primary"]);
  t.notOk("requirements" in json, "no requirements without --policies");
});

t.test("list --policies: ages against key_age limits", async (t) => {
  const cwd = t.testdir({ "p.policy": POLICY });
  await Keyring.create(path.join(cwd, "ring"), { clock: () => Date.now() - 120 * DAY });
  const over = await run(["keys", "list", "--keyring", "ring", "--policies", "p.policy"], { cwd });
  t.equal(over.code, 1, "a primary over 90d: rotation is due");
  t.match(over.stdout, /kek\s+1\s+primary\s+\S+\s+120d\S*\s+OVER 90d demo\/phi/);
  t.match(over.stdout, /key_age limits: 90d demo\/phi, 365d demo\/default\n/);
  t.match(over.stdout, /rotate it/);
  const json = JSON.parse((await run(["keys", "list", "--keyring", "ring", "--policies", "p.policy", "-f", "json"], { cwd })).stdout);
  t.equal(json.overdue, true);
  t.same(json.requirements, [
    { rule: "demo/phi", maxKeyAge: "90d", maxKeyAgeMs: 90 * DAY },
    { rule: "demo/default", maxKeyAge: "365d", maxKeyAgeMs: 365 * DAY },
  ]);
  t.same(json.keks[0].key_age, [
    { rule: "demo/phi", maxKeyAge: "90d", ok: false },
    { rule: "demo/default", maxKeyAge: "365d", ok: true },
  ]);
  t.ok(json.keks[0].age_seconds >= 120 * 86_400);
  t.equal(json.keks[0].age_unknown, false);

  await (await Keyring.open(path.join(cwd, "ring"))).rotate();
  const fresh = await run(["keys", "list", "--keyring", "ring", "--policies", "p.policy"], { cwd });
  t.equal(fresh.code, 0, "an old active version does not make rotation due");
  t.match(fresh.stdout, /kek\s+2\s+primary\s+\S+\s+\S+\s+within 90d \(all\)/);

  const broken = t.testdir({ "bad.policy": 'encryption "x" {\n  require key_age within\n}\n' });
  const bad = await run(["keys", "list", "--keyring", path.join(cwd, "ring"), "--policies", "bad.policy"], { cwd: broken });
  t.equal(bad.code, 1);
  t.match(bad.stderr, /the policies have errors/);
});

t.test("list --policies \"\" and check \"\": an empty path is refused, not read as the working directory", async (t) => {
  const cwd = t.testdir({ "p.policy": POLICY });
  const init = await run(["keys", "init", "--keyring", "ring"], { cwd });
  t.equal(init.code, 0, init.stderr);
  // "" resolved to the working directory, so every policy below it was read (p.policy's limits were listed).
  const empty = await run(["keys", "list", "--keyring", "ring", "--policies", ""], { cwd });
  t.equal(empty.code, 2);
  t.equal(empty.stdout, "");
  t.equal(empty.stderr, "swarm-policy: option '--policies <paths...>' must not be empty or blank (add --help for usage)\n");
  const check = await run(["check", ""], { cwd });
  t.equal(check.code, 2);
  t.equal(check.stderr, "swarm-policy: a policy path must not be empty or blank\n");
});

t.test("list --policies: a primary dated in the future has no known age, and is not within any limit", async (t) => {
  const cwd = t.testdir({ "p.policy": POLICY });
  await Keyring.create(path.join(cwd, "ring"), { clock: () => Date.now() + 30 * DAY });
  const out = await run(["keys", "list", "--keyring", "ring", "--policies", "p.policy"], { cwd });
  t.equal(out.code, 1, "a key age nobody can know is no key age within 90d");
  t.match(out.stdout, /kek\s+1\s+primary\s+\S+\s+\S+\s+AGE UNKNOWN: created after now/);
  const json = JSON.parse((await run(["keys", "list", "--keyring", "ring", "--policies", "p.policy", "-f", "json"], { cwd })).stdout);
  t.equal(json.overdue, true);
  t.same(json.keks[0].key_age, [
    { rule: "demo/phi", maxKeyAge: "90d", ok: false },
    { rule: "demo/default", maxKeyAge: "365d", ok: false },
  ]);
  t.equal(json.keks[0].age_unknown, true, "and says why");
});

t.test("an insecure or missing keyring is refused with a clear line", async (t) => {
  const cwd = t.testdir({});
  await run(["keys", "init", "--keyring", "ring"], { cwd });
  chmodSync(path.join(cwd, "ring"), 0o755);
  const open = await run(["keys", "list", "--keyring", "ring"], { cwd });
  t.equal(open.code, 2);
  t.match(open.stderr, /^swarm-policy: keyring directory \S+ring has mode 0755: it must not be accessible by group or others \(chmod 700 \S+\)\n$/);
  const none = await run(["keys", "list"], { cwd });
  t.equal(none.stderr, "swarm-policy: no keyring: pass --keyring DIR or set SWARM_POLICY_KEYRING\n");
  t.equal(none.code, 2);
  t.match((await run(["keys", "list", "--keyring", "nowhere"], { cwd })).stderr, /does not exist/);
});

t.test("protected keyrings: passphrase file or variable, unlock key variable", async (t) => {
  const cwd = t.testdir({ pass: "open sesame\n" });
  chmodSync(path.join(cwd, "pass"), 0o600);
  const init = await run(["keys", "init", "--keyring", "ring", "--protect", "passphrase", "--passphrase-file", "pass", "--scrypt-log-n", "10"], { cwd });
  t.equal(init.code, 0, init.stderr);
  t.match(init.stdout, /protection passphrase/);
  const locked = await run(["keys", "list", "--keyring", "ring"], { cwd });
  t.equal(locked.code, 2);
  t.match(locked.stderr, /protected by a passphrase and none was given \(set SWARM_POLICY_PASSPHRASE or pass --passphrase-file/);
  t.equal((await run(["keys", "rotate", "--keyring", "ring"], { cwd, env: { SWARM_POLICY_PASSPHRASE: "open sesame" } })).code, 0);
  const wrong = await run(["keys", "list", "--keyring", "ring"], { cwd, env: { SWARM_POLICY_PASSPHRASE: "guess" } });
  t.match(wrong.stderr, /wrong passphrase for keyring/);
  t.equal((await run(["keys", "init", "--keyring", "r2", "--protect", "passphrase"], { cwd })).code, 2, "no passphrase given");

  const key = Buffer.alloc(32, 9).toString("base64");
  const made = await run(["keys", "init", "--keyring", "r3", "--protect", "env"], { cwd, env: { SWARM_POLICY_KEYRING_KEY: key } });
  t.equal(made.code, 0, made.stderr);
  t.equal((await run(["keys", "list", "--keyring", "r3"], { cwd, env: { SWARM_POLICY_KEYRING_KEY: key } })).code, 0);
  const badKey = await run(["keys", "list", "--keyring", "r3"], { cwd, env: { SWARM_POLICY_KEYRING_KEY: "c2hvcnQ=" } });
  t.equal(badKey.code, 2);
  t.match(badKey.stderr, /SWARM_POLICY_KEYRING_KEY must hold 32 bytes/);
  t.notMatch(badKey.stderr, /c2hvcnQ/);
});

t.test("no key material in any output", async (t) => {
  const cwd = t.testdir({});
  const outputs: string[] = [];
  for (const args of [["init"], ["rotate"], ["list", "-f", "json"], ["list"], ["retire", "2"], ["retire", "1", "-f", "json"]]) {
    const r = await run(["keys", args[0]!, "--keyring", "ring", ...args.slice(1)], { cwd });
    outputs.push(r.stdout, r.stderr);
  }
  const material = keyMaterial(path.join(cwd, "ring"));
  t.equal(material.length, 1, "the primary's key is on disk");
  const hex = material.map((k) => Buffer.from(k, "base64").toString("hex"));
  t.notOk(outputs.some((o) => [...material, ...hex].some((k) => o.includes(k))));
  writeFileSync(path.join(cwd, "unused"), "");
});
