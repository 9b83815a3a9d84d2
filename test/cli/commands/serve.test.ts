/**
 * `swarm-policy serve`: refusals in-process (exit 2 before listening, one
 * line on stderr), and the real process: it listens, answers, reloads on
 * SIGHUP and exits 0 on SIGTERM. Synchronised on its JSON log lines.
 */
import t from "tap";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { run } from "../run.js";
import { totpCode } from "../../../src/index.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const POLICY = 'package demo\n\nallow "read-docs" {\n  when action == "read" and resource.type == "doc"\n}\n';

t.test("--help documents the flags with an example", async (t) => {
  const r = await run(["serve", "--help"], { cwd: repoRoot });
  t.equal(r.code, 0);
  for (const flag of ["--port", "--host", "--config", "--decision-log", "--risk-state", "--tls-cert", "--tls-key", "--tls-client-ca", "--no-watch", "--log-level", "Examples:"]) {
    t.match(r.stdout, flag);
  }
});

t.test("refusals: exit 2 before listening, one clear line", async (t) => {
  const cwd = t.testdir({
    "a.policy": POLICY,
    "bad.yaml": "limits:\n  body_bytes: lots\n",
    "unknown.yaml": "limits:\n  bodybytes: 10\n",
    "broken.yaml": "clients: [\n",
    "ok.yaml": "port: 0\n",
  });
  const cases: [string[], RegExp][] = [
    [["serve", "a.policy", "--port", "http"], /--port must be a whole number from 0 to 65535/],
    [["serve", "a.policy", "--port", "70000"], /--port must be a whole number/],
    [["serve", "nope.policy"], /cannot read nope\.policy: no such file or directory/],
    [["serve", "a.policy", "--host", "0.0.0.0"], /refusing to listen on 0\.0\.0\.0 without authentication/],
    // An empty host listened on every interface ([::]) where the config file refuses it: named as the option's mistake.
    [["serve", "a.policy", "--host", ""], /^swarm-policy: option '-H, --host <host>' must not be empty or blank/],
    [["serve", "a.policy", "--port", "1.5"], /--port must be a whole number from 0 to 65535, got "1\.5"/],
    [["serve", "a.policy", "--port", "--host", "::1"], /option '-p, --port <port>' got "--host" as its value/],
    [["serve", "a.policy", "--config", "missing.yaml"], /cannot read config .*missing\.yaml: no such file or directory/],
    [["serve", "a.policy", "--config", "bad.yaml"], /bad\.yaml: limits\.body_bytes: must be integer/],
    [["serve", "a.policy", "--config", "unknown.yaml"], /unknown\.yaml: limits\.bodybytes: unknown field/],
    [["serve", "a.policy", "--config", "broken.yaml"], /broken\.yaml:\d+:\d+: not valid YAML or JSON/],
    [["serve", "a.policy", "--tls-cert", "x.pem"], /--tls-cert and --tls-key go together/],
    [["serve", "a.policy", "--tls-client-ca", "ca.pem"], /--tls-client-ca needs TLS/],
    [["serve", "a.policy", "--port", "0", "--tls-cert", "x.pem", "--tls-key", "y.pem"], /tls\.cert: cannot read .*x\.pem: no such file or directory/],
    [["serve", "a.policy", "--log-level", "loud"], /argument 'loud' is invalid/],
    [["serve", "a.policy", "--keyring", "no-ring"], /mfa keyring: keyring directory .*no-ring does not exist/],
    // A keyring path the file system will not read: named, not an internal error.
    [["serve", "a.policy", "--keyring", "a.policy/ring"], /^swarm-policy: mfa keyring: cannot read .*a\.policy\/ring: not a directory\n$/],
    // A decision log that cannot be written: refused before listening, not every decision dropped while serving.
    [["serve", "a.policy", "--port", "0", "--decision-log", "no-dir/decisions.jsonl"], /^swarm-policy: decision_log\.path: cannot open .*no-dir\/decisions\.jsonl: no such file or directory\n$/],
    [["serve", "a.policy", "--port", "0", "--decision-log", "."], /^swarm-policy: decision_log\.path: cannot open .*: is a directory\n$/],
    // A risk state the server cannot trust: refused, never served with nobody quarantined.
    [["serve", "a.policy", "--port", "0", "--risk-state", "bad.yaml"], /^swarm-policy: risk\.state_file: .*bad\.yaml is not valid JSON/],
    [["serve", "a.policy", "--port", "0", "--risk-state", "no-dir/risk.json"], /^swarm-policy: risk\.state_file: cannot write .*no-dir\/risk\.json: no such file or directory\n$/],
  ];
  for (const [args, message] of cases) {
    const r = await run(args, { cwd });
    t.equal(r.code, 2, args.join(" "));
    t.match(r.stderr, message, args.join(" "));
    t.notMatch(r.stderr, /\n\s+at /, "no stack trace");
  }
  // The used codes and lockouts the server would keep: an unusable file stops it before it listens.
  t.equal((await run(["keys", "init", "--keyring", "ring", "--protect", "none"], { cwd })).code, 0);
  mkdirSync(path.join(cwd, "ring/mfa"), { recursive: true, mode: 0o700 });
  writeFileSync(path.join(cwd, "ring/mfa/state.json"), "{}", { mode: 0o600 });
  const r = await run(["serve", "a.policy", "--keyring", "ring"], { cwd });
  t.equal(r.code, 2);
  t.match(r.stderr, /mfa keyring: .*state\.json is not a valid MFA state file/);
  rmSync(path.join(cwd, "ring/mfa"), { recursive: true });
  writeFileSync(path.join(cwd, "ring/mfa"), "not a directory");
  const notDir = await run(["serve", "a.policy", "--keyring", "ring"], { cwd });
  t.equal(notDir.code, 2);
  t.equal(notDir.stderr, "swarm-policy: mfa keyring: cannot use the MFA state in ring/mfa: EEXIST\n");
});

