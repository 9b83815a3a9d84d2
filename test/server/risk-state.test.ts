/**
 * `risk.state_file` (src/server/risk-state.ts): quarantines and risk raises
 * the correlation engine wrote survive a restart and a crash; a state file the
 * server cannot read or write refuses the start (never serving with nobody
 * quarantined); saves follow changes, one per interval.
 */
import t from "tap";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { startServer } from "../../src/server/server.js";
import { ServerConfigError } from "../../src/server/config.js";
import { ObservedRiskStore, RiskStateFile } from "../../src/server/risk-state.js";
import { call, LogCapture, policyDir, tempDir, testConfig, type Tap } from "./harness.js";

const T0 = Date.parse("2026-03-10T09:00:00Z");

const POLICY = `detect "spray" {
  where event.action == "login" and event.outcome == "failure"
  then risk user.name + 60 for 1h
  then quarantine host.name for 1h
}
deny "risky" {
  when risk(principal.id) >= 50
}
deny "quarantined" {
  when quarantined(resource.id)
}
allow "read" {
  when action == "read"
}
`;

const failure = (user: string, host: string, ms: number) => ({
  "@timestamp": new Date(ms).toISOString(),
  event: { action: "login", outcome: "failure" },
  user: { name: user },
  host: { name: host },
});
const read = (user: string, host: string) => ({ principal: { id: user }, action: "read", resource: { id: host } });

async function serve(t: Tap, dir: string, stateFile: string, clock: () => number, saveIntervalMs = 1000) {
  const logs = new LogCapture();
  const server = await startServer({
    paths: [dir],
    config: testConfig((c) => {
      c.risk.stateFile = stateFile;
      c.risk.saveIntervalMs = saveIntervalMs;
    }),
    logStream: logs,
    clock,
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await server.close();
  };
  t.teardown(close);
  return { server, url: server.url, logs, close };
}

t.test("a restart keeps the quarantines and risk raised before it; lapsed ones are not brought back", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  const state = path.join(tempDir(t), "risk.json");
  let now = T0;
  const first = await serve(t, dir, state, () => now);
  t.equal((await call(first.url, "/v1/evaluate", { body: read("ann", "h1") })).json.decision, "allow");
  const pushed = await call(first.url, "/v1/events", { body: failure("ann", "h1", T0) });
  t.equal(pushed.json.alerts.length, 1);
  t.equal((await call(first.url, "/v1/evaluate", { body: read("ann", "h2") })).json.decision, "deny", "ann's risk");
  t.equal((await call(first.url, "/v1/evaluate", { body: read("bob", "h1") })).json.decision, "deny", "h1 quarantined");
  await first.close();
  t.equal(statSync(state).mode & 0o777, 0o600, "names users and machines: 0600");
  const saved = JSON.parse(readFileSync(state, "utf8"));
  t.match(saved, { version: 1, raises: [{ id: "ann", amount: 60 }], quarantines: [{ id: "h1" }] });

  // A restart half an hour later: both still in force (without the file, both were lifted).
  now = T0 + 30 * 60_000;
  const second = await serve(t, dir, state, () => now);
  t.match(second.logs.lines.find((l) => l.msg === "risk state loaded"), { raises: 1, quarantines: 1 });
  t.equal((await call(second.url, "/v1/evaluate", { body: read("ann", "h2") })).json.decision, "deny", "ann's risk survived the restart");
  t.equal((await call(second.url, "/v1/evaluate", { body: read("bob", "h1") })).json.decision, "deny", "h1's quarantine survived the restart");
  t.equal((await call(second.url, "/v1/evaluate", { body: read("bob", "h2") })).json.decision, "allow");
  await second.close();

  // Two hours after the events: both lapsed, and the next start neither loads nor writes them.
  now = T0 + 2 * 3600_000;
  const third = await serve(t, dir, state, () => now);
  t.match(third.logs.lines.find((l) => l.msg === "risk state loaded"), { raises: 0, quarantines: 0 });
  t.equal((await call(third.url, "/v1/evaluate", { body: read("ann", "h1") })).json.decision, "allow");
  t.match(JSON.parse(readFileSync(state, "utf8")), { raises: [], quarantines: [] });
});

