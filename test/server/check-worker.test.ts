/**
 * Reloads checked in a worker thread (src/server/analyze-thread.ts): once a
 * set is served, a changed set is checked off the event loop, so a broken
 * one is refused while the event loop keeps turning, with the same
 * diagnostics and version as a check on the event loop; a clean one is
 * loaded as before; a worker that dies is replaced.
 */
import t, { type Test } from "tap";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { PolicySet } from "../../src/server/policy-set.js";
import { AnalyzeThread } from "../../src/server/analyze-thread.js";
import { analyzeSources } from "../../src/engine.js";
import { SourceText } from "../../src/parser/span.js";
import { generateAccessPolicy } from "../../bench/generate.js";
import { BROKEN, POLICY, POLICY_V2, policyDir } from "./harness.js";

const SCHEMA = JSON.stringify({ type: "object", properties: { principal: { type: "object" } } });

/** A served set in `dir`, then `text` written to a.policy and reloaded, with or without the worker. */
async function reloadWith(t: Test, checkInWorker: boolean, text: string) {
  const dir = policyDir(t, { "a.policy": POLICY, "s.json": SCHEMA, "b.policy": `schema access "s.json"\n` });
  const set = new PolicySet({ paths: [dir], checkInWorker });
  t.teardown(() => set.close());
  const first = await set.reload("start");
  t.equal(first.ok, true);
  writeFileSync(path.join(dir, "a.policy"), text);
  let seenChecking = false;
  const attempt = set.reload("api");
  // Watched from the event loop: it can only see the flag while the loop turns during the check.
  const watch = () => {
    if (set.checkingInWorker) seenChecking = true;
    else if (!settled) setImmediate(watch);
  };
  let settled = false;
  setImmediate(watch);
  const a = await attempt;
  settled = true;
  // Paths differ between the two temp dirs: compare what does not name them.
  const report = { ok: a.ok, diagnostics: a.diagnostics.map((d) => ({ ...d, file: path.basename(d.file) })), loadErrors: a.loadErrors };
  return { set, first, attempt: a, report, seenChecking, dir };
}

t.test("a broken set is refused by the worker, with the diagnostics a check here gives", async (t) => {
  const inWorker = await reloadWith(t, true, BROKEN);
  const here = await reloadWith(t, false, BROKEN);
  t.equal(inWorker.attempt.ok, false);
  t.match(inWorker.attempt.diagnostics, [{ severity: "error", code: /^SP1/, line: 5 }]);
  t.same(inWorker.report, here.report, "same diagnostics either way");
  t.equal(inWorker.set.current?.version, inWorker.first.version, "the last good set is still served");
  t.equal(inWorker.seenChecking, true, "the event loop turned while the worker checked");
  t.equal(here.seenChecking, false, "checked on the event loop: nothing else ran meanwhile");
  t.not(inWorker.attempt.version, inWorker.first.version, "the refused set's own version");
});

t.test("a clean set checked by the worker is loaded and served, as without it", async (t) => {
  const inWorker = await reloadWith(t, true, POLICY_V2);
  const here = await reloadWith(t, false, POLICY_V2);
  t.equal(inWorker.attempt.ok, true);
  t.same(inWorker.report, here.report);
  t.equal(inWorker.seenChecking, true);
  t.equal(inWorker.set.current?.version, inWorker.attempt.version, "swapped in");
  t.not(inWorker.attempt.version, inWorker.first.version);
  const d = inWorker.set.current!.engine.evaluateAccess({ principal: { id: "wes", roles: ["writer"] }, action: "write", resource: {} });
  t.equal(d.decision, "allow", "the new set decides");
  // A worker that cannot check: the reload is checked on the event loop instead, never lost.
  await (inWorker.set as unknown as { thread: AnalyzeThread }).thread.close();
  writeFileSync(path.join(inWorker.dir, "a.policy"), POLICY);
  const back = await inWorker.set.reload("api");
  t.equal(back.ok, true);
  t.equal(inWorker.set.current?.version, inWorker.first.version, "the first set is served again");
  writeFileSync(path.join(inWorker.dir, "a.policy"), BROKEN);
  const refused = await inWorker.set.reload("api");
  t.equal(refused.ok, false, "and a broken set is still refused");
  t.equal(inWorker.set.current?.version, inWorker.first.version);
});

