/**
 * The lock file shared by the keyring's wrap counter and the MFA stores:
 * mutual exclusion must survive a crashed owner with several waiters, which
 * is when every waiter finds the same stale lock at once.
 */
import t from "tap";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { readdir, readFile, stat, utimes, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { BREAK_STALE_MS, withFileLock } from "../../src/runtime/file-lock.js";
import { signalAtMarker } from "../support/interrupts.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// A pid that cannot exist (above the kernel's pid_max) stands for a crashed owner.
const DEAD = "4194305 deadbeef\n";

t.test("many waiters on one dead owner's lock: never two holders at once", async (t) => {
  for (let round = 0; round < 25; round++) {
    const dir = t.testdir();
    const lock = path.join(dir, "x.lock");
    await writeFile(lock, DEAD);
    let inside = 0;
    let most = 0;
    let ran = 0;
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        withFileLock(
          lock,
          async () => {
            inside++;
            most = Math.max(most, inside);
            await sleep(1 + (i % 3));
            inside--;
            ran++;
          },
          { timeoutMs: 10_000 },
        ),
      ),
    );
    if (most !== 1) {
      t.fail(`round ${round}: ${most} holders at once`);
      return;
    }
    t.equal(ran, 8);
    t.same(await readdir(dir), [], "no lock, .break or aside file is left");
  }
  t.pass("25 rounds of 8 waiters, one holder at a time");
});

t.test("separate processes racing for dead locks: one holder at a time, no increment lost", async (t) => {
  const dir = t.testdir();
  const PROCS = 6;
  const ROUNDS = 12;
  for (let r = 0; r < ROUNDS; r++) {
    await writeFile(path.join(dir, `count-${r}`), "0");
    await writeFile(path.join(dir, `${r}.lock`), DEAD);
  }
  // Each round starts with a dead owner's lock; a barrier of arrival files makes every child
  // find it at the same moment, then each adds one under the lock with a read-sleep-write.
  const script = `
    import { readFile, writeFile, readdir } from "node:fs/promises";
    import { BREAK_STALE_MS, withFileLock } from ${JSON.stringify(path.join(repoRoot, "src/runtime/file-lock.ts"))};
    const dir = ${JSON.stringify(dir)};
    const me = process.argv.at(-1);
    for (let r = 0; r < ${ROUNDS}; r++) {
      await writeFile(dir + "/arrive-" + r + "-" + me, "");
      while ((await readdir(dir)).filter((f) => f.startsWith("arrive-" + r + "-")).length < ${PROCS}) await new Promise((ok) => setTimeout(ok, 1));
      await withFileLock(dir + "/" + r + ".lock", async () => {
        const n = Number(await readFile(dir + "/count-" + r, "utf8"));
        await new Promise((ok) => setTimeout(ok, 3));
        await writeFile(dir + "/count-" + r, String(n + 1));
      }, { timeoutMs: 60_000 });
    }`;
  const children = Array.from({ length: PROCS }, (_, i) =>
    new Promise<number | null>((resolve) => {
      const c = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script, String(i)], { cwd: repoRoot, stdio: ["ignore", "ignore", "inherit"] });
      c.on("exit", resolve);
    }),
  );
  t.same(await Promise.all(children), Array(PROCS).fill(0));
  const counts: string[] = [];
  for (let r = 0; r < ROUNDS; r++) counts.push(await readFile(path.join(dir, `count-${r}`), "utf8"));
  t.same(counts, Array(ROUNDS).fill(String(PROCS)), "every increment of every round kept");
});

t.test("a .break file left by a crash is cleared by age; a fresh one is respected", async (t) => {
  const dir = t.testdir();
  const lock = path.join(dir, "x.lock");
  await writeFile(lock, DEAD);
  await writeFile(`${lock}.break`, "");
  // Fresh .break: someone is breaking the lock right now, so we wait rather than break it too.
  await t.rejects(withFileLock(lock, async () => "ran", { timeoutMs: 150 }), { name: "FileLockTimeout" });
  t.equal(await readFile(lock, "utf8"), DEAD, "the stale lock is left to the breaker");
  const old = (Date.now() - BREAK_STALE_MS - 5_000) / 1000;
  await utimes(`${lock}.break`, old, old);
  t.equal(await withFileLock(lock, async () => "ran", { timeoutMs: 2000 }), "ran", "an abandoned .break is removed and the lock taken over");
  t.same(await readdir(dir), []);
});

t.test("a live owner's lock is never broken, however many wait", async (t) => {
  const dir = t.testdir();
  const lock = path.join(dir, "x.lock");
  await writeFile(lock, `${process.pid} live\n`);
  const before = await stat(lock);
  const results = await Promise.allSettled(Array.from({ length: 4 }, () => withFileLock(lock, async () => "ran", { timeoutMs: 100 })));
  t.same(results.map((r) => r.status), ["rejected", "rejected", "rejected", "rejected"]);
  t.equal(await readFile(lock, "utf8"), `${process.pid} live\n`);
  t.equal((await stat(lock)).ino, before.ino, "the very same file");
});