t.test("changes are saved within the interval, so a crash keeps what was raised before it", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  const state = path.join(tempDir(t), "risk.json");
  const { url, server } = await serve(t, dir, state, () => T0, 20);
  t.same(JSON.parse(readFileSync(state, "utf8")).quarantines, [], "written at start");
  const events = Array.from({ length: 50 }, (_, i) => failure(`u${i}`, `h${i}`, T0 + i));
  t.equal((await call(url, "/v1/events", { body: events })).json.alerts.length, 50);
  const waited = Date.now();
  while (JSON.parse(readFileSync(state, "utf8")).quarantines.length < 50) {
    if (Date.now() - waited > 10_000) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  // The server is not closed: what a SIGKILL now would leave.
  const saved = JSON.parse(readFileSync(state, "utf8"));
  t.equal(saved.quarantines.length, 50, "saved without a close");
  t.equal(saved.raises.length, 50);
  const metrics = (await call(url, "/metrics")).text;
  t.match(metrics, /^swarm_policy_risk_state_errors_total 0$/m);
  t.match(metrics, /^swarm_policy_risk_entities\{kind="quarantine"\} 50$/m);
  t.match(metrics, /^swarm_policy_risk_entities\{kind="raise"\} 50$/m);
  t.match(metrics, new RegExp(`^swarm_policy_risk_state_last_save_timestamp_seconds ${T0 / 1000}$`, "m"), "the clock of the last save");
  void server;
});

t.test("a state file that cannot be trusted or written refuses the start", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  const tmp = tempDir(t);
  const attempt = (stateFile: string) =>
    startServer({ paths: [dir], config: testConfig((c) => (c.risk.stateFile = stateFile)), logStream: new LogCapture(), clock: () => T0 }).then(
      async (s) => {
        await s.close();
        return "started";
      },
      (err: unknown) => (err instanceof ServerConfigError ? err.message : `unexpected: ${String(err)}`),
    );
  const damaged = path.join(tmp, "damaged.json");
  const half = '{"version":1,"taken_at":"2026-03-10T09:00:00Z","raises":[],"quar';
  writeFileSync(damaged, half, { mode: 0o600 });
  t.match(await attempt(damaged), /^risk\.state_file: .*damaged\.json is not valid JSON/);
  t.equal(readFileSync(damaged, "utf8"), half, "left as it was, for the operator to look at");

  const wrong = path.join(tmp, "wrong.json");
  writeFileSync(wrong, JSON.stringify({ version: 1, taken_at: "2026-03-10T09:00:00Z", raises: [{ id: "ann", amount: -5, until: null }], quarantines: [] }), { mode: 0o600 });
  t.match(await attempt(wrong), /^risk\.state_file: .*wrong\.json: raises\[0\]/);

  const open = path.join(tmp, "open.json");
  writeFileSync(open, JSON.stringify({ version: 1, taken_at: "2026-03-10T09:00:00Z", raises: [], quarantines: [] }));
  chmodSync(open, 0o666);
  t.match(await attempt(open), /group or others may write it/);

  t.match(await attempt(path.join(tmp, "no-such-dir", "risk.json")), /^risk\.state_file: cannot write .*: no such file or directory/);
  const asDir = path.join(tmp, "a-dir");
  mkdirSync(asDir);
  t.match(await attempt(asDir), /^risk\.state_file: .*not a regular file/);

  const fresh = path.join(tmp, "fresh.json");
  t.equal(await attempt(fresh), "started", "a missing file is a first start");
  t.ok(existsSync(fresh), "and is written");
});

