import t from "tap";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "../run.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

const POLICY = `package demo

allow "ops-restart" {
  when action == "restart" and resource.type == "node"
  when principal.roles contains "ops"
  unless resource.env == "prod"
  require mfa within 15m
}

test "ops with fresh MFA may restart a staging node" {
  access {
    principal: { id: "alice", roles: ["ops"] },
    action: "restart",
    resource: { type: "node", env: "staging" },
    context: { mfa: { verified_at: "2026-01-01T00:00:00Z" } },
    time: "2026-01-01T00:05:00Z"
  }
  expect allow
  expect result.rule == "demo/ops-restart"
}

test "stale MFA gets a step-up challenge" {
  access {
    principal: { id: "alice", roles: ["ops"] },
    action: "restart",
    resource: { type: "node", env: "staging" },
    context: { mfa: { verified_at: "2026-01-01T00:00:00Z" } },
    time: "2026-01-01T01:00:00Z"
  }
  expect challenge
  expect result.obligations[0].mfa.maxAge == "15m"
}
`;

/** The same tests, with the second one's expectation wrong. */
const FAILING = POLICY.replace("expect challenge", "expect allow");

t.test("all tests pass: exit 0, last line N passed, N failed", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICY });
  const r = await run(["test", "a.policy"], { cwd });
  t.equal(r.code, 0, r.stdout + r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  t.equal(lines.at(-1), "2 passed, 0 failed");
  t.match(r.stdout, /^ok {4}demo\/ops with fresh MFA may restart a staging node$/m);
});

t.test("a failing expectation: exit 1, expected and actual, with the span", async (t) => {
  const cwd = t.testdir({ "a.policy": FAILING });
  const r = await run(["test", "a.policy"], { cwd });
  t.equal(r.code, 1);
  t.match(r.stdout, /^FAIL {2}demo\/stale MFA gets a step-up challenge$/m);
  t.match(r.stdout, /a\.policy:\d+:3: expected allow, got challenge/);
  t.match(r.stdout, /expected: "allow"/);
  t.match(r.stdout, /actual: {3}"challenge"/);
  t.equal(r.stdout.trimEnd().split("\n").at(-1), "1 passed, 1 failed");
});

t.test("an expectation that errors fails the test, never passes it", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICY.replace('expect result.rule == "demo/ops-restart"', "expect result.nope == 1") });
  const r = await run(["test", "a.policy"], { cwd });
  t.equal(r.code, 1);
  t.match(r.stdout, /expectation errored: missing attribute `result\.nope`/);
});

t.test("--coverage lists clauses no test reached; --threshold gates on it", async (t) => {
  const extra = POLICY + `
deny "no-prod" {
  when resource.env == "prod"
  when action == "delete"
}
`;
  const cwd = t.testdir({ "a.policy": extra });
  const r = await run(["test", "--coverage", "a.policy"], { cwd });
  t.equal(r.code, 0, r.stdout);
  // no-prod's first `when` runs (false) for every test; its second is never reached.
  t.match(r.stdout, /coverage: 83\.3% of 6 clauses, 2\/2 rules exercised/);
  t.match(r.stdout, /clause never evaluated: a\.policy:\d+:3 `when` in demo\/no-prod/);
  const help = await run(["test", "--help"], { cwd });
  t.match(help.stdout, /--threshold <percent> +fail below this clause coverage \(implies --coverage\)/, "--help says what docs/cli.md says");
  const gated = await run(["test", "--threshold", "90", "a.policy"], { cwd });
  t.equal(gated.code, 1);
  t.match(gated.stdout, /below the threshold 90%/);
  t.equal(gated.stdout.trimEnd().split("\n").at(-1), "2 passed, 0 failed");
  const bad = await run(["test", "--threshold", "abc", "a.policy"], { cwd });
  t.equal(bad.code, 2);
  for (const odd of ["", " ", "0x10", "1e1"]) {
    const r = await run(["test", `--threshold=${odd}`, "a.policy"], { cwd });
    t.equal(r.code, 2, `--threshold=${JSON.stringify(odd)} is bad usage, not a gate at some other number`);
    // Empty and blank values are refused for every option before the verb runs (cli/option-values.ts).
    t.match(r.stderr, odd.trim() === "" ? /option '--threshold <percent>' must not be empty or blank/ : /--threshold must be a number from 0 to 100/);
  }
  t.equal((await run(["test", "--threshold", "12.5", "a.policy"], { cwd })).code, 0, "a decimal percentage is fine");
});

