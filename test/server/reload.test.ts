/**
 * Hot reload: good -> broken -> good with the file watcher, while a client
 * keeps asking for decisions. The broken set is never served: no decision
 * names its version, /v1/policies reports its diagnostics, the metrics count
 * the failure; the next good set is swapped in. Synchronised on the server's
 * "reload" events, never on sleeps.
 */
import t, { type Test } from "tap";
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { writeFileAtomic, type ReloadAttempt } from "../../src/index.js";
import { accessInput, BROKEN, call, nextReload, policyDir, POLICY, POLICY_V2, start, tempDir, testConfig } from "./harness.js";

t.test("good -> broken -> good: the broken set is never served", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  const file = path.join(dir, "a.policy");
  const { url, server, logs } = await start(t, [dir], { config: testConfig((c) => ((c.reload.watch = true), (c.reload.debounceMs = 20))) });
  const v1 = server.version!;
  t.match(v1, /^[0-9a-f]{64}$/);

  const attempts: ReloadAttempt[] = [];
  server.on("reload", (a: ReloadAttempt) => attempts.push(a));

  // A client asking all the time, recording the version of every decision.
  const seen: string[] = [];
  let stop = false;
  const client = (async () => {
    while (!stop) {
      const r = await call(url, "/v1/evaluate", { body: accessInput("ann", ["reader"]) });
      t.equal(r.status, 200);
      t.equal(r.json.decision, "allow");
      seen.push(r.json.version as string);
    }
  })();

  const broken = nextReload(server, (a) => !a.ok && a.diagnostics.some((d) => d.severity === "error"));
  await writeFileAtomic(file, BROKEN);
  const bad = await broken;
  t.not(bad.version, v1, "the broken set has its own version");
  t.equal(server.version, v1, "the last good set is still served");

  const policies = await call(url, "/v1/policies");
  t.equal(policies.json.served.version, v1);
  t.equal(policies.json.last_reload.ok, false);
  t.equal(policies.json.last_reload.version, bad.version);
  t.equal(policies.json.last_reload.trigger, "watch");
  t.match(policies.json.last_reload.diagnostics, [{ severity: "error", code: /^SP1/, file: /a\.policy$/, line: 5 }]);
  const ready = await call(url, "/readyz");
  t.same(ready.json, { ready: true, version: v1 }, "still ready: a good set is served");
  const metrics = (await call(url, "/metrics")).text;
  const failures = attempts.filter((a) => !a.ok).length;
  t.ok(failures >= 1);
  t.match(metrics, new RegExp(`^swarm_policy_reload_failures_total ${failures}$`, "m"), "every failed attempt counted");
  t.match(metrics, /^swarm_policy_last_reload_failed 1$/m);
  t.match(metrics, new RegExp(`^swarm_policy_info\\{version="${v1}"\\} 1$`, "m"));
  const logged = logs.lines.find((l) => l.msg === "policy set rejected; the last good set is still served");
  t.ok(logged, "the rejection is logged");
  t.equal(logged?.rejected_version, bad.version);
  t.equal(logged?.served_version, v1);

  const fixed = nextReload(server, (a) => a.ok && a.version !== v1);
  await writeFileAtomic(file, POLICY_V2);
  const good = await fixed;
  t.equal(server.version, good.version);
  const after = await call(url, "/v1/evaluate", { body: accessInput("wes", ["writer"], "write") });
  t.equal(after.json.decision, "allow", "the new rule is in force");
  t.equal(after.json.version, good.version);

  stop = true;
  await client;
  const failed = new Set(attempts.filter((a) => !a.ok).map((a) => a.version));
  const served = new Set([v1, ...attempts.filter((a) => a.ok).map((a) => a.version)]);
  t.ok(seen.length > 0, `${seen.length} decisions during the sequence`);
  t.equal(
    seen.filter((v) => failed.has(v)).length,
    0,
    "no decision names a version that failed to load",
  );
  t.same(seen.filter((v) => !served.has(v)), [], "every decision names a version that loaded cleanly");
  t.match((await call(url, "/metrics")).text, /^swarm_policy_last_reload_failed 0$/m);
});

t.test("reload on demand (the verb's SIGHUP calls the same), coalesced, and unreadable paths", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  const { url, server } = await start(t, [dir]);
  const v1 = server.version;
  await writeFileAtomic(path.join(dir, "b.policy"), 'package more\nallow "x" {\n  when action == "x"\n}\n');
  const [a, b] = await Promise.all([server.reload("signal"), server.reload("signal")]);
  t.ok(a.ok && b.ok);
  t.not(server.version, v1);
  t.equal(a.trigger, "signal");
  const viaApi = await call(url, "/v1/policies/reload", { method: "POST" });
  t.equal(viaApi.status, 200);
  t.equal(viaApi.json.ok, true);
  t.equal(viaApi.json.served, server.version);
  t.equal(viaApi.json.trigger, "api");
  t.ok((await call(url, "/v1/policies")).json.served.rules.includes("more/x"));
});