/** The serve verb as a real process, with its JSON log lines awaitable. */
function spawnServe(t: Tap, cwd: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "src/cli/bin.ts"), "serve", ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.teardown(() => void child.kill("SIGKILL"));
  const waiting: { pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: child.stderr! }).on("line", (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      line = { text };
    }
    lines.push(line);
    for (const w of [...waiting]) if (w.pred(line)) (waiting.splice(waiting.indexOf(w), 1), w.resolve(line));
  });
  const logLine = (pred: (l: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const seen = lines.find(pred);
      if (seen) resolve(seen);
      else waiting.push({ pred, resolve });
    });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, lines, logLine, exited };
}
type Tap = { teardown(fn: () => void): void };

t.test("the process: listens, answers, reloads on SIGHUP, exits 0 on SIGTERM", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICY });
  const { child, lines, logLine, exited } = spawnServe(t, cwd, ["a.policy", "--port", "0", "--no-watch"]);

  const listening = await logLine((l) => l.msg === "listening");
  const url = listening.url as string;
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const r = await fetch(`${url}/v1/evaluate`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ principal: { id: "a" }, action: "read", resource: { type: "doc" } }),
  });
  const d = (await r.json()) as { decision: string; version: string };
  t.equal(d.decision, "allow");

  writeFileSync(path.join(cwd, "a.policy"), POLICY.replace('"read"', '"view"'));
  child.kill("SIGHUP");
  const reloaded = await logLine((l) => l.msg === "policy set loaded" && l.trigger === "signal");
  t.not(reloaded.version, d.version, "SIGHUP loaded the changed file");

  child.kill("SIGTERM");
  t.equal(await exited, 0, "a graceful stop");
  t.ok(lines.some((l) => l.msg === "closed"));
});

t.test("a SIGHUP while starting is not the end of the process: the reload is done once listening", async (t) => {
  // Signalled as soon as the first load is logged, before the server listens (on a large set the two
  // take seconds): the default action of SIGHUP would end the process with 129.
  const cwd = t.testdir({ "a.policy": POLICY });
  const { child, logLine, exited } = spawnServe(t, cwd, ["a.policy", "--port", "0", "--no-watch"]);
  const first = await logLine((l) => l.msg === "policy set loaded" && l.trigger === "start");
  writeFileSync(path.join(cwd, "a.policy"), POLICY.replace('"read"', '"view"'));
  child.kill("SIGHUP");
  const reloaded = await Promise.race([logLine((l) => l.msg === "policy set loaded" && l.trigger === "signal"), exited.then((code) => ({ exited: code }))]);
  t.not((reloaded as { exited?: unknown }).exited, 129, "the process was not ended by the signal");
  t.not((reloaded as { version?: string }).version, first.version, "the edit made before the signal is loaded");
  await logLine((l) => l.msg === "listening");
  child.kill("SIGTERM");
  t.equal(await exited, 0, "a graceful stop");
});