t.test("--coverage counts detect rules: reached by a matching event or named by expect alert", async (t) => {
  const detect = `package soc
detect "brute" {
  where event.outcome == "failure"
  by user.name within 5m
  having count >= 3
}
detect "miner" {
  where process.name == "xmrig"
}
detect "exfil" {
  where event.action == "upload" and bytes > 1000000
}
detect "never" {
  where event.action == "teleport"
}
test "two failures raise nothing yet" {
  events [
    { "@timestamp": "2026-01-01T00:00:00Z", event: { outcome: "failure" }, user: { name: "a" } },
    { "@timestamp": "2026-01-01T00:00:01Z", event: { outcome: "failure" }, user: { name: "a" } },
    { "@timestamp": "2026-01-01T00:00:02Z", event: { action: "upload" }, bytes: 10 }
  ]
  expect alert "soc/miner" count 0
}
`;
  const cwd = t.testdir({ "d.policy": detect });
  const r = await run(["test", "--coverage", "--format", "json", "d.policy"], { cwd });
  t.equal(r.code, 0, r.stdout);
  const cov = (JSON.parse(r.stdout) as { coverage: { rulesMissed: string[]; rulesTotal: number; clausesTotal: number } }).coverage;
  t.equal(cov.rulesTotal, 4);
  // brute: matched (no alert); miner: named by id; exfil: its `where` ran but never held; never: no event.
  t.same(cov.rulesMissed, ["soc/exfil", "soc/never"]);
  t.equal(cov.clausesTotal, 0, "detect conditions are not clauses of the percentage");
  const text = await run(["test", "--coverage", "d.policy"], { cwd });
  t.match(text.stdout, /coverage: 100% of 0 clauses, 2\/4 rules exercised/);
  t.match(text.stdout, /rule never reached: soc\/never/);
});

t.test("policy errors: diagnostics on stderr, exit 1, still a closing line", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICY.replace("principal.roles", "pricipal.roles") });
  const r = await run(["test", "a.policy"], { cwd });
  t.equal(r.code, 1);
  t.match(r.stderr, /SP2001/);
  t.equal(r.stdout, "0 passed, 0 failed\n");
});

t.test("policy errors with --format json: stdout is still JSON (an empty run), diagnostics on stderr, exit 1", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICY.replace("principal.roles", "pricipal.roles") });
  const r = await run(["test", "--format", "json", "a.policy"], { cwd });
  t.equal(r.code, 1);
  t.match(r.stderr, /SP2001/);
  t.same(JSON.parse(r.stdout), { results: [], passed: 0, failed: 0, skipped: 0 });
});

t.test("--format json gives the whole run", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICY });
  const r = await run(["test", "--format", "json", "a.policy"], { cwd });
  const json = JSON.parse(r.stdout) as { passed: number; failed: number; results: { status: string }[] };
  t.equal(json.passed, 2);
  t.equal(json.failed, 0);
  t.same(json.results.map((x) => x.status), ["passed", "passed"]);
});

t.test("the bundled example policies pass their own tests", async (t) => {
  const r = await run(["test", "--coverage", "policies"], { cwd: repoRoot });
  t.equal(r.code, 0, r.stdout);
  t.match(r.stdout.trimEnd().split("\n").at(-1) ?? "", /^\d+ passed, 0 failed$/);
});

