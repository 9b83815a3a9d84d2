import t, { type Test } from "tap";
import { ScureBase32Plugin } from "otplib";
import QRCode from "qrcode";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { totpCode } from "../../../src/runtime/mfa/totp.js";
import { run, type RunResult } from "../run.js";

const base32 = new ScureBase32Plugin();

async function keyring(t: Test) {
  const cwd = t.testdir({});
  const init = await run(["keys", "init", "--keyring", "ring"], { cwd });
  t.equal(init.code, 0, init.stderr);
  return cwd;
}

function secretOf(r: RunResult): { b32: string; bytes: Uint8Array } {
  const m = /secret=([A-Z2-7]+)/.exec(r.stdout);
  if (!m) throw new Error(`no secret in ${r.stdout}`);
  return { b32: m[1]!, bytes: base32.decode(m[1]!) };
}

const now = () => Math.floor(Date.now() / 1000);
const count = (hay: string, needle: string) => hay.split(needle).length - 1;

/** A 6-digit code that is not valid in any step of the window around now. */
function wrongCode(secret: Uint8Array): string {
  const valid = new Set([-60, -30, 0, 30, 60].map((d) => totpCode(secret, now() + d)));
  for (let n = 0; ; n++) {
    const c = String(n).padStart(6, "0");
    if (!valid.has(c)) return c;
  }
}

t.test("enroll: the secret shown once, as a URI and a QR code; sealed in the keyring", async (t) => {
  const cwd = await keyring(t);
  const r = await run(["mfa", "enroll", "alice", "--keyring", "ring"], { cwd });
  t.equal(r.code, 0, r.stderr);
  const { b32 } = secretOf(r);
  t.equal(b32.length, 32, "160 bits");
  t.match(r.stdout, new RegExp(`^otpauth://totp/swarm-policy:alice\\?secret=${b32}&issuer=swarm-policy&algorithm=SHA1&digits=6&period=30$`, "m"));
  t.equal(count(r.stdout, b32), 1, "the secret appears once, in the URI");
  t.match(r.stdout, /[▀▄█]/, "a QR code");
  t.notOk(r.stderr.includes(b32), "not on stderr");
  const event = JSON.parse(r.stderr.trim());
  t.same([event.event.action, event.event.outcome, event.user.name], ["mfa-enroll", "success", "alice"]);
  const files = await readdir(path.join(cwd, "ring/mfa/users"));
  t.equal(files.length, 1);
  const text = await readFile(path.join(cwd, "ring/mfa/users", files[0]!), "utf8");
  t.notOk(text.includes(b32));
  t.equal((await stat(path.join(cwd, "ring/mfa/users", files[0]!))).mode & 0o777, 0o600);

  const again = await run(["mfa", "enroll", "alice", "--keyring", "ring"], { cwd });
  t.equal(again.code, 2);
  t.equal(again.stderr, "swarm-policy: alice is already enrolled: pass --force to replace the secret\n");
  t.equal(again.stdout, "");
  const forced = await run(["mfa", "enroll", "alice", "--keyring", "ring", "--force", "--format", "json", "--issuer", "Acme Ops"], { cwd });
  t.equal(forced.code, 0, forced.stderr);
  const doc = JSON.parse(forced.stdout);
  t.same(Object.keys(doc).sort(), ["algorithm", "created_at", "digits", "issuer", "otpauth_uri", "period", "replaced", "user"]);
  t.equal(doc.replaced, true);
  t.match(doc.otpauth_uri, /^otpauth:\/\/totp\/Acme%20Ops:alice\?secret=[A-Z2-7]{32}&issuer=Acme%20Ops&/);
  t.not(doc.otpauth_uri.match(/secret=([A-Z2-7]+)/)[1], b32, "a new secret");
  t.equal(count(forced.stdout, doc.otpauth_uri.match(/secret=([A-Z2-7]+)/)[1]), 1, "JSON holds the secret only in the URI");
});

