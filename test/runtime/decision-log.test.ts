/**
 * The decision log: line shape, redaction (table-driven), size rotation,
 * stdout, the queue bound, write errors that never throw; and decisions as
 * events: a `detect` rule over the engine's own decision log fires when one
 * principal collects many denials (issue 6).
 */
import t from "tap";
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough, Writable } from "node:stream";
import { compile, compileDetectors, decisionEvent, decisionOutcome, DecisionLog, redact, REDACTED, type DecisionLogEntry, type DecisionLogFile } from "../../src/index.js";

function tempDir(t: Tap): string {
  const dir = mkdtempSync(path.join(tmpdir(), "sp-dlog-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
type Tap = { teardown(fn: () => void): void };

const POLICY = `package demo

allow "readers-read" {
  when action == "read" and principal.roles contains "reader"
}

deny "no-contractors" {
  when principal.roles contains "contractor"
}

encryption "pii" {
  when data.classification == "pii"
  require cipher "aes-256-gcm"
}
`;

const FIXED = Date.parse("2026-03-10T10:00:00Z");

t.test("one JSON line per decision with the fields the issue names", async (t) => {
  const engine = compile(POLICY);
  const file = path.join(tempDir(t), "decisions.jsonl");
  const log = new DecisionLog({ path: file, now: () => FIXED });
  const input = { principal: { id: "ann", roles: ["reader"] }, action: "read", resource: { id: "d1" } };
  const d = engine.evaluate(input);
  const entry = log.append("access", input, d)!;
  const denied = { principal: { id: "cy", roles: ["contractor"] }, action: "read", resource: { id: "d1" } };
  log.append("access", denied, engine.evaluate(denied));
  const enc = { kind: "encryption", data: { classification: "pii" } };
  log.append("encryption", enc, engine.evaluate(enc));
  await log.close();
  const lines = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  t.equal(lines.length, 3);
  t.same(Object.keys(lines[0]), ["id", "time", "version", "kind", "outcome", "rule", "reasons", "input"]);
  t.same(lines[0], { ...entry, reasons: JSON.parse(JSON.stringify(entry.reasons)) });
  t.match(lines[0].id, /^[0-9a-f-]{36}$/);
  t.not(lines[0].id, lines[1].id);
  t.equal(lines[0].time, "2026-03-10T10:00:00.000Z");
  t.equal(lines[0].version, engine.version);
  t.match(lines[0], { kind: "access", outcome: "allow", rule: "demo/readers-read", input });
  t.match(lines[1], { outcome: "deny", rule: "demo/no-contractors" });
  t.match(lines[2], { kind: "encryption", outcome: "required", rule: "demo/pii", reasons: ["demo/pii"] });
  t.equal(statSync(file).mode & 0o777, 0o600, "private: decisions name principals");
  t.same(log.stats, { written: 3, dropped: 0, errors: 0, rotations: 0 });
});

t.test("decisionOutcome", async (t) => {
  const cases: [Parameters<typeof decisionOutcome>[0], string][] = [
    [{ version: "v", decision: "allow" }, "allow"],
    [{ version: "v", decision: "challenge" }, "challenge"],
    [{ version: "v", decision: "reject" }, "reject"],
    [{ version: "v", required: true }, "required"],
    [{ version: "v", required: false }, "not-required"],
    [{ version: "v", required: true, compliant: false }, "non-compliant"],
    [{ version: "v", required: true, compliant: true }, "required"],
  ];
  for (const [d, want] of cases) t.equal(decisionOutcome(d), want, JSON.stringify(d));
});

t.test("redaction: secret-looking keys everywhere, configured paths, nothing else", async (t) => {
  const cases: { name: string; input: unknown; paths?: string[]; want: unknown }[] = [
    { name: "password", input: { password: "hunter2" }, want: { password: REDACTED } },
    { name: "nested token", input: { context: { auth: { access_token: "abc", kind: "jwt" } } }, want: { context: { auth: { access_token: REDACTED, kind: "jwt" } } } },
    { name: "case-insensitive", input: { ApiKey: "k", API_KEY: "k", "x-api-key": "k" }, want: { ApiKey: REDACTED, API_KEY: REDACTED, "x-api-key": REDACTED } },
    { name: "mfa code, otp, totp", input: { mfa: { code: "123456", otp: "1", totp: "2", method: "totp" } }, want: { mfa: { code: REDACTED, otp: REDACTED, totp: REDACTED, method: "totp" } } },
    { name: "authorization and cookie", input: { headers: { Authorization: "Bearer x", cookie: "s=1", host: "h" } }, want: { headers: { Authorization: REDACTED, cookie: REDACTED, host: "h" } } },
    { name: "private key, secret, seed", input: { private_key: "p", client_secret: "s", seed: "q" }, want: { private_key: REDACTED, client_secret: REDACTED, seed: REDACTED } },
    { name: "whole objects under a secret key", input: { credentials: { user: "u", pass: "p" } }, want: { credentials: REDACTED } },
    { name: "inside arrays", input: { items: [{ token: "a" }, { token: "b", id: 1 }] }, want: { items: [{ token: REDACTED }, { token: REDACTED, id: 1 }] } },
    { name: "passcodes, verification codes, otpauth fields", input: { passcode: "1", verification_code: "2", "one-time-code": "3", otpauth_uri: "x" }, want: { passcode: REDACTED, verification_code: REDACTED, "one-time-code": REDACTED, otpauth_uri: REDACTED } },
    { name: "an otpauth URI under any key, in arrays too", input: { note: "otpauth://totp/Swarm:alice?secret=JBSWY3DPEHPK3PXP", list: ["a", "OTPAUTH://hotp/x?secret=A"] }, want: { note: REDACTED, list: ["a", REDACTED] } },
    { name: "short words are whole names only", input: { country_iso_code: "FR", footprint: 3, zipcode: "1", status_code: 200 }, want: { country_iso_code: "FR", footprint: 3, zipcode: "1", status_code: 200 } },
    { name: "configured path", input: { principal: { id: "a", ssn: "123" } }, paths: ["principal.ssn"], want: { principal: { id: "a", ssn: REDACTED } } },
    { name: "wildcard path", input: { context: { device: { serial: "s1" }, geo: { serial: "s2" } } }, paths: ["context.*.serial"], want: { context: { device: { serial: REDACTED }, geo: { serial: REDACTED } } } },
    { name: "path into arrays", input: { principal: { phones: [{ number: "1" }] } }, paths: ["principal.phones.number"], want: { principal: { phones: [{ number: REDACTED }] } } },
    { name: "a path that does not match", input: { principal: { ssn: "1" } }, paths: ["resource.ssn"], want: { principal: { ssn: "1" } } },
    { name: "scalars and null pass", input: { a: null, b: 1, c: true, d: "x" }, want: { a: null, b: 1, c: true, d: "x" } },
  ];
  for (const c of cases) t.same(redact(c.input, c.paths ?? []), c.want, c.name);
  const original = { password: "p" };
  redact(original);
  t.same(original, { password: "p" }, "the input is not modified");
  let deep: Record<string, unknown> = {};
  const root = deep;
  for (let i = 0; i < 40; i++) deep = (deep.next = {}) as Record<string, unknown>;
  t.match(JSON.stringify(redact(root)), /\[TRUNCATED\]/, "deep nesting is cut");
  // JSON.parse makes __proto__ an own key; the copy keeps it as a key (redacted inside), not as its prototype.
  const hostile = JSON.parse('{"__proto__": {"password": "p", "x": 1}, "id": "a"}') as unknown;
  const copy = redact(hostile) as Record<string, unknown>;
  t.equal(Object.getPrototypeOf(copy), Object.prototype);
  t.equal(JSON.stringify(copy), '{"__proto__":{"password":"[REDACTED]","x":1},"id":"a"}');
});

t.test("a key pattern with the g or y flag redacts every matching key, not every other one", async (t) => {
  const input = { api_token: "t-1", client_secret: "s-2", session_token: "t-3", other: 1 };
  const want = { api_token: REDACTED, client_secret: REDACTED, session_token: REDACTED, other: 1 };
  for (const keys of [/secret|token/gi, /secret|token/iy, /.*(secret|token)/giy]) {
    t.same(redact(input, [], keys), want, `redact with /${keys.source}/${keys.flags}`);
    const file = path.join(tempDir(t), "d.jsonl");
    const log = new DecisionLog({ path: file, redactKeys: keys });
    log.append("access", input, { version: "v", decision: "deny", rule: null, reasons: [] });
    log.append("access", input, { version: "v", decision: "deny", rule: null, reasons: [] });
    await log.close();
    const text = readFileSync(file, "utf8");
    for (const secret of ["t-1", "s-2", "t-3"]) t.notOk(text.includes(secret), `${secret} not in the file (/${keys.source}/${keys.flags})`);
  }
});

t.test("no secret reaches the file", async (t) => {
  const file = path.join(tempDir(t), "d.jsonl");
  const log = new DecisionLog({ path: file, redact: ["principal.email"] });
  const input = { principal: { id: "ann", email: "ann@example.com" }, context: { mfa: { code: "918273" }, session_token: "tok-5f5f5f" } };
  log.append("access", input, { version: "v", decision: "deny", rule: null, reasons: [] });
  await log.close();
  const text = readFileSync(file, "utf8");
  for (const secret of ["918273", "tok-5f5f5f", "ann@example.com"]) t.notOk(text.includes(secret), secret);
  t.ok(text.includes('"ann"'), "the rest is kept");
});

t.test("rotation by size keeps `keep` files, newest first", async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, "d.jsonl");
  const log = new DecisionLog({ path: file, maxBytes: 2000, keep: 2 });
  const d = { version: "v".repeat(64), decision: "allow", rule: "demo/r", reasons: [] };
  const umask = process.umask(0o000); // the files stay private whatever the umask
  try {
    for (let i = 0; i < 60; i++) {
      log.append("access", { n: i, pad: "x".repeat(100) }, d);
      await log.flush(); // one line per write, so each rotation point is exact
    }
    await log.close();
  } finally {
    process.umask(umask);
  }
  t.same(readdirSync(dir).sort(), ["d.jsonl", "d.jsonl.1", "d.jsonl.2"]);
  for (const f of ["d.jsonl", "d.jsonl.1", "d.jsonl.2"]) t.equal(statSync(path.join(dir, f)).mode & 0o777, 0o600, `${f} is 0600 under umask 000`);
  const read = (f: string) => readFileSync(path.join(dir, f), "utf8").trim().split("\n").map((l) => JSON.parse(l).input.n as number);
  for (const f of ["d.jsonl", "d.jsonl.1", "d.jsonl.2"]) t.ok(statSync(path.join(dir, f)).size <= 2000, `${f} within the limit`);
  const newest = read("d.jsonl");
  const older = read("d.jsonl.1");
  const oldest = read("d.jsonl.2");
  t.equal(newest[newest.length - 1], 59, "the newest lines are in the file");
  t.equal(older[older.length - 1]! + 1, newest[0], "file.1 ends where the file begins");
  t.equal(oldest[oldest.length - 1]! + 1, older[0], "file.2 ends where file.1 begins");
  t.ok(log.stats.rotations > 2, "older files were dropped");
  t.equal(log.stats.written, 60);
});

t.test("stdout with '-', and entries handed to onEntry", async (t) => {
  const out = new PassThrough();
  let text = "";
  out.on("data", (c: Buffer) => (text += c.toString()));
  const seen: DecisionLogEntry[] = [];
  const log = new DecisionLog({ path: "-", stdout: out, onEntry: (e) => seen.push(e) });
  log.append("mesh", { node: { id: "n1" } }, { version: "v", decision: "admit", rule: "m/swarm", reasons: [] });
  await log.close();
  t.equal(JSON.parse(text).outcome, "admit");
  t.equal(seen.length, 1);
  t.equal(log.append("mesh", {}, { version: "v", decision: "admit" }), null, "closed: ignored");
});

t.test("bounded queue: lines past the cap are dropped and counted", async (t) => {
  const file = path.join(tempDir(t), "d.jsonl");
  const log = new DecisionLog({ path: file, maxQueuedBytes: 1000 });
  for (let i = 0; i < 50; i++) log.append("access", { pad: "y".repeat(100) }, { version: "v", decision: "deny" });
  t.ok(log.stats.dropped > 0, `${log.stats.dropped} dropped`);
  await log.close();
  t.equal(log.stats.written + log.stats.dropped, 50);
  t.equal(readFileSync(file, "utf8").trim().split("\n").length, log.stats.written);
});

t.test("a slow disk: decisions logged during a write wait behind it as one flush, not one chained flush each", async (t) => {
  // Every write is held until the test releases it: a disk as slow as the test says, no timing.
  const held: (() => void)[] = [];
  let writeStarted: () => void = () => undefined;
  const file: DecisionLogFile = {
    write: (_buffer, _offset, length) =>
      new Promise((resolve) => {
        held.push(() => resolve({ bytesWritten: length }));
        writeStarted();
      }),
    truncate: async () => undefined,
    stat: async () => ({ size: 0 }),
    close: async () => undefined,
  };
  const nextWrite = () => new Promise<void>((resolve) => (writeStarted = resolve));
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
  const log = new DecisionLog({ path: "unused.jsonl", openFile: async () => file });
  await log.open();
  // Counts every flush, the log's own included (it calls this.flush()).
  let flushes = 0;
  const flush = log.flush.bind(log);
  log.flush = () => {
    flushes++;
    return flush();
  };
  const line = (i: number) => log.append("access", { n: i, pad: "x".repeat(100) }, { version: "v", decision: "deny" });
  let started = nextWrite();
  line(0);
  await started; // the first write, held
  // 200 KB while it is held: past the 64 KiB that asks for a flush at once, under the 8 MiB cap.
  for (let i = 1; i <= 1500; i++) line(i);
  flushes = 0;
  started = nextWrite();
  held.shift()!();
  await started;
  await turn();
  // Each decision logged past 64 KiB chained a flush of its own onto the running write, and every
  // one of them ran again (and chained again) at the end of each write: 1,500 decisions, ~1,000
  // flushes a write for as long as the disk stayed slow, and a promise each held in memory.
  t.ok(flushes <= 2, `the next write started by one flush (${flushes} flushes)`);
  flushes = 0;
  held.shift()!();
  await turn();
  await turn();
  t.ok(flushes <= 2, `nothing left waiting behind it (${flushes} flushes)`);
  t.equal(held.length, 0, "everything queued went in the second write");
  const closed = log.close();
  await closed;
  t.same(log.stats, { written: 1501, dropped: 0, errors: 0, rotations: 0 });
});

t.test("a write error is counted and reported, never thrown; the log goes on", async (t) => {
  const errors: Error[] = [];
  const log = new DecisionLog({ path: path.join(tempDir(t), "no", "such", "dir", "d.jsonl"), onError: (e) => errors.push(e) });
  log.append("access", {}, { version: "v", decision: "deny" });
  await log.flush();
  t.equal(log.stats.errors, 1);
  t.equal(log.stats.dropped, 1);
  t.match(errors[0]?.message, /ENOENT/);
  log.append("access", {}, { version: "v", decision: "deny" });
  await log.close();
  t.equal(log.stats.errors, 2, "retried (and failed again) on the next flush");
});

t.test("a stdout that fails (EPIPE: its reader is gone) is a counted error, never an uncaught one nor a flush that waits forever", async (t) => {
  let broken = false;
  const out = new Writable({
    write(_chunk, _enc, done) {
      if (!broken) return done();
      done(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
    },
  });
  const errors: Error[] = [];
  const log = new DecisionLog({ path: "-", stdout: out, onError: (e) => errors.push(e) });
  log.append("access", {}, { version: "v", decision: "deny" });
  await log.flush();
  t.equal(log.stats.written, 1);
  broken = true;
  log.append("access", {}, { version: "v", decision: "deny" });
  await log.flush();
  t.equal(log.stats.errors, 1, "the failed write is counted");
  t.equal(log.stats.dropped, 1, "and its line is counted as lost");
  t.match(errors[0]?.message, /EPIPE/);
  t.ok(out.destroyed, "the stream is gone for good");
  log.append("access", {}, { version: "v", decision: "deny" });
  await log.close();
  t.equal(log.stats.errors, 2, "a write to the dead stream fails the same way, and close() still returns");
  t.equal(log.stats.dropped, 2);
  t.equal(out.listenerCount("error"), 0, "close() removes the log's error listener from the stream");
});

t.test("decisions as events: one principal collecting many denials raises an alert", async (t) => {
  const engine = compile(`${POLICY}
detect "denial-burst" {
  severity high
  tags ["MITRE:T1087"]
  where event.dataset == "swarm_policy.decision" and decision.outcome == "deny"
  by user.name within 1m
  having count >= 5
  then risk user.name + 50 for 10m
}
`);
  t.same(engine.diagnostics.filter((d) => d.severity === "error"), []);
  const detector = engine.detector();
  let clock = FIXED;
  const alerts: unknown[] = [];
  const log = new DecisionLog({ path: "-", stdout: new PassThrough(), now: () => clock, onEntry: (e) => alerts.push(...detector.push(decisionEvent(e))) });
  const ask = (user: string, roles: string[]) => {
    const input = { principal: { id: user, roles }, action: "read", resource: { id: "d1" } };
    log.append("access", input, engine.evaluate(input));
    clock += 1000;
  };
  for (let i = 0; i < 4; i++) ask("mallory", ["contractor"]);
  for (let i = 0; i < 10; i++) ask("ann", ["reader"]); // allowed: never counted
  ask("bob", ["contractor"]); // another principal's denial: a group of its own
  t.same(alerts, [], "four denials for mallory, one for bob: quiet");
  ask("mallory", ["contractor"]);
  t.equal(alerts.length, 1, "the fifth denial within a minute fires");
  t.match(alerts[0], { rule: "denial-burst", severity: "high", group: { "user.name": "mallory" }, count: 5 });
  t.match((alerts[0] as { events: unknown[] }).events[0], { event: { dataset: "swarm_policy.decision", outcome: "failure" }, decision: { outcome: "deny", rule: "demo/no-contractors" }, user: { name: "mallory" } });
  await log.close();

  // The same rule through compileDetectors over the engine's files: the library path the CLI uses.
  const direct = compileDetectors(engine.files);
  const event = (n: number) =>
    decisionEvent({ id: `d${n}`, time: new Date(FIXED + n).toISOString(), version: "v", kind: "access", outcome: "deny", rule: "demo/no-contractors", reasons: [], input: { principal: { id: "eve" } } });
  const fired = [0, 1, 2, 3, 4].flatMap((n) => direct.push(event(n)));
  t.equal(fired.length, 1);
});

t.test("decisionEvent maps ids and outcomes for each kind", async (t) => {
  const base = { id: "x", time: "2026-03-10T10:00:00.000Z", version: "v", rule: null, reasons: [] };
  const access = decisionEvent({ ...base, kind: "access", outcome: "challenge", input: { principal: { id: "ann" }, action: "read", resource: { id: "r1", type: "doc" } } });
  t.match(access, { "@timestamp": base.time, event: { category: "access", action: "access-decision", outcome: "unknown" }, user: { name: "ann" }, action: "read", resource: { id: "r1", type: "doc" } });
  const mesh = decisionEvent({ ...base, kind: "mesh", outcome: "reject", input: { node: { id: "n1" } } });
  t.match(mesh, { event: { outcome: "failure" }, host: { name: "n1" } });
  t.equal((mesh as { user?: unknown }).user, undefined);
  const enc = decisionEvent({ ...base, kind: "encryption", outcome: "required", input: { data: {} } });
  t.match(enc, { event: { category: "encryption", outcome: "success" } });
  const odd = decisionEvent({ ...base, kind: "access", outcome: "deny", input: null });
  t.match(odd, { decision: { outcome: "deny" } });
});

t.test("an error that quotes a redacted input value is logged with the value withheld", async (t) => {
  const engine = compile(`package q

allow "fresh-mfa" {
  when action == "read"
  require mfa within 15m
}

mesh "swarm" {
  network "100.64.0.0/10"
  when true
  require key_age within 30d
}
`);
  const secret = "hunter2-9f8e7d6c5b4a3f2e1d0c-correct-horse";
  const file = path.join(tempDir(t), "decisions.jsonl");
  const log = new DecisionLog({ path: file, now: () => FIXED, redact: ["context.mfa.verified_at", "node.key_created_at", "mesh", "kind"] });
  const node = { id: "n1", public_key: "A".repeat(43) + "=", tags: [] };
  const inputs: [string, Record<string, unknown>][] = [
    ["access", { principal: { id: "ann" }, action: "read", resource: { id: "d1" }, context: { mfa: { verified_at: secret } } }],
    ["mesh", { kind: "mesh", node: { ...node, key_created_at: secret } }],
    ["mesh", { kind: "mesh", mesh: secret, node }],
    ["access", { kind: secret, principal: { id: "ann" }, action: "read", resource: { id: "d1" } }],
  ];
  for (const [kind, input] of inputs) {
    const d = engine.evaluate(input);
    t.ok(JSON.stringify(d.errors).includes(secret.slice(0, 20)), `${kind}: the answer quotes the value`);
    log.append(kind, input, d);
  }
  await log.close();
  const text = readFileSync(file, "utf8");
  const lines = text.trim().split("\n").map((l) => JSON.parse(l));
  t.equal(lines.length, inputs.length);
  for (const l of lines) t.match(l.errors[0].message, /<withheld>/);
  t.match(lines[0].errors[0], { rule: "q/fresh-mfa", message: "`context.mfa.verified_at` must be an RFC 3339 time or epoch seconds, found <withheld>", span: { line: 5 } });
  for (let i = 0; i + 8 <= secret.length; i++) t.notOk(text.includes(secret.slice(i, i + 8)), `no ${JSON.stringify(secret.slice(i, i + 8))}`);
});

/** A real append handle whose writes take at most `perCall` bytes, and fail (ENOSPC) once `budget` bytes are in. */
function limitedFile(opts: { perCall: number; budget?: number; truncateFails?: boolean }) {
  let total = 0;
  return async (file: string): Promise<DecisionLogFile> => {
    const fh = await open(file, "a", 0o600);
    return {
      async write(buffer, offset, length) {
        const room = (opts.budget ?? Infinity) - total;
        if (room <= 0) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
        const n = Math.min(length, opts.perCall, room);
        const r = await fh.write(buffer, offset, n);
        total += r.bytesWritten;
        return r;
      },
      async truncate(len) {
        if (opts.truncateFails) throw Object.assign(new Error("EIO: i/o error, ftruncate"), { code: "EIO" });
        await fh.truncate(len);
        total = len;
      },
      stat: () => fh.stat(),
      close: () => fh.close(),
    };
  };
}

function parsedLines(file: string): unknown[] {
  return readFileSync(file, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

t.test("short writes are continued until the whole line is written", async (t) => {
  const file = path.join(tempDir(t), "d.jsonl");
  const log = new DecisionLog({ path: file, openFile: limitedFile({ perCall: 3 }) });
  for (let i = 0; i < 5; i++) log.append("access", { n: i }, { version: "v", decision: "deny" });
  await log.flush();
  log.append("access", { n: 5 }, { version: "v", decision: "allow" });
  await log.close();
  t.same(log.stats, { written: 6, dropped: 0, errors: 0, rotations: 0 });
  t.same(parsedLines(file).map((e) => (e as DecisionLogEntry & { input: { n: number } }).input.n), [0, 1, 2, 3, 4, 5]);
});

t.test("a write that fails midway is cut back to a whole line; the lost lines are counted", async (t) => {
  const file = path.join(tempDir(t), "d.jsonl");
  const errors: Error[] = [];
  const budget = { perCall: 7, budget: 0 };
  const log = new DecisionLog({ path: file, openFile: limitedFile(budget), onError: (e) => errors.push(e) });
  log.append("access", { n: 0 }, { version: "v", decision: "deny" });
  budget.budget = Infinity;
  await log.flush();
  const oneLine = statSync(file).size;
  budget.budget = oneLine + oneLine + 40; // the next flush of 3 lines fails inside its second line
  for (let i = 1; i <= 3; i++) log.append("access", { n: i }, { version: "v", decision: "deny" });
  await log.flush();
  t.equal(log.stats.errors, 1);
  t.match(errors[0]?.message, /ENOSPC/);
  t.equal(log.stats.dropped, 3, "every line of the failed write is lost (the file was cut back)");
  t.equal(statSync(file).size, oneLine, "cut back to the end of the last whole line");
  budget.budget = Infinity;
  log.append("access", { n: 4 }, { version: "v", decision: "deny" });
  await log.close();
  t.equal(log.stats.written, 2);
  t.same(parsedLines(file).map((e) => (e as { input: { n: number } }).input.n), [0, 4], "every line parses; none merged");
});

t.test("when the cut-back fails too, the fragment stays on its own line and the complete lines count as written", async (t) => {
  const file = path.join(tempDir(t), "d.jsonl");
  const limits = { perCall: 5, budget: Infinity, truncateFails: true };
  const log = new DecisionLog({ path: file, openFile: limitedFile(limits), onError: () => undefined });
  log.append("access", { n: 0 }, { version: "v", decision: "deny" });
  await log.flush();
  const oneLine = statSync(file).size;
  limits.budget = oneLine * 2 + 30; // line 1 whole, line 2 cut after 30 bytes, line 3 lost
  for (let i = 1; i <= 3; i++) log.append("access", { n: i }, { version: "v", decision: "deny" });
  await log.flush();
  t.same(log.stats, { written: 2, dropped: 2, errors: 1, rotations: 0 });
  limits.budget = Infinity;
  log.append("access", { n: 4 }, { version: "v", decision: "deny" });
  await log.close();
  t.same(log.stats, { written: 3, dropped: 2, errors: 1, rotations: 0 });
  const lines = readFileSync(file, "utf8").split("\n");
  t.equal(lines.pop(), "", "the file ends with a newline");
  const bad = lines.filter((l) => { try { JSON.parse(l); return false; } catch { return true; } });
  t.equal(bad.length, 1, "only the fragment itself does not parse");
  t.equal(bad[0]?.length, 30);
  t.same(lines.filter((l) => !bad.includes(l)).map((l) => JSON.parse(l).input.n), [0, 1, 4], "the lines around it are whole");
});

t.test("a file that an earlier process left ending in part of a line: the next process's first line stays whole", async (t) => {
  const file = path.join(tempDir(t), "d.jsonl");
  const earlier = new DecisionLog({ path: file });
  earlier.append("access", { n: 0 }, { version: "v", decision: "allow" });
  await earlier.close();
  const fragment = '{"id":"5f0c","time":"2026-';
  for (const opened of [true, false]) {
    // What a process killed between the parts of a short write (or a full disk it could not cut back) leaves.
    appendFileSync(file, fragment);
    const log = new DecisionLog({ path: file });
    if (opened) await log.open(); // a service opens at start; the CLI opens at the first write
    log.append("access", { n: opened ? 1 : 2 }, { version: "v", decision: "deny" });
    await log.close();
  }
  const later = new DecisionLog({ path: file }); // after a file that ends with a newline, no empty line
  later.append("access", { n: 3 }, { version: "v", decision: "deny" });
  await later.close();
  const lines = readFileSync(file, "utf8").split("\n");
  t.equal(lines.pop(), "", "the file ends with a newline");
  t.same([lines[1], lines[3]], [fragment, fragment], "each fragment keeps a line of its own");
  t.same([lines[0], lines[2], lines[4], lines[5]].map((l) => (JSON.parse(l!) as { input: { n: number } }).input.n), [0, 1, 2, 3], "every line written whole parses");
  t.equal(lines.length, 6);
});
