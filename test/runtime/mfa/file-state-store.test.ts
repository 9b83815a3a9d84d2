/**
 * The file-backed replay and lockout store: state survives the store object
 * (one process per verification), the file is 0600 and replaced atomically,
 * expired records are pruned so the file stays small, concurrent claims of
 * one step let exactly one through (also across processes), and a damaged
 * or exposed file is an error, never a fresh start.
 */
import t from "tap";
import { execFileSync, spawn } from "node:child_process";
import { chmod, readdir, readFile, rename, rm, stat, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { FileMfaStateStore, MfaStateError, MFA_STATE_FILE } from "../../../src/runtime/mfa/file-state-store.js";
import { withFileLock, FileLockTimeout } from "../../../src/runtime/file-lock.js";
import { afterFailure, DEFAULT_LOCKOUT_POLICY } from "../../../src/runtime/mfa/lockout.js";
import { signalAtMarker } from "../../support/interrupts.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const NOW = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const step = Math.floor(NOW / 1000 / 30);

t.test("records persist across store objects; 0600; no temporary files left", async (t) => {
  const dir = path.join(t.testdir(), "mfa");
  const a = new FileMfaStateStore(dir, { now: () => NOW });
  t.equal(await a.claim("alice", step, (step + 2) * 30), true);
  t.equal(await a.claim("alice", step, (step + 2) * 30), false);
  await a.update("alice", (s) => afterFailure(s, NOW, DEFAULT_LOCKOUT_POLICY));
  const b = new FileMfaStateStore(dir, { now: () => NOW + 1000 });
  t.equal(await b.claim("alice", step, (step + 2) * 30), false, "a new store object sees the used step");
  t.equal(await b.claim("bob", step, (step + 2) * 30), true);
  t.equal((await b.get("alice"))?.failures, 1);
  t.equal(await b.get("bob"), undefined);
  t.equal((await stat(path.join(dir, MFA_STATE_FILE))).mode & 0o777, 0o600);
  t.same((await readdir(dir)).sort(), [MFA_STATE_FILE], "no temp or lock files left behind");
  t.equal((await stat(dir)).mode & 0o777, 0o700);
  await b.update("alice", () => undefined);
  t.equal(await b.get("alice"), undefined, "update to undefined deletes");
  await b.forgetReplay("alice");
  t.equal(await b.claim("alice", step, (step + 2) * 30), true, "forgetReplay forgets the user's steps");
});

t.test("pruned on every write: the file stays bounded", async (t) => {
  const dir = path.join(t.testdir(), "mfa");
  let now = NOW;
  const store = new FileMfaStateStore(dir, { now: () => now });
  for (let i = 0; i < 200; i++) {
    now = NOW + i * 30_000;
    const s = Math.floor(now / 30_000);
    await store.claim("alice", s, (s + 2) * 30);
    await store.update(`user-${i}`, (st) => afterFailure(st, now, { ...DEFAULT_LOCKOUT_POLICY, forgetAfterMs: 600_000 }));
  }
  const size = await store.size();
  t.ok(size.replay <= 3, `at most three live steps, got ${size.replay}`);
  t.ok(size.lockout <= 21, `only failures from the last 10 minutes, got ${size.lockout}`);
  t.ok((await readFile(path.join(dir, MFA_STATE_FILE))).length < 5000);
});

t.test("concurrent claims of one step: exactly one wins (one process, many store objects)", async (t) => {
  const dir = path.join(t.testdir(), "mfa");
  const stores = Array.from({ length: 8 }, () => new FileMfaStateStore(dir, { now: () => NOW }));
  const results = await Promise.all(stores.map((s) => s.claim("alice", step, (step + 2) * 30)));
  t.equal(results.filter(Boolean).length, 1);
  const failures = await Promise.all(stores.map((s) => s.update("bob", (st) => afterFailure(st, NOW, DEFAULT_LOCKOUT_POLICY))));
  t.same(failures.map((f) => f!.failures).sort((x, y) => x - y), [1, 2, 3, 4, 5, 6, 7, 8], "every failure counted once");
});

t.test("a burst in one process (a server): every update counts, none times out on the lock file", async (t) => {
  const dir = path.join(t.testdir(), "mfa");
  const store = new FileMfaStateStore(dir, { now: () => NOW, timeoutMs: 2000 });
  const n = 150;
  const results = await Promise.allSettled(Array.from({ length: n }, () => store.update("bob", (st) => afterFailure(st, NOW, DEFAULT_LOCKOUT_POLICY))));
  t.same(results.filter((r) => r.status === "rejected"), [], "no MfaStateError");
  t.equal((await store.get("bob"))?.failures, n);
});

t.test("concurrent claims across processes: exactly one wins", async (t) => {
  const dir = path.join(t.testdir(), "mfa");
  const script = `
    import { FileMfaStateStore } from ${JSON.stringify(path.join(repoRoot, "src/runtime/mfa/file-state-store.ts"))};
    const ok = await new FileMfaStateStore(process.argv[1], { now: () => ${NOW} }).claim("alice", ${step}, ${(step + 2) * 30});
    process.stdout.write(ok ? "won" : "lost");
  `;
  const runs = Array.from(
    { length: 4 },
    () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script, dir], { cwd: repoRoot });
        let out = "";
        let err = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (err += d));
        child.on("error", reject);
        child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`child exited ${code}: ${err}`))));
      }),
  );
  const outs = await Promise.all(runs);
  t.same(outs.sort(), ["lost", "lost", "lost", "won"]);
});

