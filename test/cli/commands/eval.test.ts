import t from "tap";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { run } from "../run.js";

const POLICY = `package demo
allow "read-docs" {
  when action == "read" and resource.type == "doc"
}
deny "no-prod-delete" {
  when action == "delete" and resource.env == "prod"
}
encryption default {
  require cipher "aes-256-gcm"
}
`;
const READ = { principal: { id: "a" }, action: "read", resource: { type: "doc", env: "dev" }, context: {} };

t.test("prints the decision JSON for one input", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICY, "in.json": JSON.stringify(READ) });
  const r = await run(["eval", "a.policy", "--input", "in.json"], { cwd });
  t.equal(r.code, 0, r.stderr);
  const d = JSON.parse(r.stdout);
  t.equal(d.decision, "allow");
  t.equal(d.rule, "demo/read-docs");
  t.match(d.version, /^[0-9a-f]{64}$/);
});

t.test("reads stdin with -, a list is a batch, --kind overrides", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICY });
  const list = [READ, { ...READ, action: "delete", resource: { type: "doc", env: "prod" } }];
  const r = await run(["eval", "a.policy", "--input", "-"], { cwd, stdin: JSON.stringify(list) });
  t.equal(r.code, 0);
  t.same((JSON.parse(r.stdout) as { decision: string }[]).map((d) => d.decision), ["allow", "deny"]);
  const enc = await run(["eval", "a.policy", "--kind", "encryption", "--input", "-"], { cwd, stdin: '{"data":{"classification":"public"}}' });
  t.equal(JSON.parse(enc.stdout).cipher, "aes-256-gcm");
});

t.test("--explain adds every rule considered", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICY, "in.json": JSON.stringify(READ) });
  const r = await run(["eval", "a.policy", "--input", "in.json", "--explain"], { cwd });
  const d = JSON.parse(r.stdout);
  t.ok(Array.isArray(d.explain.rules) && d.explain.rules.length > 0);
});

t.test("malformed or missing input is exit 2 with a clear message", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICY, "bad.json": "{nope" });
  const bad = await run(["eval", "a.policy", "--input", "bad.json"], { cwd });
  t.equal(bad.code, 2);
  t.match(bad.stderr, /bad\.json is not valid JSON/);
  t.equal(bad.stdout, "");
  const missing = await run(["eval", "a.policy", "--input", "nope.json"], { cwd });
  t.equal(missing.code, 2);
  t.match(missing.stderr, /cannot read input nope\.json: no such file or directory/);
});

t.test("input that is not JSON is named by line and column on one stderr line (docs/cli.md: one line each)", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICY, "bad.json": '{\n  "principal": nope\n}\n' });
  // V8's own message quotes the input, newline included, which split the error over two lines.
  const stdin = await run(["eval", "a.policy", "--input", "-"], { cwd, stdin: "nope\n" });
  t.equal(stdin.code, 2);
  t.equal(stdin.stderr, 'swarm-policy: input (stdin) is not valid JSON: line 1, column 1: unexpected "n"\n');
  const file = await run(["eval", "a.policy", "--input", "bad.json"], { cwd });
  t.equal(file.code, 2);
  t.equal(file.stderr, 'swarm-policy: input bad.json is not valid JSON: line 2, column 16: unexpected "n"\n');
});

t.test("an input with a leading UTF-8 byte-order mark is read (file and stdin), as policies and events are", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICY, "in.json": "\ufeff" + JSON.stringify(READ) });
  const file = await run(["eval", "a.policy", "--input", "in.json"], { cwd });
  t.equal(file.code, 0, file.stderr);
  t.equal(JSON.parse(file.stdout).decision, "allow");
  const stdin = await run(["eval", "a.policy", "--input", "-"], { cwd, stdin: "\ufeff" + JSON.stringify(READ) });
  t.equal(stdin.code, 0, stdin.stderr);
  t.equal(JSON.parse(stdin.stdout).decision, "allow");
});

t.test("an input that is not UTF-8 is refused with the place of the first bad byte, not read with U+FFFD", async (t) => {
  // A Latin-1 "josé" read leniently was "jos\ufffd": a deny rule naming josé did not apply to it.
  const cwd = t.testdir({ "a.policy": POLICY });
  writeFileSync(path.join(cwd, "latin1.json"), Buffer.concat([Buffer.from('{\n "principal": { "id": "jos'), Buffer.from([0xe9]), Buffer.from('" } }\n')]));
  const r = await run(["eval", "a.policy", "--input", "latin1.json"], { cwd });
  t.equal(r.code, 2);
  t.equal(r.stdout, "");
  t.equal(r.stderr, "swarm-policy: cannot read input latin1.json: not valid UTF-8 (byte 0xe9 at line 2, column 27)\n");
});

t.test("policy errors: the decision still fails closed, exit 1", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICY.replace('action == "read"', "acton == \"read\""), "in.json": JSON.stringify(READ) });
  const r = await run(["eval", "a.policy", "--input", "in.json"], { cwd });
  t.equal(r.code, 1);
  t.equal(JSON.parse(r.stdout).decision, "deny");
  t.match(r.stderr, /SP2001/);
});

t.test("spans in the decision name the file relative to the working directory, as every output format does", async (t) => {
  const cwd = t.testdir({ sub: { "a.policy": POLICY.replace('resource.type == "doc"', 'resource.kind == "doc"') } });
  const r = await run(["eval", "sub", "--input", "-", "--explain"], { cwd, stdin: JSON.stringify(READ) });
  t.equal(r.code, 0, r.stderr);
  const files = new Set<string>();
  JSON.stringify(JSON.parse(r.stdout), (k, v) => {
    if (k === "span" && v !== null && typeof v === "object") files.add((v as { file: string }).file);
    return v;
  });
  t.same([...files], ["sub/a.policy"]);
  t.match(JSON.parse(r.stdout).errors, [{ span: { file: "sub/a.policy", line: 3 } }], "the missing attribute's error names the file");
});