t.test("verify: exit 0 valid, 1 invalid; used codes and lockouts persist between invocations", async (t) => {
  const cwd = await keyring(t);
  const { bytes } = secretOf(await run(["mfa", "enroll", "alice", "--keyring", "ring"], { cwd }));
  const code = totpCode(bytes, now());
  const ok = await run(["mfa", "verify", "alice", code, "--keyring", "ring"], { cwd });
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /^valid: alice verified at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\n$/);
  const replay = await run(["mfa", "verify", "alice", code, "--keyring", "ring"], { cwd });
  t.equal(replay.code, 1, "the same code in a new process is a replay");
  t.equal(replay.stdout, "invalid code (already used)\n");

  const bads = ["12345", "abcdef", " 123456", "１２３４５６"];
  for (const [i, bad] of bads.entries()) {
    const r = await run(["mfa", "verify", "alice", bad, "--keyring", "ring", "--format", "json"], { cwd });
    t.equal(r.code, 1, JSON.stringify(bad));
    // The fifth failure (a replay and four malformed codes) starts a one-minute lock.
    t.same(JSON.parse(r.stdout), { valid: false, reason: "invalid", ...(i === 3 ? { retryAfterMs: 60_000 } : {}) }, JSON.stringify(bad));
  }
  const locked = await run(["mfa", "verify", "alice", totpCode(bytes, now() + 30), "--keyring", "ring"], { cwd });
  t.equal(locked.code, 1, "locked, even for a valid code");
  t.match(locked.stdout, /^locked: too many failed codes for alice; try again in \d+ s\n$/);
  const state = JSON.parse(await readFile(path.join(cwd, "ring/mfa/state.json"), "utf8"));
  t.equal(state.lockout.alice.failures, 5, "attempts while locked do not count");
  t.equal((await stat(path.join(cwd, "ring/mfa/state.json"))).mode & 0o777, 0o600);
});

t.test("verify --format json gives context.mfa.verified_at; the code may come from stdin", async (t) => {
  const cwd = await keyring(t);
  const { bytes } = secretOf(await run(["mfa", "enroll", "bob", "--keyring", "ring"], { cwd }));
  const r = await run(["mfa", "verify", "bob", "-", "--format", "json"], { cwd, env: { SWARM_POLICY_KEYRING: "ring" }, stdin: totpCode(bytes, now()) + "\n" });
  t.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  t.same(Object.keys(doc).sort(), ["context", "user", "valid", "verifiedAt"]);
  t.equal(doc.context.mfa.verified_at, doc.verifiedAt);
  const notEnrolled = await run(["mfa", "verify", "carol", "123456", "--keyring", "ring"], { cwd });
  t.equal(notEnrolled.code, 1);
  t.equal(notEnrolled.stdout, "invalid code (carol is not enrolled)\n");
});