t.test("a state file the server may not read refuses the start; it is never taken for a first start and written over", async (t) => {
  // As root every file is readable: the start then runs in a child process as nobody (uid 65534).
  const dir = tempDir(t);
  chmodSync(dir, 0o777);
  const file = path.join(dir, "risk.json");
  const kept = JSON.stringify({ version: 1, taken_at: "2026-03-10T09:00:00Z", raises: [], quarantines: [{ id: "h1", until: null }] });
  writeFileSync(file, kept, { mode: 0o600 });
  let outcome: string;
  if (process.getuid?.() === 0) {
    const script = path.join(dir, "start.mts");
    const module = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src/server/risk-state.ts")).href;
    writeFileSync(
      script,
      `import { ObservedRiskStore, RiskStateFile } from ${JSON.stringify(module)};
const state = new RiskStateFile({ path: process.argv[2]!, store: new ObservedRiskStore(), saveIntervalMs: 60_000, clock: () => 0, onError: () => {} });
state.start().then(async () => { await state.close(); console.log("started"); }, (e) => console.log(e.message));
`,
      { mode: 0o644 },
    );
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
    outcome = execFileSync(process.execPath, ["--import", "tsx", script, file], { cwd: root, uid: 65534, gid: 65534, encoding: "utf8" }).trim();
  } else {
    chmodSync(file, 0o200);
    const state = new RiskStateFile({ path: file, store: new ObservedRiskStore(), saveIntervalMs: 60_000, clock: () => T0, onError: () => {} });
    outcome = await state.start().then(
      () => "started",
      (e: Error) => e.message,
    );
    chmodSync(file, 0o600);
  }
  t.equal(outcome, `cannot read ${file}: permission denied`);
  t.equal(readFileSync(file, "utf8"), kept, "the file keeps its quarantine");
});

/** A RiskStateFile over a fresh store, its file in a directory of its own (`dir`), errors collected. */
function stateFile(t: Tap, saveIntervalMs: number, maxBytes?: number) {
  const dir = path.join(tempDir(t), "state");
  mkdirSync(dir);
  const file = path.join(dir, "risk.json");
  const store = new ObservedRiskStore({ clock: () => T0 });
  const errors: string[] = [];
  const state = new RiskStateFile({ path: file, store, saveIntervalMs, clock: () => T0, onError: (e) => errors.push(e.message), ...(maxBytes === undefined ? {} : { maxBytes }) });
  return { dir, file, store, errors, state };
}

t.test("a save that fails is reported and retried; close saves what is left", async (t) => {
  const { dir, file, store, errors, state } = stateFile(t, 60_000);
  t.same(await state.start(), { raises: 0, quarantines: 0 });
  store.quarantine("h1", T0, 3600_000);
  renameSync(dir, `${dir}.gone`); // the directory disappears under the server
  await state.save();
  t.equal(errors.length, 1);
  t.match(errors[0], /cannot write .*risk\.json: no such file or directory/);
  renameSync(`${dir}.gone`, dir);
  store.raise("ann", 70, T0, 3600_000);
  await state.close();
  t.match(JSON.parse(readFileSync(file, "utf8")), { raises: [{ id: "ann", amount: 70 }], quarantines: [{ id: "h1" }] }, "both, the failed save's change too");
  store.quarantine("h2", T0);
  await state.save();
  t.notMatch(readFileSync(file, "utf8"), /h2/, "closed: no longer followed");
});

t.test("a failed save is retried on its own: a change with no change after it still reaches the file", async (t) => {
  // It was retried only at the next change or at close: a quarantine whose save failed once (a full
  // disk, a directory briefly gone) stayed out of the file while nothing else changed, and a SIGKILL
  // then lifted it, however long the disk had been back.
  const { dir, file, store, errors, state } = stateFile(t, 20);
  t.teardown(() => state.close());
  await state.start();
  renameSync(dir, `${dir}.gone`);
  store.quarantine("h1", T0, 3600_000);
  const until = async (what: () => boolean) => {
    const started = Date.now();
    while (!what() && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 10));
  };
  await until(() => errors.length > 0);
  t.match(errors[0], /cannot write .*risk\.json: no such file or directory/, "the timer's save failed");
  renameSync(`${dir}.gone`, dir);
  const saved = () => JSON.parse(readFileSync(file, "utf8")).quarantines.length === 1;
  await until(saved);
  t.ok(saved(), "saved by a retry, with no further change and no close");
});

