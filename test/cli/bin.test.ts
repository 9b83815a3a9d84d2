/**
 * One smoke test of the built executable: the bin entry, the shebang, verb
 * discovery from dist/cli/commands/*.js and process.exitCode. Everything else
 * is tested in-process through main().
 */
import t from "tap";
import path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const bin = path.join(repoRoot, "dist/cli/bin.js");

/** Newest modification time under a directory. */
function newest(dir: string): number {
  let max = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    max = Math.max(max, e.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }
  return max;
}

t.before(() => {
  // Build when dist is missing or older than the sources (CI's `npm ci` has
  // just built it). tsc still emits when some file has type errors, so look
  // for the output rather than at tsc's exit code.
  if (!existsSync(bin) || statSync(bin).mtimeMs < newest(path.join(repoRoot, "src"))) {
    spawnSync(process.execPath, [path.join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], {
      cwd: repoRoot,
      stdio: "ignore",
    });
    // The rest of `npm run build`.
    spawnSync(process.execPath, [path.join(repoRoot, "scripts/bin-mode.mjs")], { cwd: repoRoot, stdio: "ignore" });
  }
  if (!existsSync(bin)) throw new Error(`building did not produce ${bin}`);
});

t.test("node dist/cli/bin.js --help", async (t) => {
  const r = spawnSync(process.execPath, [bin, "--help"], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^Usage: swarm-policy /);
  for (const verb of ["check", "lint", "fmt"]) t.match(r.stdout, new RegExp(`\\n  ${verb} `), verb);
});

t.test("a missing path exits 2 from the real process, without a stack trace", async (t) => {
  const cwd = t.testdir({});
  const r = spawnSync(process.execPath, [bin, "check", "missing.policy"], { cwd, encoding: "utf8" });
  t.equal(r.status, 2);
  t.equal(r.stderr, "swarm-policy: cannot read missing.policy: no such file or directory\n");
});

