import t from "tap";
import path from "node:path";
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, lstatSync, writeFileSync } from "node:fs";
import { AtomicFile, OutputIsSymlinkError, OutputNotRegularFileError, writeFileAtomic } from "../../src/runtime/atomic-file.js";
import { execFileSync } from "node:child_process";

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

t.test("followSymlinks writes through a symlink, which stays a symlink", async (t) => {
  const dir = t.testdir({ real: { "a.policy": "old\n" } });
  const link = path.join(dir, "link.policy");
  symlinkSync(path.join(dir, "real/a.policy"), link);
  await writeFileAtomic(link, "new\n", { followSymlinks: true });
  t.ok(lstatSync(link).isSymbolicLink());
  t.equal(readFileSync(path.join(dir, "real/a.policy"), "utf8"), "new\n");
});

t.test("by default a target that is a symlink is refused and nothing is written", async (t) => {
  const dir = t.testdir({ elsewhere: { victim: "precious\n" }, out: {} });
  const link = path.join(dir, "out", "plain");
  symlinkSync(path.join(dir, "elsewhere/victim"), link);
  for (const options of [{}, { mode: 0o600 }, { exclusive: true }]) {
    await t.rejects(writeFileAtomic(link, "secret", options), { name: "OutputIsSymlinkError", code: "output-is-symlink", path: link });
    await t.rejects(AtomicFile.create(link, options), OutputIsSymlinkError);
  }
  const dangling = path.join(dir, "out", "dangling");
  symlinkSync(path.join(dir, "elsewhere/absent"), dangling);
  await t.rejects(writeFileAtomic(dangling, "secret"), OutputIsSymlinkError);
  t.equal(readFileSync(path.join(dir, "elsewhere/victim"), "utf8"), "precious\n");
  t.same(readdirSync(path.join(dir, "elsewhere")), ["victim"]);
  t.same(readdirSync(path.join(dir, "out")).sort(), ["dangling", "plain"], "no temp file");
});

t.test("a symlink planted after create() is replaced by commit(), not followed", async (t) => {
  // The race the lstat check cannot close: rename(2) replaces the link itself.
  const dir = t.testdir({ elsewhere: { victim: "precious\n" }, out: {} });
  const file = path.join(dir, "out", "plain");
  const out = await AtomicFile.create(file, { mode: 0o600 });
  await out.write("secret");
  symlinkSync(path.join(dir, "elsewhere/victim"), file);
  await out.commit();
  t.notOk(lstatSync(file).isSymbolicLink(), "the name is now the file, not a link");
  t.equal(readFileSync(file, "utf8"), "secret");
  t.equal(readFileSync(path.join(dir, "elsewhere/victim"), "utf8"), "precious\n", "the link's target is unchanged");
  t.same(readdirSync(path.join(dir, "out")), ["plain"]);
});