t.test("every kind of write to the observed store reaches the file with no close", async (t) => {
  const { file, store, state } = stateFile(t, 20);
  t.teardown(() => state.close());
  await state.start();
  const saved = () => JSON.parse(readFileSync(file, "utf8")) as { raises: { id: string }[]; quarantines: { id: string }[] };
  const until = async (what: () => boolean, message: string) => {
    const started = Date.now();
    while (!what() && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 10));
    t.ok(what(), message);
  };
  store.raise("ann", 70, T0, 3600_000); // what `then risk` calls
  await until(() => saved().raises.some((r) => r.id === "ann"), "a raise is saved");
  store.raiseUntil("bob", 5, T0 + 3600_000); // what loading a snapshot calls
  await until(() => saved().raises.some((r) => r.id === "bob"), "a raise until a time is saved");
  store.quarantine("h1", T0, 3600_000);
  await until(() => saved().quarantines.some((q) => q.id === "h1"), "a quarantine is saved");
  store.release("h1");
  t.equal(store.quarantined("h1", T0), false, "released");
  await until(() => saved().quarantines.length === 0, "a release is saved");
  store.clear("ann");
  t.equal(store.risk("ann", T0), 0, "cleared");
  await until(() => !saved().raises.some((r) => r.id === "ann"), "a clear is saved");
});

t.test("a state file group or others may write refuses the start, whichever of the two may", async (t) => {
  for (const mode of [0o620, 0o602]) {
    const { file, store, state } = stateFile(t, 60_000);
    writeFileSync(file, JSON.stringify({ version: 1, taken_at: "2026-03-10T09:00:00Z", raises: [], quarantines: [] }));
    chmodSync(file, mode);
    const err = await state.start().then(() => undefined, (e: Error) => e);
    t.equal(err?.name, "RiskStateError");
    t.equal(err?.message, `${file} has mode 0${mode.toString(8)}: group or others may write it, and so lift its quarantines (chmod 600 ${file})`);
    t.equal(store.size, 0);
  }
  const asDir = stateFile(t, 60_000);
  mkdirSync(asDir.file);
  t.equal(await asDir.state.start().then(() => "started", (e: Error) => e.message), `${asDir.file} is not a regular file`);
  const { file, state } = stateFile(t, 60_000);
  writeFileSync(file, JSON.stringify({ version: 1, taken_at: "2026-03-10T09:00:00Z", raises: [], quarantines: [] }));
  chmodSync(file, 0o644);
  await t.resolves(state.start(), "readable by others is not a way to lift a quarantine");
  await state.close();
});

t.test("a state larger than a start reads is not written: the file keeps the last state that fit, and a restart reads it", async (t) => {
  // It was written, and the next start refused the file as too large (exit 2): after a flood of
  // alerts with long ids (500,000 entries of 110 characters made 77 MiB, over the 64 MiB limit),
  // the server could not be restarted.
  const maxBytes = 600;
  const { file, store, errors, state } = stateFile(t, 60_000, maxBytes);
  await state.start();
  store.quarantine("h1", T0, 3600_000);
  await state.save();
  t.same(errors, []);
  for (let i = 0; i < 20; i++) store.quarantine(`host-${i}-${"x".repeat(40)}`, T0, 3600_000);
  await state.close();
  t.equal(errors.length, 1);
  t.match(errors[0], /cannot write .*risk\.json: the risk state is more than the 600 bytes a start reads/);
  t.match(JSON.parse(readFileSync(file, "utf8")).quarantines, [{ id: "h1" }], "the last state that fit");
  t.same(readdirSync(path.dirname(file)), ["risk.json"], "and no part of the refused one is left beside it");
  const again = new RiskStateFile({ path: file, store: new ObservedRiskStore({ clock: () => T0 }), saveIntervalMs: 60_000, clock: () => T0, onError: () => undefined, maxBytes });
  t.same(await again.start(), { raises: 0, quarantines: 1 }, "the restart reads it");
  await again.close();

  // The limit itself: a state of exactly maxBytes is written (and read), one byte more is not.
  const size = statSync(file).size;
  for (const [limit, written] of [[size, true], [size - 1, false]] as const) {
    const edge = stateFile(t, 60_000, limit);
    edge.store.quarantine("h1", T0, 3600_000);
    await edge.state.start().then(
      () => edge.state.close(),
      () => undefined,
    );
    t.equal(existsSync(edge.file) && statSync(edge.file).size === size, written, `maxBytes ${limit}`);
  }
});