t.test("the bundled example policies are lint-clean in strict mode and in canonical layout", async (t) => {
  const lint = await run(["lint", "--strict", "policies"], { cwd: repoRoot });
  t.equal(lint.code, 0, lint.stdout);
  const fmt = await run(["fmt", "--check", "policies"], { cwd: repoRoot });
  t.equal(fmt.code, 0, `not in canonical layout (run \`swarm-policy fmt --write policies\`):\n${fmt.stdout}`);
});

t.test("text output: control characters from test names and messages are escaped, not sent to the terminal", async (t) => {
  const policy =
    'package p\nallow "a\\u0007" {\n  when action == "x"\n}\n' +
    'test "t\x1b[2J\x1b]0;hi\x07" {\n  access { principal: {}, action: "y", resource: {}, context: {} }\n  expect allow\n}\n' +
    'test "e\x1b[1m" {\n  events [{ "@timestamp": "2026-01-01T00:00:00Z" }]\n  expect alert "r\x1b[31m"\n}\n' +
    'detect "r\x1b[31m" {\n  where event.action == "z"\n}\n' +
    'encryption "enc\\u0007" {\n  when data.x == 1\n  require tee\n}\n';
  const cwd = t.testdir({ "a.policy": policy });
  const r = await run(["test", "--coverage", "a.policy"], { cwd });
  t.equal(r.code, 1);
  t.notMatch(r.stdout, /[\x00-\x09\x0b-\x1f\x7f-\x9f]/, "no control character but line ends");
  t.match(r.stdout, /FAIL {2}p\/t\\u001b\[2J\\u001b\]0;hi\\u0007\n/);
  t.match(r.stdout, /alert "r\\u001b\[31m"/);
  t.match(r.stdout, /rule never reached: p\/enc\\u0007\n/);
});

t.test("--format json names files relative to the working directory, as the text output does", async (t) => {
  const cwd = t.testdir({ sub: { "a.policy": POLICY.replace("expect allow", "expect deny") } });
  const r = await run(["test", "--format", "json", "--coverage", "sub"], { cwd });
  const files = new Set<string>();
  JSON.stringify(JSON.parse(r.stdout), (k, v) => {
    if (k === "span" && v !== null && typeof v === "object") files.add((v as { file: string }).file);
    return v;
  });
  t.same([...files], ["sub/a.policy"]);
  const text = await run(["test", "sub"], { cwd });
  t.match(text.stdout, /--> sub\/a\.policy:/);
});

t.test("no test ran (none written, or --filter matched none): a warning, and exit 1 with --strict", async (t) => {
  const cwd = t.testdir({ "a.policy": 'package demo\nallow "read" {\n  when action == "read"\n}\n', "b.policy": POLICY });
  // The contract: exit 1 on failed tests, and none failed; a CI gate that must not pass on nothing uses --strict.
  const none = await run(["test", "a.policy"], { cwd });
  t.equal(none.code, 0, "nothing failed");
  t.equal(none.stdout, "0 passed, 0 failed\n");
  t.match(none.stderr, /warning: no tests ran: the policies hold no `test` block \(--strict fails the run\)/);
  const strict = await run(["test", "--strict", "a.policy"], { cwd });
  t.equal(strict.code, 1, "a policy set without tests proves nothing");
  t.equal(strict.stdout, "0 passed, 0 failed\n");
  t.match(strict.stderr, /no tests ran: the policies hold no `test` block/);
  const filtered = await run(["test", "--strict", "--filter", "no such test", "b.policy"], { cwd });
  t.equal(filtered.code, 1, "a mistyped --filter must not pass a strict gate");
  t.match(filtered.stderr, /no tests ran: no test id contains "no such test"/);
  const lenient = await run(["test", "--filter", "no such test", "b.policy"], { cwd });
  t.equal(lenient.code, 0);
  t.match(lenient.stderr, /warning: no tests ran: no test id contains "no such test"/);
  const json = await run(["test", "--strict", "--format", "json", "--filter", "nope", "b.policy"], { cwd });
  t.equal(json.code, 1);
  t.same(JSON.parse(json.stdout), { results: [], passed: 0, failed: 0, skipped: 0 });
  t.equal((await run(["test", "--strict", "--filter", "stale MFA", "b.policy"], { cwd })).code, 0, "a filter that matches runs those tests");
});