t.test("a SIGHUP while the CLI's modules load is held for serve and becomes the first reload", async (t) => {
  // bin.ts holds hangups before it loads the rest; the preload stops the load of main.js until
  // told, so the signal lands in that window every time (it once ended the process with 129).
  const cwd = t.testdir({ "a.policy": POLICY, gate: {} });
  const gate = path.join(cwd, "gate");
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "--import", path.join(repoRoot, "test/support/gate-main.mjs"), path.join(repoRoot, "src/cli/bin.ts"), "serve", "a.policy", "--port", "0", "--no-watch"],
    { cwd, env: { ...process.env, GATE_DIR: gate }, stdio: ["ignore", "ignore", "pipe"] },
  );
  t.teardown(() => void child.kill("SIGKILL"));
  const lines: Record<string, unknown>[] = [];
  const seen = new Promise<void>((resolve) =>
    createInterface({ input: child.stderr! }).on("line", (text) => {
      try {
        lines.push(JSON.parse(text) as Record<string, unknown>);
      } catch {
        lines.push({ text });
      }
      if (lines.some((l) => l.msg === "listening") && lines.some((l) => l.trigger === "signal")) resolve();
    }),
  );
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code, signal) => resolve(code ?? (signal === null ? null : 128))));
  while (!existsSync(path.join(gate, "loading"))) await new Promise((r) => setTimeout(r, 10));
  child.kill("SIGHUP");
  await new Promise((r) => setTimeout(r, 200)); // the signal is delivered while main.js is still held
  writeFileSync(path.join(gate, "go"), "");
  const first = await Promise.race([seen.then(() => "served"), exited]);
  t.equal(first, "served", `the process lived on: ${JSON.stringify(lines)}`);
  t.same(
    lines.filter((l) => l.msg === "policy set loaded").map((l) => l.trigger),
    ["start", "signal"],
    "the held hangup is one reload, after the first load",
  );
  child.kill("SIGTERM");
  t.equal(await exited, 0, "a graceful stop");
});

t.test("--risk-state: a quarantine raised before a SIGKILL holds after the restart", async (t) => {
  const policy = `detect "spray" {
  where event.action == "login" and event.outcome == "failure"
  then quarantine host.name for 1h
}
deny "quarantined" { when quarantined(resource.id) }
allow "read" { when action == "read" }
`;
  const cwd = t.testdir({ "q.policy": policy });
  const state = path.join(cwd, "risk.json");
  const decide = async (url: string) => {
    const r = await fetch(`${url}/v1/evaluate`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ principal: { id: "a" }, action: "read", resource: { id: "h1" } }) });
    return ((await r.json()) as { decision: string }).decision;
  };
  const first = spawnServe(t, cwd, ["q.policy", "--port", "0", "--no-watch", "--risk-state", "risk.json"]);
  const url1 = (await first.logLine((l) => l.msg === "listening")).url as string;
  t.equal(await decide(url1), "allow");
  const event = { "@timestamp": new Date().toISOString(), event: { action: "login", outcome: "failure" }, host: { name: "h1" } };
  const pushed = await fetch(`${url1}/v1/events`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(event) });
  t.equal(((await pushed.json()) as { alerts: unknown[] }).alerts.length, 1);
  t.equal(await decide(url1), "deny");
  // Saved within the interval (1 s), without a stop.
  const since = Date.now();
  while (!readFileSync(state, "utf8").includes('"h1"') && Date.now() - since < 15_000) await new Promise((r) => setTimeout(r, 50));
  first.child.kill("SIGKILL");
  await first.exited;

  const second = spawnServe(t, cwd, ["q.policy", "--port", "0", "--no-watch", "--risk-state", "risk.json"]);
  t.match(await second.logLine((l) => l.msg === "risk state loaded"), { quarantines: 1 });
  const url2 = (await second.logLine((l) => l.msg === "listening")).url as string;
  t.equal(await decide(url2), "deny", "still quarantined after the crash and restart (memory only, it was allowed)");
  second.child.kill("SIGTERM");
  t.equal(await second.exited, 0);
});

