import t from "tap";
import path from "node:path";
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, lstatSync } from "node:fs";
import { writeFileAtomic } from "../../src/cli/atomic-write.js";

t.test("replaces the content and keeps the mode", async (t) => {
  const dir = t.testdir({ "a.policy": "old\n" });
  const file = path.join(dir, "a.policy");
  chmodSync(file, 0o600);
  await writeFileAtomic(file, "new\n");
  t.equal(readFileSync(file, "utf8"), "new\n");
  t.equal(statSync(file).mode & 0o777, 0o600);
  t.same(readdirSync(dir), ["a.policy"], "no temp file left");
});

t.test("creates a file that does not exist yet", async (t) => {
  const dir = t.testdir({});
  const file = path.join(dir, "new.policy");
  const umask = process.umask();
  await writeFileAtomic(file, "x\n");
  t.equal(readFileSync(file, "utf8"), "x\n");
  t.equal(statSync(file).mode & 0o777, 0o666 & ~umask, "the umask's default mode");
});

t.test("writes through a symlink, which stays a symlink", async (t) => {
  const dir = t.testdir({ real: { "a.policy": "old\n" } });
  const link = path.join(dir, "link.policy");
  symlinkSync(path.join(dir, "real/a.policy"), link);
  await writeFileAtomic(link, "new\n");
  t.ok(lstatSync(link).isSymbolicLink());
  t.equal(readFileSync(path.join(dir, "real/a.policy"), "utf8"), "new\n");
});

t.test("a failed replace removes its temp file and leaves the target alone", async (t) => {
  const dir = t.testdir({});
  // Renaming a file over a non-empty directory fails on every platform.
  const target = path.join(dir, "target");
  mkdirSync(path.join(target, "inside"), { recursive: true });
  await t.rejects(writeFileAtomic(target, "data"));
  t.same(readdirSync(dir), ["target"], "the temp file is gone");
  t.ok(statSync(target).isDirectory());
});