t.test("a test that passes on an input refused before any rule ran: a warning, and a failure with --strict", async (t) => {
  const policy = 'package demo\ndeny "no-delete" {\n  when action == "delete"\n}\ntest "typo in the input" {\n  access { principal: { id: "a" }, action: "delete", resourse: {} }\n  expect deny\n}\n';
  const cwd = t.testdir({ "a.policy": policy });
  const lenient = await run(["test", "a.policy"], { cwd });
  t.equal(lenient.code, 0, "the decision is the deny it expects");
  t.match(lenient.stdout, /ok {4}demo\/typo in the input\n {2}warning: passed on an input the engine refused before any rule ran: input is missing `resource`/);
  t.match(lenient.stdout, /1 passed, 0 failed\n$/);
  t.match(lenient.stderr, /warning: 1 test\(s\) passed on an input the engine refused before any rule ran; --strict fails them/);
  const json = JSON.parse((await run(["test", "--format", "json", "a.policy"], { cwd })).stdout) as { results: { status: string; refused?: string[] }[] };
  t.equal(json.results[0]!.status, "passed");
  t.match(json.results[0]!.refused, [/missing `resource`/]);
  const strict = await run(["test", "--strict", "a.policy"], { cwd });
  t.equal(strict.code, 1);
  t.match(strict.stdout, /FAIL {2}demo\/typo in the input[\s\S]*test input refused before any rule ran: input is missing `resource`/);
  t.match(strict.stdout, /0 passed, 1 failed\n$/);
});

t.test("--coverage never rounds up: one clause of 2001 missed is 99.9%, and --threshold 100 fails", async (t) => {
  // Rounded to the nearest tenth, 2000/2001 (99.95%) printed "100%" above a missed clause and passed --threshold 100.
  let policy = "package p\n";
  for (let i = 0; i < 1999; i++) policy += `deny "r${i}" {\n  when action == "nope${i}"\n}\n`;
  policy += `deny "last" {\n  when action == "zzz"\n  when resource.type == "t"\n}\n`;
  policy += `test "t" {\n  access { principal: {}, action: "x", resource: {} }\n  expect deny\n}\n`;
  const cwd = t.testdir({ "a.policy": policy });
  const r = await run(["test", "--threshold", "100", "a.policy"], { cwd });
  t.match(r.stdout, /coverage: 99\.9% of 2001 clauses/);
  t.match(r.stdout, /below the threshold 100%/);
  t.equal(r.code, 1);
  // The gate compares the exact ratio: 2000/2001 is 99.950025%.
  t.equal((await run(["test", "--threshold", "99.96", "a.policy"], { cwd })).code, 1, "2000/2001 is below 99.96%");
  t.equal((await run(["test", "--threshold", "99.95", "a.policy"], { cwd })).code, 0, "and not below 99.95%");
});

t.test("text output: C1 controls and line separators in the JSON of a failure (reasons, actual) are escaped too", async (t) => {
  // JSON.stringify escapes U+0000-U+001F only: a rule's `else` message with U+009B (CSI) reached the terminal raw.
  const policy =
    'package p\nallow "r" {\n  when action == "x"\n  require principal.ok ?? false else "bad\\u009b2J\\u2028x"\n}\n' +
    'test "t" {\n  access { principal: {}, action: "x", resource: {} }\n  expect allow\n  expect result.reasons[0].message == "y"\n}\n';
  const cwd = t.testdir({ "a.policy": policy });
  const r = await run(["test", "a.policy"], { cwd });
  t.equal(r.code, 1);
  t.notMatch(r.stdout, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]/, "no control character but line ends");
  t.match(r.stdout, /reasons \[.*bad\\u009b2J\\u2028x/);
});
