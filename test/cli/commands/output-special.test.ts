/**
 * An output path that names a device (`decrypt IN /dev/null` to check that a
 * file opens), a FIFO or a directory is refused before anything is written:
 * exit 2, one line, and the path stays what it was. Renaming the finished
 * temporary file over it made /dev/null, for root, a regular 0600 file
 * holding the plaintext (and a FIFO a file), and a directory failed only
 * after the whole output was written.
 */
import t, { type Test } from "tap";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { lstatSync, readdirSync, type Stats } from "node:fs";
import { run } from "../run.js";
import { Keyring } from "../../../src/index.js";

const POLICY = 'package t\nencryption "any" {\n  require aad ["tenant_id"]\n}\n';
const ATTRS = JSON.stringify({ tenant_id: "acme" });

async function setup(t: Test) {
  const cwd = t.testdir({ "p.policy": POLICY, "in.bin": "attack at dawn\n", dir: {} });
  await Keyring.create(path.join(cwd, "ring"));
  const enc = await run(["encrypt", "p.policy", "--keyring", "ring", "--attrs", ATTRS, "in.bin", "enc.spev"], { cwd });
  if (enc.code !== 0) throw new Error(enc.stderr);
  execFileSync("mkfifo", [path.join(cwd, "fifo")]);
  const targets: Array<[string, string, (st: Stats) => boolean]> = [
    ["fifo", "a FIFO", (st) => st.isFIFO()],
    ["dir", "a directory", (st) => st.isDirectory()],
  ];
  // A null device of our own: the real /dev/null must not be put at risk by a failing test.
  if (process.getuid?.() === 0) {
    execFileSync("mknod", ["-m", "666", path.join(cwd, "null"), "c", "1", "3"]);
    targets.push(["null", "a character device", (st) => st.isCharacterDevice()]);
  }
  return { cwd, targets };
}

for (const [verb, args] of [
  ["decrypt", (out: string) => ["decrypt", "--keyring", "ring", "enc.spev", out]],
  ["encrypt", (out: string) => ["encrypt", "p.policy", "--keyring", "ring", "--attrs", ATTRS, "in.bin", out]],
  ["mesh keys gen --force", (out: string) => ["mesh", "keys", "gen", "--out", out, "--force"]],
] as const) {
  t.test(`${verb} refuses an OUT that is a device, a FIFO or a directory`, async (t) => {
    const { cwd, targets } = await setup(t);
    const before = readdirSync(cwd).sort();
    for (const [name, what, still] of targets) {
      const r = await run([...args(name)], { cwd });
      t.equal(r.code, 2, `${name}: ${r.stderr}`);
      // A directory is caught by the CLI's own up-front check (src/cli/output-path.ts) before the writer's.
      const want = name === "dir" ? /^swarm-policy: cannot write dir: is a directory\n$/ : new RegExp(`^swarm-policy: .*${name} is ${what}: refusing to replace it \\(name a regular file\\)\\n$`);
      t.match(r.stderr, want, name);
      t.ok(still(lstatSync(path.join(cwd, name))), `${name} is still ${what}`);
    }
    t.same(readdirSync(cwd).sort(), before, "no temporary file left");
  });
}
