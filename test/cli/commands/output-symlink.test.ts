/**
 * An output path that is a symbolic link (planted, say, in /tmp by another
 * user) is refused by every verb that writes plaintext, ciphertext or keys:
 * exit 2, one line naming the path, the link's target untouched, and no
 * temporary file left anywhere. `fmt --write` still writes through a link
 * (test/cli/commands/fmt.test.ts).
 */
import t, { type Test } from "tap";
import path from "node:path";
import { lstatSync, readFileSync, readdirSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { run } from "../run.js";
import { Keyring } from "../../../src/index.js";

const POLICY = 'package t\nencryption "any" {\n  require aad ["tenant_id"]\n}\n';
const ATTRS = JSON.stringify({ tenant_id: "acme" });

async function setup(t: Test) {
  const root = t.testdir({ work: { "p.policy": POLICY, "in.bin": "attack at dawn\n" }, elsewhere: { victim: "precious\n" } });
  const cwd = path.join(root, "work");
  const victim = path.join(root, "elsewhere", "victim");
  await Keyring.create(path.join(cwd, "ring"));
  const enc = await run(["encrypt", "p.policy", "--keyring", "ring", "--attrs", ATTRS, "in.bin", "enc.spev"], { cwd });
  if (enc.code !== 0) throw new Error(enc.stderr);
  return { root, cwd, victim };
}

function assertUntouched(t: Test, root: string, cwd: string, victim: string, link: string, before: string[]) {
  t.equal(readFileSync(victim, "utf8"), "precious\n", "the link's target is unchanged");
  t.ok(lstatSync(path.join(cwd, link)).isSymbolicLink(), "the link is still a link");
  t.same(readdirSync(path.join(root, "elsewhere")), ["victim"], "nothing written beside the target");
  t.same(readdirSync(cwd).sort(), before, "no temporary file beside the link");
}

t.test("decrypt refuses an OUT that is a symlink", async (t) => {
  const { root, cwd, victim } = await setup(t);
  symlinkSync(victim, path.join(cwd, "out.bin"));
  const before = readdirSync(cwd).sort();
  const r = await run(["decrypt", "--keyring", "ring", "enc.spev", "out.bin"], { cwd });
  t.equal(r.code, 2, r.stderr);
  t.match(r.stderr, /^swarm-policy: .*out\.bin is a symbolic link: refusing to write through it/);
  t.equal(r.stderr.split("\n").length, 2, "one line");
  assertUntouched(t, root, cwd, victim, "out.bin", before);
});

t.test("a dangling symlink at OUT is refused too (it would create the target)", async (t) => {
  const { root, cwd } = await setup(t);
  const absent = path.join(root, "elsewhere", "new-file");
  symlinkSync(absent, path.join(cwd, "out.bin"));
  const r = await run(["decrypt", "--keyring", "ring", "enc.spev", "out.bin"], { cwd });
  t.equal(r.code, 2, r.stderr);
  t.match(r.stderr, /out\.bin is a symbolic link/);
  t.same(readdirSync(path.join(root, "elsewhere")), ["victim"], "the link's target was not created");
});

t.test("encrypt refuses an OUT that is a symlink", async (t) => {
  const { root, cwd, victim } = await setup(t);
  symlinkSync(victim, path.join(cwd, "out.spev"));
  const before = readdirSync(cwd).sort();
  const r = await run(["encrypt", "p.policy", "--keyring", "ring", "--attrs", ATTRS, "in.bin", "out.spev"], { cwd });
  t.equal(r.code, 2, r.stderr);
  t.match(r.stderr, /^swarm-policy: .*out\.spev is a symbolic link: refusing to write through it/);
  assertUntouched(t, root, cwd, victim, "out.spev", before);
});

t.test("rewrap refuses a FILE that is a symlink, and still processes the others", async (t) => {
  const { root, cwd } = await setup(t);
  // The link points at a real stream elsewhere: rewrap must not replace it through the link.
  const target = path.join(root, "elsewhere", "victim");
  writeFileSync(target, readFileSync(path.join(cwd, "enc.spev")));
  const original = readFileSync(target);
  symlinkSync(target, path.join(cwd, "link.spev"));
  t.equal((await run(["keys", "rotate", "--keyring", "ring"], { cwd })).code, 0);
  const before = readdirSync(cwd).sort();
  const r = await run(["rewrap", "--keyring", "ring", "link.spev", "enc.spev"], { cwd });
  t.equal(r.code, 2, r.stderr);
  t.match(r.stderr, /^swarm-policy: link\.spev: .*link\.spev is a symbolic link: refusing to write through it/);
  t.match(r.stdout, /enc\.spev: KEK "kek" version 1 -> "kek" version 2/, "the other file was re-wrapped");
  t.ok(readFileSync(target).equals(original), "the link's target is unchanged");
  t.ok(lstatSync(path.join(cwd, "link.spev")).isSymbolicLink());
  t.same(readdirSync(path.join(root, "elsewhere")), ["victim"]);
  t.same(readdirSync(cwd).sort(), before, "no temporary file left");
});

t.test("keyring state: a usage.json that is a symlink is refused, and encrypt writes nothing", async (t) => {
  const { root, cwd } = await setup(t);
  // A valid counter file moved elsewhere and linked back: the keyring neither reads nor writes through the link.
  const target = path.join(root, "elsewhere", "usage.json");
  renameSync(path.join(cwd, "ring", "usage.json"), target);
  symlinkSync(target, path.join(cwd, "ring", "usage.json"));
  const original = readFileSync(target);
  const before = readdirSync(cwd).sort();
  const r = await run(["encrypt", "p.policy", "--keyring", "ring", "--attrs", ATTRS, "in.bin", "out.spev"], { cwd });
  t.equal(r.code, 2, r.stderr);
  t.match(r.stderr, /ring\/usage\.json is a symbolic link: it must be a regular file in its own directory/);
  t.ok(readFileSync(target).equals(original), "the link's target is unchanged");
  t.same(readdirSync(path.join(root, "elsewhere")).sort(), ["usage.json", "victim"]);
  t.same(readdirSync(cwd).sort(), before, "no output file");
  t.same(readdirSync(path.join(cwd, "ring")).sort(), ["kek.v1.kek", "keyring.json", "usage.json"], "no temporary file in the keyring");
});