t.test("a save lets other work run while it writes, and what changed meanwhile is neither lost nor written twice", async (t) => {
  // A save serialized the whole store in one turn of the event loop (sorted by id): 500,000 entries
  // held every answer for 1-9 s, once per save interval while alerts kept coming.
  let turn = 0;
  const sliceTurns: number[] = [];
  // The store as the server's, noting the turn of the event loop in which each slice is read.
  class Noting extends ObservedRiskStore {
    override *raiseSlices(now: number, size: number) {
      for (const slice of super.raiseSlices(now, size)) {
        sliceTurns.push(turn);
        yield slice;
      }
    }
    override *quarantineSlices(now: number, size: number) {
      for (const slice of super.quarantineSlices(now, size)) {
        sliceTurns.push(turn);
        yield slice;
      }
    }
  }
  const dir = path.join(tempDir(t), "state");
  mkdirSync(dir);
  const file = path.join(dir, "risk.json");
  const store = new Noting({ clock: () => T0 });
  const state = new RiskStateFile({ path: file, store, saveIntervalMs: 60_000, clock: () => T0, onError: (e) => t.fail(e.message) });
  await state.start();
  const N = 20_000;
  const HOUR = 3600_000;
  for (let i = 0; i < N; i++) {
    store.quarantine(`q-${i}`, T0, HOUR);
    store.raise(`r-${i}`, 10, T0, HOUR);
  }
  sliceTurns.length = 0;
  let done = false;
  // Other work, a turn at a time: a quarantine released and another extended, an id raised, a raise cleared.
  const meanwhile = () => {
    if (done) return;
    const k = turn % 1000; // at most 1,000 entities of each kind go
    store.release(`q-${k}`);
    store.quarantine(`q-${N - 1 - k}`, T0, 2 * HOUR);
    store.raise(`new-${turn}`, 5, T0, HOUR);
    store.clear(`r-${k}`);
    turn++;
    setImmediate(meanwhile);
  };
  setImmediate(meanwhile);
  await state.save();
  done = true;
  // At least 19,000 entities of each kind when the save takes their ids, in slices of 2,048: at least
  // 10 slices each, every one read in a turn of its own. The old save read the whole store at once
  // and never asked for a slice.
  t.ok(sliceTurns.length >= 20, `read in slices (${sliceTurns.length})`);
  t.equal(new Set(sliceTurns).size, sliceTurns.length, `each slice in a turn of its own (turns ${sliceTurns.join(" ")})`);
  const first = JSON.parse(readFileSync(file, "utf8"));
  const ids = (list: { id: string }[]) => list.map((e) => e.id);
  const once = (list: string[]) => list.length === new Set(list).size;
  t.ok(once(ids(first.quarantines)), "no quarantine written twice");
  t.ok(once(ids(first.raises)), "no raise written twice");
  // What changed during the save is in the next one, exactly as the store holds it.
  await state.close();
  const second = JSON.parse(readFileSync(file, "utf8"));
  const sorted = (list: { id: string }[]) => [...list].sort((a, b) => (a.id < b.id ? -1 : 1));
  const held = store.entries(T0);
  const iso = (ms: number) => new Date(ms).toISOString();
  t.same(sorted(second.quarantines), held.quarantines.map((q) => ({ id: q.id, until: iso(q.until) })), "the next save: every quarantine as held");
  t.same(sorted(second.raises), held.raises.map((r) => ({ id: r.id, amount: r.amount, until: iso(r.until) })), "and every raise");
});