t.test("--risk-state: SIGTERM and SIGINT save what the interval has not yet saved before the process ends", async (t) => {
  const policy = `detect "spray" {
  where event.action == "login" and event.outcome == "failure"
  then quarantine host.name for 1h
}
allow "read" { when action == "read" }
`;
  // An interval no test waits for: only the stop can have written the quarantine.
  const cwd = t.testdir({ "q.policy": policy, "c.yaml": "risk:\n  save_interval_ms: 3600000\n" });
  const state = path.join(cwd, "risk.json");
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    rmSync(state, { force: true });
    const child = spawnServe(t, cwd, ["q.policy", "--port", "0", "--no-watch", "--config", "c.yaml", "--risk-state", "risk.json"]);
    const url = (await child.logLine((l) => l.msg === "listening")).url as string;
    const event = { "@timestamp": new Date().toISOString(), event: { action: "login", outcome: "failure" }, host: { name: `h-${signal}` } };
    const pushed = await fetch(`${url}/v1/events`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(event) });
    t.equal(((await pushed.json()) as { alerts: unknown[] }).alerts.length, 1);
    t.same(JSON.parse(readFileSync(state, "utf8")).quarantines, [], `${signal}: not saved yet`);
    child.child.kill(signal);
    t.equal(await child.exited, 0, `${signal}: a graceful stop`);
    t.match(JSON.parse(readFileSync(state, "utf8")).quarantines, [{ id: `h-${signal}` }], `${signal}: saved at the stop`);
  }
});

/** RFC 4648 base32 (the otpauth secret) to bytes. */
function base32(text: string): Uint8Array {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of text.replace(/=+$/, "").toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}

t.test("--keyring: POST /v1/mfa/verify checks codes against the keyring's enrolments", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICY });
  const init = await run(["keys", "init", "--keyring", "ring", "--protect", "none"], { cwd });
  t.equal(init.code, 0, init.stderr);
  const enrolled = await run(["mfa", "enroll", "alice", "--keyring", "ring", "--format", "json", "--events", "events.jsonl"], { cwd });
  t.equal(enrolled.code, 0, enrolled.stderr);
  const uri = new URL(JSON.parse(enrolled.stdout).otpauth_uri as string);
  const secret = base32(uri.searchParams.get("secret")!);
  const serve = async () => {
    const s = spawnServe(t, cwd, ["a.policy", "--port", "0", "--no-watch"], { SWARM_POLICY_KEYRING: path.join(cwd, "ring") });
    const url = (await s.logLine((l) => l.msg === "listening")).url as string;
    const verify = (code: string) =>
      fetch(`${url}/v1/mfa/verify`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ user: "alice", code }) }).then(
        async (r) => [r.status, await r.json()] as const,
      );
    return { ...s, verify };
  };
  const first = await serve();
  const code = totpCode(secret, Math.floor(Date.now() / 1000));
  const [status, good] = await first.verify(code);
  t.equal(status, 200);
  t.match(good, { valid: true, user: "alice", verified_at: String });
  t.match((await first.verify(code))[1], { valid: false, reason: "replay" });
  // The used codes and the lockout are the keyring's (mfa/state.json), shared with `mfa verify`.
  const cli = await run(["mfa", "verify", "alice", code, "--keyring", "ring", "--events", "events.jsonl"], { cwd });
  t.equal(cli.stdout, "invalid code (already used)\n", "a code the server accepted is used for the CLI too");
  first.child.kill("SIGTERM");
  t.equal(await first.exited, 0);

  const second = await serve();
  t.match((await second.verify(code))[1], { valid: false, reason: "replay" }, "a restart forgets no used code");
  for (let i = 0; i < 3; i++) await run(["mfa", "verify", "alice", "12345", "--keyring", "ring", "--events", "events.jsonl"], { cwd });
  const [locked] = await second.verify("000000");
  t.equal(locked, 429, "failures at the CLI and the server count toward one lock");
  second.child.kill("SIGTERM");
  t.equal(await second.exited, 0);
});