t.test("the wait is timed on a monotonic clock: a wall clock stepped back does not stretch it", async (t) => {
  t.setTimeout(10_000); // before: the wait lasted as long as the step back (here, for ever)
  const dir = t.testdir();
  const lock = path.join(dir, "x.lock");
  await writeFile(lock, `${process.pid} live\n`);
  const realNow = Date.now;
  let reads = 0;
  // Every read of the wall clock is a minute earlier than the one before (NTP stepping a clock back, again and again).
  Date.now = () => realNow() - ++reads * 60_000;
  try {
    await t.rejects(withFileLock(lock, async () => "ran", { timeoutMs: 100 }), { name: "FileLockTimeout" });
  } finally {
    Date.now = realNow;
  }
  t.equal(await readFile(lock, "utf8"), `${process.pid} live\n`, "the live lock is left alone");
});

t.test("a lock naming our own pid from an earlier incarnation (a restarted container is pid 1 again) is taken over", async (t) => {
  if (!existsSync("/proc/self/stat")) {
    t.pass("no /proc: a lock of our own pid is judged by age only");
    return;
  }
  const dir = t.testdir();
  const lock = path.join(dir, "x.lock");
  // This process's incarnation: boot id and start time (/proc/self/stat field 22).
  const stat22 = readFileSync("/proc/self/stat", "utf8");
  const start = stat22.slice(stat22.lastIndexOf(")") + 2).split(" ")[19]!;
  const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  const host = encodeURIComponent(hostname());
  const incarnation = `${boot}.${start}`;
  const ours = await withFileLock(lock, async () => readFile(lock, "utf8"));
  t.match(ours, new RegExp(`^${process.pid} [0-9a-f]{24} ${host} ${incarnation}\\n$`), "what a lock of this process holds");
  const earlier = `${process.pid} deadbeef ${host} ${boot}.${Number(start) + 1}\n`;
  await writeFile(lock, earlier); // fresh: only who wrote it makes it stale, not its age
  t.equal(await withFileLock(lock, async () => "ran", { timeoutMs: 2000 }), "ran", "taken over, not waited out");
  t.same(await readdir(dir), [], "released");

  // Our pid and our incarnation: another part of this very process holds it, so it is live.
  const live = `${process.pid} cafebabe ${host} ${incarnation}\n`;
  await writeFile(lock, live);
  await t.rejects(withFileLock(lock, async () => "ran", { timeoutMs: 100 }), { name: "FileLockTimeout" });
  t.equal(await readFile(lock, "utf8"), live, "left alone");
  // Our pid on another host (another container sharing the volume, its own pid 1): not ours to judge.
  const elsewhere = `${process.pid} cafebabe other-host ${boot}.${Number(start) + 1}\n`;
  await writeFile(lock, elsewhere);
  await t.rejects(withFileLock(lock, async () => "ran", { timeoutMs: 100 }), { name: "FileLockTimeout" });
  t.equal(await readFile(lock, "utf8"), elsewhere, "left alone");
});

t.test("a FIFO at the lock path times out as a held lock, without hanging", async (t) => {
  t.setTimeout(20_000); // reading a FIFO opened blocking would hang here
  const lock = path.join(t.testdir(), "x.lock");
  execFileSync("mkfifo", ["-m", "600", lock]);
  let ran = false;
  await t.rejects(withFileLock(lock, async () => void (ran = true), { timeoutMs: 200 }), { name: "FileLockTimeout" });
  t.notOk(ran);
});

t.test("a process killed (SIGKILL) while taking the lock leaves no lock that holds others off", async (t) => {
  const dir = t.testdir();
  const lock = path.join(dir, "state.json.lock");
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "--import",
      pathToFileURL(path.join(repoRoot, "test/support/hang-write-file.mjs")).href,
      "--input-type=module",
      "-e",
      `const { withFileLock } = await import(${JSON.stringify(pathToFileURL(path.join(repoRoot, "src/runtime/file-lock.ts")).href)});
       await withFileLock(${JSON.stringify(lock)}, async () => undefined);`,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const exited = new Promise((resolve) => child.on("exit", resolve));
  // Killed between creating its lock (or temporary) file and writing its line.
  await signalAtMarker(child, "writefile-hangs", "SIGKILL", "before taking the lock");
  await exited;
  // The default staleness (30 s) is far past this timeout: only an owner named and gone lets us in.
  let ran = false;
  await withFileLock(lock, async () => void (ran = true), { timeoutMs: 3000 });
  t.ok(ran, "the next process takes the lock");
  t.same(await readdir(dir), [], "neither the lock nor the killed process's temporary file stays");
});

t.test("on a file system without hard links the lock is created in place", async (t) => {
  const fsp = await import("node:fs/promises");
  const link = async () => {
    throw Object.assign(new Error("operation not permitted"), { code: "EPERM" });
  };
  const { withFileLock: lockNoLinks } = await t.mockImport<typeof import("../../src/runtime/file-lock.js")>("../../src/runtime/file-lock.js", {
    "node:fs/promises": { ...fsp, link },
  });
  const dir = t.testdir();
  const lock = path.join(dir, "x.lock");
  const seen = await lockNoLinks(lock, async () => readFile(lock, "utf8"));
  t.match(seen, new RegExp(`^${process.pid} [0-9a-f]{24} `), "the lock names its owner");
  t.same(await readdir(dir), [], "released, no temporary file");
});