t.test("a save that keeps failing is retried after the interval, then twice as long each time; one that succeeds starts again at the interval", async (t) => {
  // Saves that kept failing (a full disk) were retried every interval, an error logged each time.
  const dir = path.join(tempDir(t), "state");
  mkdirSync(dir);
  const file = path.join(dir, "risk.json");
  const store = new ObservedRiskStore({ clock: () => T0 });
  const errors: string[] = [];
  const delays: number[] = [];
  let due: (() => void) | null = null;
  const state = new RiskStateFile({
    path: file,
    store,
    saveIntervalMs: 1000,
    clock: () => T0,
    onError: (e) => errors.push(e.message),
    schedule: (fn, ms) => {
      delays.push(ms);
      due = fn;
      return { cancel: () => (due = null) };
    },
  });
  await state.start();
  // The timer's save, to its end (it either fails, reported, or completes).
  const fire = async () => {
    const before = errors.length + state.saves;
    const fn = due;
    due = null;
    fn?.();
    while (errors.length + state.saves === before) await new Promise((r) => setTimeout(r, 5));
  };
  store.quarantine("h1", T0, 3600_000);
  t.same(delays, [1000], "a change: saved after the interval");
  renameSync(dir, `${dir}.gone`);
  for (let i = 0; i < 4; i++) await fire();
  t.equal(errors.length, 4, "four failed saves");
  t.same(delays, [1000, 2000, 4000, 8000, 16000], "each failure doubles the wait before the next try");
  renameSync(`${dir}.gone`, dir);
  await fire();
  t.equal(errors.length, 4, "the fifth try succeeds");
  t.match(JSON.parse(readFileSync(file, "utf8")).quarantines, [{ id: "h1" }]);
  store.quarantine("h2", T0, 3600_000);
  t.equal(delays.at(-1), 1000, "after a success, a change is saved after the interval again");
  await fire();
  await state.close();
});

t.test("saves that keep failing back off: the interval, then doubling, at most a minute", async (t) => {
  const { retryDelayMs, MAX_RETRY_MS } = await import("../../src/server/risk-state.js");
  t.equal(MAX_RETRY_MS, 60_000);
  const table: [number, number, number][] = [
    [1000, 0, 1000],
    [1000, 1, 2000],
    [1000, 2, 4000],
    [1000, 5, 32_000],
    [1000, 6, 60_000],
    [1000, 60, 60_000],
    [1000, 2000, 60_000], // 2 ** 2000 is Infinity: still a minute
    [20, 3, 160],
    [120_000, 0, 120_000],
    [120_000, 4, 120_000], // never less than the interval
  ];
  for (const [interval, failures, want] of table) t.equal(retryDelayMs(interval, failures), want, `interval ${interval}, ${failures} failures`);
});

t.test("a stop whose HTTP close fails still saves the risk store's last changes", async (t) => {
  // The stop closed the HTTP server, then the decision log, then the risk state file, each awaited
  // in turn: a close that threw skipped the last save, and the restart lifted what was raised since.
  const appModule = await import("../../src/server/app.js");
  const { startServer: start } = await t.mockImport<typeof import("../../src/server/server.js")>("../../src/server/server.js", {
    "../../src/server/app.js": {
      ...appModule,
      buildApp: (...args: Parameters<typeof appModule.buildApp>) => {
        const built = appModule.buildApp(...args);
        const close = built.app.close.bind(built.app);
        Object.assign(built.app, {
          close: async () => {
            await close();
            throw new Error("the HTTP server did not close");
          },
        });
        return built;
      },
    },
  });
  const dir = policyDir(t, { "a.policy": POLICY });
  const state = path.join(tempDir(t), "risk.json");
  const server = await start({
    paths: [dir],
    config: testConfig((c) => {
      c.risk.stateFile = state;
      c.risk.saveIntervalMs = 3600_000; // no save before the stop
    }),
    logStream: new LogCapture(),
    clock: () => T0,
  });
  t.equal((await call(server.url, "/v1/events", { body: failure("ann", "h1", T0) })).json.alerts.length, 1);
  await t.rejects(server.close(), { message: "the HTTP server did not close" }, "the failure is reported");
  t.match(JSON.parse(readFileSync(state, "utf8")), { raises: [{ id: "ann" }], quarantines: [{ id: "h1" }] }, "and the last changes are saved");
});