t.test("exclusive creation fails on a symlink planted after create()", async (t) => {
  const dir = t.testdir({ elsewhere: {}, out: {} });
  const file = path.join(dir, "out", "key");
  const out = await AtomicFile.create(file, { mode: 0o600, exclusive: true });
  await out.write("secret");
  symlinkSync(path.join(dir, "elsewhere/absent"), file);
  await t.rejects(out.commit(), { code: "EEXIST" });
  t.same(readdirSync(path.join(dir, "elsewhere")), [], "the dangling link's target was not created");
  t.same(readdirSync(path.join(dir, "out")), ["key"], "only the link; no temp file");
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

t.test("an explicit mode is applied exactly, whatever the umask", async (t) => {
  const dir = t.testdir({});
  const file = path.join(dir, "key");
  const old = process.umask(0o000);
  try {
    await writeFileAtomic(file, new Uint8Array([1, 2, 3]), { mode: 0o600 });
  } finally {
    process.umask(old);
  }
  t.equal(statSync(file).mode & 0o777, 0o600);
  t.same([...readFileSync(file)], [1, 2, 3]);
});

t.test("exclusive creation refuses to replace an existing file", async (t) => {
  const dir = t.testdir({ taken: "keep me" });
  const file = path.join(dir, "taken");
  await t.rejects(writeFileAtomic(file, "new", { exclusive: true }), { code: "EEXIST" });
  t.equal(readFileSync(file, "utf8"), "keep me");
  t.same(readdirSync(dir), ["taken"], "the temp file is gone");
  await writeFileAtomic(path.join(dir, "fresh"), "x", { exclusive: true });
  t.equal(readFileSync(path.join(dir, "fresh"), "utf8"), "x");
});

t.test("a streamed file is invisible until commit and gone after abort", async (t) => {
  const dir = t.testdir({});
  const target = path.join(dir, "out.bin");
  const out = await AtomicFile.create(target, { mode: 0o640 });
  await out.write(new Uint8Array(1000));
  await out.write("tail");
  t.equal(out.written, 1004);
  t.same(readdirSync(dir).filter((f) => !f.startsWith(".")), [], "nothing at the target yet");
  await out.commit();
  t.equal(statSync(target).size, 1004);
  t.equal(statSync(target).mode & 0o777, 0o640);
  await t.rejects(out.commit(), /already committed/);

  writeFileSync(target, "old");
  const failed = await AtomicFile.create(target);
  await failed.write("partial");
  await failed.abort();
  await failed.abort();
  t.equal(readFileSync(target, "utf8"), "old", "the old content stays");
  t.same(readdirSync(dir), ["out.bin"], "no temp file left");
  await t.rejects(failed.write("more"), /closed/);
});

t.test("a target that is a device, a FIFO or a directory is refused before anything is written, and stays what it was", async (t) => {
  const dir = t.testdir({ sub: {} });
  const targets: Array<[string, () => void, (p: string) => boolean, string]> = [
    ["fifo", () => execFileSync("mkfifo", [path.join(dir, "fifo")]), (p) => lstatSync(p).isFIFO(), "a FIFO"],
    ["sub", () => undefined, (p) => lstatSync(p).isDirectory(), "a directory"],
  ];
  // As root, renaming over /dev/null made it a regular 0600 file holding the plaintext.
  if (process.getuid?.() === 0) targets.push(["null", () => execFileSync("mknod", ["-m", "666", path.join(dir, "null"), "c", "1", "3"]), (p) => lstatSync(p).isCharacterDevice(), "a character device"]);
  for (const [name, make, still, what] of targets) {
    make();
    const target = path.join(dir, name);
    for (const options of [{ mode: 0o600 }, {}, { exclusive: true }, { followSymlinks: true }]) {
      await t.rejects(writeFileAtomic(target, "plaintext\n", options), { name: "OutputNotRegularFileError", code: "output-not-regular-file", path: target, message: `${target} is ${what}: refusing to replace it (name a regular file)` }, `${name} ${JSON.stringify(options)}`);
      t.ok(still(target), `${name} is still ${what}`);
    }
  }
  t.same(readdirSync(dir).filter((n) => n.startsWith(".")), [], "no temporary file left");
  t.ok(new OutputNotRegularFileError("x", "a FIFO") instanceof Error);
});

/** The pid of a process that has exited (run and waited for). */
function deadPid(): number {
  return Number(execFileSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }));
}

t.test("temporary files of the target left by a killed process go at the next write; others stay", async (t) => {
  const dir = t.testdir({ "state.json": "old\n", "other.json": "x\n" });
  const dead = deadPid();
  const names = {
    deadOwner: `.state.json.${dead}.0123456789ab.tmp`,
    ourPidEarlier: `.state.json.${process.pid}.0123456789ab.tmp`, // an earlier process with our pid (a restarted container)
    liveOwner: `.state.json.${process.ppid}.0123456789ab.tmp`, // a writer still running
    otherTarget: `.other.json.${dead}.0123456789ab.tmp`,
    notATemp: `.state.json.${dead}.notours.tmp`,
  };
  for (const n of Object.values(names)) writeFileSync(path.join(dir, n), "partial");
  await writeFileAtomic(path.join(dir, "state.json"), "new\n");
  t.equal(readFileSync(path.join(dir, "state.json"), "utf8"), "new\n");
  t.same(readdirSync(dir).sort(), [names.notATemp, names.otherTarget, names.liveOwner, "other.json", "state.json"].sort());
});

t.test("a sweep never takes the temporary file of a write in flight in this process", async (t) => {
  const dir = t.testdir({});
  const target = path.join(dir, "f.json");
  const first = await AtomicFile.create(target);
  await first.write("one\n");
  await writeFileAtomic(target, "two\n"); // sweeps f.json's temporary files
  await first.commit();
  t.equal(readFileSync(target, "utf8"), "one\n");
  t.same(readdirSync(dir), ["f.json"]);
});