t.test("a reader that goes away early (| head) is no crash", async (t) => {
  // Far more output than a pipe buffers, so writes continue after the reader is gone.
  const files: Record<string, string> = {};
  for (let i = 0; i < 500; i++) files[`f${i}.policy`] = `allow "r" {\n  when pricipal.a == 1 and pricipal.b == 2 and pricipal.c == 3\n}\n`;
  const cwd = t.testdir(files);
  const child = spawn(process.execPath, [bin, "check", "."], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  child.stdout.once("data", () => child.stdout.destroy());
  const status = await new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  t.equal(status, 1, "the policy errors' exit code, not a crash");
  t.equal(stderr, "", "no EPIPE stack trace");
});

t.test("a stderr whose reader is gone (2>&1 | head) is no crash and keeps the verb's exit code", async (t) => {
  // detect writes its summary on stderr after the alerts: with stderr's pipe closed that write
  // fails with EPIPE, which must not become an uncaught exception (exit 1, "alerts found").
  const cwd = t.testdir({
    "d.policy": 'detect "any" {\n  where event.action == "login"\n}\n',
    "events.jsonl": '{"@timestamp":"2026-03-10T09:00:00Z","event":{"action":"login"}}\n',
  });
  for (const [args, want] of [
    [["detect", "d.policy", "--events", "events.jsonl"], 0],
    [["check", "missing.policy"], 2],
  ] as const) {
    const child = spawn(process.execPath, [bin, ...args], { cwd, stdio: ["ignore", "ignore", "pipe"] });
    child.stderr.destroy(); // the reader is gone before anything is written
    const status = await new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    t.equal(status, want, `${args[0]}: its own exit code`);
  }
});

t.test("detect on a stream that does not end stops once stdout's reader is gone (tail -f | detect | head -1)", async (t) => {
  const cwd = t.testdir({ "d.policy": 'detect "any" {\n  where event.action == "login"\n}\n' });
  const child = spawn(process.execPath, [bin, "detect", "d.policy", "--events", "-"], { cwd, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  child.stdin.on("error", () => {}); // EPIPE once detect has stopped reading
  let sec = 0;
  const event = () => JSON.stringify({ "@timestamp": new Date(Date.UTC(2026, 2, 10) + 1000 * sec++).toISOString(), event: { action: "login" } }) + "\n";
  // Standard input stays open, as `tail -f` keeps it: events keep coming until detect ends.
  const feed = setInterval(() => child.stdin.writable && child.stdin.write(event().repeat(100)), 5);
  child.stdout.once("data", () => child.stdout.destroy());
  const status = await new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  clearInterval(feed);
  t.equal(status, 0, stderr);
  t.match(stderr, /^stopped reading events: standard output was closed$/m);
  t.notMatch(stderr, /EPIPE|Error/);
});

t.test("npm start's command serves the bundled policies on embedded defaults", async (t) => {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { scripts: Record<string, string> };
  const argv = pkg.scripts.start!.split(" ");
  t.same(argv.slice(0, 2), ["node", "dist/cli/bin.js"], "npm start runs the built CLI");
  // The script as written, on a free port instead of 8181 (which another process may hold).
  const child = spawn(process.execPath, [...argv.slice(1), "--port", "0"], { cwd: repoRoot, stdio: ["ignore", "ignore", "pipe"] });
  t.teardown(() => void child.kill("SIGKILL"));
  const url = await new Promise<string>((resolve, reject) => {
    let buf = "";
    child.stderr.setEncoding("utf8").on("data", (s: string) => {
      buf += s;
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(buf);
      if (m) resolve(m[1]!);
    });
    child.on("exit", (code) => reject(new Error(`serve exited ${code} before listening: ${buf}`)));
  });
  t.equal((await fetch(`${url}/readyz`)).status, 200, "ready: the bundled policy set loads without errors");
  const policies = (await (await fetch(`${url}/v1/policies`)).json()) as { served: { rules: string[] } | null };
  const rules = policies.served?.rules ?? [];
  t.ok(rules.length > 10, `${rules.length} rules loaded`);
  const denied = await fetch(`${url}/v1/evaluate`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ kind: "access", principal: { id: "nobody" }, action: "node.restart", resource: { type: "node", id: "n1" } }),
  });
  const decision = (await denied.json()) as { decision?: string; code?: string };
  t.not(decision.decision, "allow", "an unknown principal is never allowed (fail closed)");
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  child.kill("SIGTERM");
  t.equal(await exited, 0, "SIGTERM stops it cleanly");
});

t.test("the README's first command, after `npm ci`, runs as written and passes", async (t) => {
  const readme = readFileSync(path.join(repoRoot, "README.md"), "utf8");
  const first = /```sh\n([^\n]+)\n/.exec(readme)?.[1];
  t.ok(first?.startsWith("npm ci && "), "the README opens with `npm ci && ...`");
  // `npm ci` has run (CI runs it before the tests); the rest as written, its comment dropped.
  const rest = first!.slice("npm ci && ".length).replace(/\s+#.*$/, "");
  t.ok(statSync(bin).mode & 0o100, "dist/cli/bin.js is executable, as `npx swarm-policy` needs");
  // As a user's shell has it: without the npm_* variables and node_modules/.bin entries that
  // `npm test` puts in the environment (under them npx finds the bin another way).
  const env: Record<string, string | undefined> = { NO_COLOR: "1" };
  for (const [k, v] of Object.entries(process.env)) if (!k.toLowerCase().startsWith("npm_")) env[k] = v;
  env.PATH = (process.env.PATH ?? "").split(path.delimiter).filter((d) => !d.includes(`node_modules${path.sep}.bin`)).join(path.delimiter);
  const r = spawnSync("sh", ["-c", rest], { cwd: repoRoot, encoding: "utf8", env });
  t.equal(r.status, 0, `${rest}\n${r.stdout.slice(-400)}${r.stderr.slice(-400)}`);
  t.match(r.stdout, /\n\d+ passed, 0 failed\n$/, "the test run's last line");
});