t.test("fail closed: a damaged or exposed state file is an error", async (t) => {
  const cases: Array<[string, string]> = [
    ["not JSON", "{"],
    ["another format", JSON.stringify({ format: "x", version: 1, replay: {}, lockout: {} })],
    ["a future version", JSON.stringify({ format: "swarm-policy-mfa-state", version: 2, replay: {}, lockout: {} })],
    ["replay not an object", JSON.stringify({ format: "swarm-policy-mfa-state", version: 1, replay: [], lockout: {} })],
    ["bad replay entry", JSON.stringify({ format: "swarm-policy-mfa-state", version: 1, replay: { alice: [[1]] }, lockout: {} })],
    ["bad lockout entry", JSON.stringify({ format: "swarm-policy-mfa-state", version: 1, replay: {}, lockout: { alice: { failures: "5" } } })],
  ];
  for (const [what, text] of cases) {
    const dir = path.join(t.testdir(), "mfa");
    const store = new FileMfaStateStore(dir, { now: () => NOW });
    await store.claim("seed", step, (step + 2) * 30); // creates the directory and file
    await writeFile(path.join(dir, MFA_STATE_FILE), text, { mode: 0o600 });
    await t.rejects(store.claim("alice", step, (step + 2) * 30), MfaStateError, `${what}: claim`);
    await t.rejects(store.update("alice", () => undefined), MfaStateError, `${what}: update`);
    t.equal(await readFile(path.join(dir, MFA_STATE_FILE), "utf8"), text, `${what}: left as it was`);
  }
  if (process.platform !== "win32") {
    const dir = path.join(t.testdir(), "mfa");
    const store = new FileMfaStateStore(dir, { now: () => NOW });
    await store.claim("alice", step, (step + 2) * 30);
    await chmod(path.join(dir, MFA_STATE_FILE), 0o644);
    await t.rejects(store.claim("bob", step, (step + 2) * 30), { name: "MfaStateError", message: /mode 0644: it must not be accessible by group or others/ });
  }
});