t.test("a path that disappears is a failed reload; the set stays", async (t) => {
  const dir = policyDir(t, { "sub/a.policy": POLICY });
  const sub = path.join(dir, "sub");
  const { server } = await start(t, [sub]);
  const v1 = server.version;
  const { rmSync } = await import("node:fs");
  rmSync(sub, { recursive: true });
  const attempt = await server.reload();
  t.equal(attempt.ok, false);
  t.match(attempt.loadErrors, [{ path: sub }]);
  t.equal(server.version, v1);
});

const watching = testConfig((c) => ((c.reload.watch = true), (c.reload.debounceMs = 20)));

// fs.watch follows an inode: before the fix these waited forever for a reload (the guard below
// turns that into a failure; nothing here measures time).
/** A watched policy directory holding POLICY, served; its root, path, server and first version. */
async function watchedDir(t: Test) {
  t.setTimeout(60_000);
  const root = tempDir(t);
  const dir = path.join(root, "policies");
  mkdirSync(dir);
  writeFileSync(path.join(dir, "a.policy"), POLICY);
  const { url, server } = await start(t, [dir], { config: watching });
  return { root, dir, url, server, v1: server.version };
}

t.test("a policy directory replaced by a rename (an atomic deploy) is followed, and so are later edits in it", async (t) => {
  const { root, dir, url, server, v1 } = await watchedDir(t);

  const next = path.join(root, "policies.next");
  mkdirSync(next);
  writeFileSync(path.join(next, "a.policy"), POLICY_V2);
  const swapped = nextReload(server, (a) => a.ok && a.version !== v1);
  renameSync(dir, path.join(root, "policies.old"));
  renameSync(next, dir);
  const v2 = (await swapped).version;
  t.equal(server.version, v2, "the new directory's set is served");
  t.equal((await call(url, "/v1/evaluate", { body: accessInput("wes", ["writer"], "write") })).json.decision, "allow");

  const edited = nextReload(server, (a) => a.ok && a.version === v1);
  await writeFileAtomic(path.join(dir, "a.policy"), POLICY);
  await edited;
  t.equal(server.version, v1, "an edit inside the new directory is seen: the watch moved with the name");
});

t.test("a policy directory deleted and made again is followed", async (t) => {
  const { dir, server, v1 } = await watchedDir(t);
  const { rmSync } = await import("node:fs");
  const gone = nextReload(server, (a) => !a.ok);
  rmSync(dir, { recursive: true });
  await gone;
  t.equal(server.version, v1, "while it is gone the last good set is served");
  const back = nextReload(server, (a) => a.ok && a.version !== v1);
  mkdirSync(dir);
  await writeFileAtomic(path.join(dir, "a.policy"), POLICY_V2);
  const v2 = (await back).version;
  t.equal(server.version, v2);
});

t.test("a file path in a Kubernetes ConfigMap mount (a.policy -> ..data/a.policy, ..data swapped) is followed", async (t) => {
  t.setTimeout(60_000);
  const dir = tempDir(t);
  mkdirSync(path.join(dir, "..2026_01"));
  writeFileSync(path.join(dir, "..2026_01", "a.policy"), POLICY);
  symlinkSync("..2026_01", path.join(dir, "..data"));
  symlinkSync("..data/a.policy", path.join(dir, "a.policy"));
  const { server } = await start(t, [path.join(dir, "a.policy")], { config: watching });
  const v1 = server.version;
  // What the kubelet does on an update: a new timestamped directory, then ..data renamed over.
  mkdirSync(path.join(dir, "..2026_02"));
  writeFileSync(path.join(dir, "..2026_02", "a.policy"), POLICY_V2);
  symlinkSync("..2026_02", path.join(dir, "..data_tmp"));
  const updated = nextReload(server, (a) => a.ok && a.version !== v1);
  renameSync(path.join(dir, "..data_tmp"), path.join(dir, "..data"));
  const v2 = (await updated).version;
  t.equal(server.version, v2, "the updated ConfigMap's set is served");
});

t.test("a ConfigMap mounted as a directory reloads while the old and the new timestamp directories both exist", async (t) => {
  const dir = tempDir(t);
  mkdirSync(path.join(dir, "..2026_12_06_10_00_00.111111111"));
  writeFileSync(path.join(dir, "..2026_12_06_10_00_00.111111111", "a.policy"), POLICY);
  symlinkSync("..2026_12_06_10_00_00.111111111", path.join(dir, "..data"));
  symlinkSync("..data/a.policy", path.join(dir, "a.policy"));
  const { url, server } = await start(t, [dir]);
  const v1 = server.version;
  t.notOk((await call(url, "/v1/policies")).json.served.rules.includes("demo/writers-write"));
  // The kubelet's update, caught before it removes the old directory.
  mkdirSync(path.join(dir, "..2026_12_06_10_05_00.222222222"));
  writeFileSync(path.join(dir, "..2026_12_06_10_05_00.222222222", "a.policy"), POLICY_V2);
  symlinkSync("..2026_12_06_10_05_00.222222222", path.join(dir, "..data_tmp"));
  renameSync(path.join(dir, "..data_tmp"), path.join(dir, "..data"));
  const r = await call(url, "/v1/policies/reload", { method: "POST" });
  t.equal(r.json.ok, true, "no duplicate definitions from the old copy");
  t.not(server.version, v1);
  t.ok((await call(url, "/v1/policies")).json.served.rules.includes("demo/writers-write"), "the new version is served");
});