t.test("the worker's verdict on a large set equals the event loop's; a dead worker is replaced; closed, it refuses", async (t) => {
  const text = generateAccessPolicy(300) + "\nallow \"tail\" { when action == }\n";
  const sources = [new SourceText("big.policy", text)];
  const thread = new AnalyzeThread();
  t.teardown(() => thread.close());
  const verdict = await thread.check(sources);
  const here = analyzeSources(sources);
  t.ok(verdict.diagnostics.some((d) => d.severity === "error"), "the broken tail is found");
  t.same(verdict.diagnostics, JSON.parse(JSON.stringify(here.diagnostics)));
  // Killed under it (a crash, an out-of-memory exit): the next check starts a fresh worker.
  await (thread as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
  const again = await thread.check([new SourceText("ok.policy", POLICY)]);
  t.same(again.diagnostics, []);
  await thread.close();
  await t.rejects(thread.check(sources), /closed/);
});

t.test("a check the worker does not answer in time ends that worker; the next check gets a fresh one", async (t) => {
  const thread = new AnalyzeThread({ timeoutMs: 1 });
  t.teardown(() => thread.close());
  // A worker thread cannot even start in a millisecond: it loads the whole front end first.
  await t.rejects(thread.check([new SourceText("ok.policy", POLICY)]), /no answer in 1 ms/);
  (thread as unknown as { timeoutMs: number }).timeoutMs = 60_000;
  t.same((await thread.check([new SourceText("ok.policy", POLICY)])).diagnostics, [], "the timed-out thread starts a new worker");
});

t.test("a clean set loads in steps: between them the event loop turns and the last good set answers", async (t) => {
  const files: Record<string, string> = {};
  for (let f = 0; f < 4; f++) files[`p${f}.policy`] = generateAccessPolicy(300).replace(/package (\S+)/, `package $1.f${f}`);
  const dir = policyDir(t, files);
  let pauses = 0;
  const seen = new Set<string>();
  let set: PolicySet | null = null;
  set = new PolicySet({
    paths: [dir],
    checkInWorker: false,
    pause: () => {
      pauses++;
      // What a request arriving now would be answered by.
      if (set?.current) seen.add(set.current.version);
      return new Promise((resolve) => setImmediate(resolve));
    },
  });
  t.teardown(() => set?.close());
  const first = await set.reload("start");
  t.equal(first.ok, true);
  const firstPauses = pauses;
  // Every file's parse, every checker pass, each file's compile (300 rules: two parts), the correlation engine.
  t.ok(firstPauses >= 4 + 10 + 4 * 2 + 1, `the first load paused ${firstPauses} times`);
  writeFileSync(path.join(dir, "p0.policy"), files["p0.policy"]!.replace(/allow "/, 'allow "renamed-'));
  const second = await set.reload("api");
  t.equal(second.ok, true);
  t.not(second.version, first.version);
  t.ok(pauses - firstPauses >= firstPauses, "the reload paused as often");
  t.same([...seen], [first.version], "mid-load, only the last good set was served");
  t.equal(set.current?.version, second.version, "then the new set");
});

t.test("close() while a reload is paused between steps: the load stops at the next step, is not served and says so", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  let pauses = 0;
  let closeAt = -1;
  const told: { ok: boolean; served: string | null }[] = [];
  let set: PolicySet | null = null;
  set = new PolicySet({
    paths: [dir],
    checkInWorker: false,
    onReload: (a, served) => void told.push({ ok: a.ok, served: served?.version ?? null }),
    pause: () => {
      if (++pauses === closeAt) set?.close();
      return new Promise((resolve) => setImmediate(resolve));
    },
  });
  t.teardown(() => set?.close());
  const first = await set.reload("start");
  t.equal(first.ok, true);
  writeFileSync(path.join(dir, "a.policy"), POLICY_V2);
  closeAt = pauses + 3; // mid-way through the checker passes
  const attempt = await set.reload("api");
  t.equal(attempt.ok, false, "not reported as loaded: it was not served");
  t.match(attempt.loadErrors, [{ message: /closed before this load finished/ }]);
  t.equal(set.current?.version, first.version, "the last good set stays");
  t.equal(set.lastAttempt, attempt);
  t.same(told.at(-1), { ok: false, served: first.version }, "the log and metrics hear the same");
  t.equal(pauses, closeAt, "no step ran after the close");
  const later = await set.reload("signal");
  t.equal(later.ok, false, "a reload asked after close");
  t.equal(pauses, closeAt, "loads nothing");
});

t.test("a reload whose step or pause throws anything (null too) resolves not ok and serves nothing; it never rejects", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  const set = new PolicySet({ paths: [dir], checkInWorker: false, pause: () => Promise.reject(null) });
  t.teardown(() => set.close());
  const attempt = await set.reload("start");
  t.equal(attempt.ok, false);
  t.same(attempt.loadErrors, [{ path: "", message: "null" }]);
  t.equal(set.current, null, "fail closed: nothing served");
});

t.test("a set loaded in steps is stamped with the time of its swap, not of the attempt's start", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  let lastPause = 0;
  const set = new PolicySet({
    paths: [dir],
    checkInWorker: false,
    // Each step some milliseconds apart, as when requests are answered between them.
    pause: () =>
      new Promise((resolve) =>
        setTimeout(() => {
          lastPause = Date.now();
          resolve();
        }, 3),
      ),
  });
  t.teardown(() => set.close());
  const attempt = await set.reload("start");
  t.equal(attempt.ok, true);
  t.ok(set.current!.loadedAtMs >= lastPause, "loaded after the last step");
  t.ok(set.current!.loadedAtMs > Date.parse(attempt.at), "later than the attempt began");
  t.equal(set.current!.loadedAt, new Date(set.current!.loadedAtMs).toISOString());
});