t.test("the lock: a dead owner's lock is taken over; a live one times out", async (t) => {
  const dir = t.testdir();
  const lock = path.join(dir, "x.lock");
  // A pid that cannot exist (above the kernel's pid_max) stands for a crashed owner.
  await writeFile(lock, "4194305 deadbeef\n");
  t.equal(await withFileLock(lock, async () => "ran", { timeoutMs: 2000 }), "ran");
  t.same(await readdir(dir), [], "the stale lock and ours are gone");

  await writeFile(lock, `${process.pid} someone-else\n`);
  await t.rejects(withFileLock(lock, async () => "ran", { timeoutMs: 100 }), FileLockTimeout);
  t.equal(await readFile(lock, "utf8"), `${process.pid} someone-else\n`, "a live owner's lock is left alone");
  t.equal(await withFileLock(lock, async () => "ran", { timeoutMs: 2000, staleMs: 0 }), "ran", "but taken over once older than staleMs");

  const store = new FileMfaStateStore(path.join(dir, "mfa"), { now: () => NOW, timeoutMs: 50 });
  await store.claim("x", step, (step + 2) * 30);
  await writeFile(path.join(dir, "mfa", `${MFA_STATE_FILE}.lock`), `${process.pid} held\n`);
  await t.rejects(store.claim("alice", step, (step + 2) * 30), { name: "MfaStateError", message: /locked by another process/ });
});

t.test("a state file that is a FIFO or a symbolic link is an error, without hanging", async (t) => {
  t.setTimeout(20_000); // a FIFO opened blocking would hang here
  const dir = path.join(t.testdir(), "mfa");
  const store = new FileMfaStateStore(dir, { now: () => NOW });
  t.equal(await store.claim("alice", step, (step + 2) * 30), true);
  await rename(path.join(dir, MFA_STATE_FILE), path.join(dir, "elsewhere.json"));
  execFileSync("mkfifo", ["-m", "600", path.join(dir, MFA_STATE_FILE)]);
  await t.rejects(store.claim("alice", step, (step + 2) * 30), { name: "MfaStateError", message: /is not a regular file/ });
  await rm(path.join(dir, MFA_STATE_FILE));
  await symlink(path.join(dir, "elsewhere.json"), path.join(dir, MFA_STATE_FILE));
  await t.rejects(store.claim("alice", step, (step + 2) * 30), { name: "MfaStateError", message: /is a symbolic link/ });
});

t.test("killed (SIGKILL) while writing its claim: the next process starts at once, nothing acknowledged is lost, nothing is left behind", async (t) => {
  const dir = path.join(t.testdir(), "mfa");
  const first = new FileMfaStateStore(dir, { now: () => NOW });
  t.equal(await first.claim("alice", step, (step + 2) * 30), true, "a claim acknowledged before the kill");
  // A process whose second claim hangs in the state file's fsync (temporary file written, lock held), then is killed.
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "--import",
      pathToFileURL(path.join(repoRoot, "test/support/hang-fsync.mjs")).href,
      "--input-type=module",
      "-e",
      `const { FileMfaStateStore } = await import(${JSON.stringify(pathToFileURL(path.join(repoRoot, "src/runtime/mfa/file-state-store.ts")).href)});
       await new FileMfaStateStore(${JSON.stringify(dir)}, { now: () => ${NOW} }).claim("alice", ${step + 1}, ${(step + 3) * 30});
       process.stdout.write("acknowledged");`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise((resolve) => child.on("exit", resolve));
  await signalAtMarker(child, "fsync-hangs", "SIGKILL", "before the write");
  await exited;
  t.equal(out, "", "the killed claim was never acknowledged");
  t.ok((await readdir(dir)).some((f) => f.startsWith(`.${MFA_STATE_FILE}.`)), "it left its temporary file");
  // Its lock names a dead owner (taken over at once, well before the 30 s staleness), its temporary file is not the state.
  const next = new FileMfaStateStore(dir, { now: () => NOW, timeoutMs: 3000 });
  t.equal(await next.claim("alice", step, (step + 2) * 30), false, "the code acknowledged before the kill stays used");
  t.equal(await next.claim("alice", step + 1, (step + 3) * 30), true, "the killed claim was never made");
  t.same(await readdir(dir), [MFA_STATE_FILE], "no lock and no temporary file stays");
});