t.test("events appended to --events FILE feed `swarm-policy detect`", async (t) => {
  const cwd = await keyring(t);
  const { bytes } = secretOf(await run(["mfa", "enroll", "dave", "--keyring", "ring", "--events", "mfa.jsonl"], { cwd }));
  const wrong = wrongCode(bytes);
  for (let i = 0; i < 5; i++) {
    const r = await run(["mfa", "verify", "dave", wrong, "--keyring", "ring", "--events", "mfa.jsonl"], { cwd });
    t.equal(r.code, 1);
    t.equal(r.stderr, "", "events went to the file");
  }
  const lines = (await readFile(path.join(cwd, "mfa.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l));
  t.same(
    lines.map((e) => e.event.action),
    ["mfa-enroll", "mfa-verify", "mfa-verify", "mfa-verify", "mfa-verify", "mfa-verify", "mfa-lockout"],
  );
  t.equal((await stat(path.join(cwd, "mfa.jsonl"))).mode & 0o777, 0o600);
  t.notOk(JSON.stringify(lines).includes(wrong), "the code is never in an event");
  const policy = `package mfa
detect "mfa-brute-force" {
  severity high
  where event.category == "authentication" and event.action == "mfa-verify" and event.outcome == "failure"
  by user.name within 10m
  having count >= 5
}
`;
  await writeFile(path.join(cwd, "mfa.policy"), policy);
  const d = await run(["detect", "mfa.policy", "--events", "mfa.jsonl"], { cwd });
  t.equal(d.code, 0, d.stderr);
  const alerts = d.stdout.trim().split("\n").map((l) => JSON.parse(l));
  t.same(alerts.map((a) => [a.rule, a.group]), [["mfa-brute-force", { "user.name": "dave" }]]);
});

t.test("--events FILE left ending in part of a line (a killed writer, a full disk): the next event is a line of its own", async (t) => {
  const cwd = await keyring(t);
  const fragment = '{"@timestamp":"2026-';
  await writeFile(path.join(cwd, "mfa.jsonl"), fragment, { mode: 0o600 });
  const { bytes } = secretOf(await run(["mfa", "enroll", "erin", "--keyring", "ring", "--events", "mfa.jsonl"], { cwd }));
  const r = await run(["mfa", "verify", "erin", wrongCode(bytes), "--keyring", "ring", "--events", "mfa.jsonl"], { cwd });
  t.equal(r.code, 1);
  const lines = (await readFile(path.join(cwd, "mfa.jsonl"), "utf8")).split("\n");
  t.equal(lines.pop(), "", "the file ends with a newline");
  t.equal(lines[0], fragment, "the fragment keeps a line of its own");
  t.same(lines.slice(1).map((l) => (JSON.parse(l) as { event: { action: string } }).event.action), ["mfa-enroll", "mfa-verify"], "every event parses");
});

t.test("exit 2: no keyring, not a keyring, bad user name; never a secret in an error", async (t) => {
  const cwd = await keyring(t);
  const cases: Array<[string[], RegExp]> = [
    [["mfa", "verify", "alice", "123456"], /no keyring: pass --keyring DIR or set SWARM_POLICY_KEYRING/],
    [["mfa", "verify", "alice", "123456", "--keyring", "nope"], /does not exist/],
    [["mfa", "enroll", "bad\nname", "--keyring", "ring"], /USER must be 1 to 256 characters without control characters/],
    [["mfa", "verify", "", "123456", "--keyring", "ring"], /USER must be/],
    // An empty value is refused for every option before the verb runs (cli/option-values.ts).
    [["mfa", "enroll", "x", "--keyring", "ring", "--issuer", ""], /option '--issuer <name>' must not be empty or blank/],
    [["mfa", "enroll", "x", "--keyring", "ring", "--issuer", "Acme:root"], /--issuer must not contain ':'/],
    [["mfa", "verify", "alice"], /missing required argument 'code'/],
  ];
  for (const [args, message] of cases) {
    const r = await run(args, { cwd });
    t.equal(r.code, 2, args.join(" "));
    t.match(r.stderr, message, args.join(" "));
    t.notMatch(r.stderr, /\n\s+at /, "no stack trace");
  }
  // An events log that cannot be written fails the command before the code is used up.
  const { bytes } = secretOf(await run(["mfa", "enroll", "erin", "--keyring", "ring"], { cwd }));
  const code = totpCode(bytes, now());
  const noLog = await run(["mfa", "verify", "erin", code, "--keyring", "ring", "--events", "ring"], { cwd });
  t.equal(noLog.code, 2);
  t.equal(noLog.stderr, "swarm-policy: cannot append events to ring: EISDIR\n");
  t.equal((await run(["mfa", "verify", "erin", code, "--keyring", "ring"], { cwd })).code, 0, "the code was not used up");

  const help = await run(["mfa", "verify", "--help"], { cwd });
  t.equal(help.code, 0);
  t.match(help.stdout, /\$ swarm-policy mfa verify alice 492039 --keyring ring\//);
});

t.test("enroll: the QR code is drawn without ANSI colours unless stdout is a terminal and NO_COLOR is unset", async (t) => {
  const cwd = await keyring(t);
  const enroll = (user: string, opts: { stdoutIsTTY?: boolean; env?: Record<string, string> }) => run(["mfa", "enroll", user, "--keyring", "ring"], { cwd, ...opts });
  const piped = await enroll("alice", {});
  t.equal(piped.code, 0, piped.stderr);
  t.notMatch(piped.stdout, /\x1b/, "no escape sequence in a file or a pipe");
  const uri = /^otpauth:\/\/\S+$/m.exec(piped.stdout)![0];
  t.ok(piped.stdout.includes(await QRCode.toString(uri, { type: "utf8" })), "the same QR code, in block characters only (dark modules drawn)");
  const tty = await enroll("bob", { stdoutIsTTY: true });
  t.match(tty.stdout, /\x1b\[47m/, "on a terminal: drawn on a white background, whatever the terminal's colours");
  const noColor = await enroll("carol", { stdoutIsTTY: true, env: { NO_COLOR: "1" } });
  t.notMatch(noColor.stdout, /\x1b/, "NO_COLOR");
  t.match(noColor.stdout, /[▀▄█]/);
});

t.test("enroll: a URI too long for a QR code is refused before anything is enrolled; JSON output needs no QR code", async (t) => {
  const cwd = await keyring(t);
  const args = ["mfa", "enroll", "漢".repeat(256), "--keyring", "ring", "--issuer", "漢".repeat(128)];
  const r = await run(args, { cwd });
  t.equal(r.code, 2, r.stderr);
  t.match(r.stderr, /too long for a QR code/);
  t.equal(r.stdout, "");
  t.same(await readdir(path.join(cwd, "ring/mfa/users")).catch(() => []), [], "not enrolled: a secret nobody saw would lock the user out");
  const json = await run([...args, "--format", "json"], { cwd });
  t.equal(json.code, 0, json.stderr);
  t.match(JSON.parse(json.stdout).otpauth_uri, /^otpauth:\/\/totp\//);
});

t.test("rotate, mfa rewrap, keys retire: enrolled users still verify; retire refuses while secrets need the version", async (t) => {
  const cwd = await keyring(t);
  const alice = secretOf(await run(["mfa", "enroll", "alice", "--keyring", "ring"], { cwd })).bytes;
  const bob = secretOf(await run(["mfa", "enroll", "bob", "--keyring", "ring"], { cwd })).bytes;
  t.equal((await run(["keys", "rotate", "--keyring", "ring"], { cwd })).code, 0);

  const early = await run(["keys", "retire", "--keyring", "ring", "1"], { cwd });
  t.equal(early.code, 1, "refused: the secrets are still sealed under version 1");
  t.equal(
    early.stderr,
    'swarm-policy: KEK "kek" version 1 still seals the MFA secrets of 2 users (alice, bob): run `swarm-policy mfa rewrap` first, or pass --force to retire it anyway (they could no longer verify)\n',
  );

  const r = await run(["mfa", "rewrap", "--keyring", "ring"], { cwd });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^alice: KEK "kek" version 1 -> KEK "kek" version 2$/m);
  t.match(r.stdout, /^bob: KEK "kek" version 1 -> KEK "kek" version 2$/m);
  t.match(r.stdout, /^2 resealed, 0 already current, 0 failed$/m);
  const again = await run(["mfa", "rewrap", "--keyring", "ring", "--format", "json"], { cwd });
  t.equal(again.code, 0);
  t.same(JSON.parse(again.stdout).users.map((u: { status: string }) => u.status), ["current", "current"]);

  const retire = await run(["keys", "retire", "--keyring", "ring", "1"], { cwd });
  t.equal(retire.code, 0, retire.stderr);
  for (const [user, secret] of [["alice", alice], ["bob", bob]] as const) {
    const v = await run(["mfa", "verify", user, totpCode(secret, now()), "--keyring", "ring"], { cwd });
    t.equal(v.code, 0, `${user} verifies after version 1 is retired: ${v.stdout}${v.stderr}`);
  }
  for (const out of [early, r, again, retire]) for (const s of [alice, bob]) t.notOk((out.stdout + out.stderr).includes(base32.encode(s)), "no secret in any output");
});

t.test("keys retire checks and retires under the enrolment lock that mfa enroll and mfa rewrap seal under", async (t) => {
  // Checked outside the lock, an enrolment sealing under version 1 meanwhile (its keyring opened
  // before the rotation) wrote a secret nobody could open once the retirement went through.
  const cwd = await keyring(t);
  t.equal((await run(["keys", "rotate", "--keyring", "ring"], { cwd })).code, 0);
  await mkdir(path.join(cwd, "ring", "mfa"), { recursive: true, mode: 0o700 });
  await writeFile(path.join(cwd, "ring", "mfa", "enrollments.lock"), `${process.pid} enrolling\n`, { mode: 0o600 }); // a live owner
  const r = await run(["keys", "retire", "--keyring", "ring", "1"], { cwd }); // waits for the lock (5 s), then gives up
  t.equal(r.code, 1, r.stderr);
  t.match(r.stderr, /are locked by another process; try again \(mfa enroll or mfa rewrap\)/);
  const list = JSON.parse((await run(["keys", "list", "--keyring", "ring", "-f", "json"], { cwd })).stdout);
  t.same(list.keks.map((k: { version: number; status: string }) => `${k.version}/${k.status}`), ["1/active", "2/primary"], "nothing retired");
});

t.test("keys retire --force retires anyway; mfa rewrap then reports the lost secret and exits 1", async (t) => {
  const cwd = await keyring(t);
  t.equal((await run(["mfa", "enroll", "alice", "--keyring", "ring"], { cwd })).code, 0);
  t.equal((await run(["keys", "rotate", "--keyring", "ring"], { cwd })).code, 0);
  const forced = await run(["keys", "retire", "--keyring", "ring", "--force", "1"], { cwd });
  t.equal(forced.code, 0, forced.stderr);
  const r = await run(["mfa", "rewrap", "--keyring", "ring"], { cwd });
  t.equal(r.code, 1);
  t.match(r.stderr, /^swarm-policy: alice: KEK "kek" version 1 was retired on .* and no longer decrypts\n$/);
  t.match(r.stdout, /^0 resealed, 0 already current, 1 failed\n$/);
  const v = await run(["mfa", "verify", "alice", "123456", "--keyring", "ring"], { cwd });
  t.not(v.code, 0, "alice can no longer verify (re-enrol her)");
});

t.test("enroll --force with an unusable state file refuses before the secret is replaced (it was replaced and never shown)", async (t) => {
  const cwd = await keyring(t);
  const first = await run(["mfa", "enroll", "alice", "--keyring", "ring"], { cwd });
  t.equal(first.code, 0, first.stderr);
  const users = path.join(cwd, "ring/mfa/users");
  const [file] = await readdir(users);
  const sealed = await readFile(path.join(users, file!), "utf8");
  await writeFile(path.join(cwd, "ring/mfa/state.json"), "not json\n", { mode: 0o600 });
  const r = await run(["mfa", "enroll", "alice", "--keyring", "ring", "--force"], { cwd });
  t.equal(r.code, 2);
  t.match(r.stderr, /state\.json is not a valid MFA state file/);
  t.equal(r.stdout, "");
  t.equal(await readFile(path.join(users, file!), "utf8"), sealed, "the old secret is still the one sealed, so alice can still verify");
  const code = totpCode(secretOf(first).bytes, now());
  await writeFile(path.join(cwd, "ring/mfa/state.json"), JSON.stringify({ format: "swarm-policy-mfa-state", version: 1, replay: {}, lockout: {} }), { mode: 0o600 });
  const v = await run(["mfa", "verify", "alice", code, "--keyring", "ring"], { cwd });
  t.equal(v.code, 0, v.stdout + v.stderr);
});
