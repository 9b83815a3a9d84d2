import t from "tap";
import { run } from "../run.js";

const POLICY = `package demo
encryption "phi" {
  tags ["HIPAA:164.312(a)(2)(iv)", "GDPR:Art.32"]
  when data.classification == "phi"
  require cipher "aes-256-gcm"
  require key_age within 90d
  require tee
}
`;

const ok = { id: "ok", classification: "phi", encryption: { cipher: "aes-256-gcm", key_created_at: "2026-02-01T00:00:00Z", tee: true } };
const bad = { id: "no-tee", classification: "phi", encryption: { cipher: "aes-256-gcm", key_created_at: "2026-02-01T00:00:00Z", tee: false } };
const jsonl = (...rs: unknown[]) => rs.map((r) => (typeof r === "string" ? r : JSON.stringify(r))).join("\n") + "\n";
const NOW = ["--now", "2026-03-01T00:00:00Z"];

t.test("exit 0 when all compliant, 1 when anything is not; text by default", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICY, "good.jsonl": jsonl(ok), "mixed.jsonl": jsonl(ok, bad) });
  const good = await run(["audit", "a.policy", "--inventory", "good.jsonl", ...NOW], { cwd });
  t.equal(good.code, 0, good.stderr);
  t.match(good.stdout, /^COMPLIANT: 1 record, 1 compliant/m);
  t.equal(good.stderr, "");
  const mixed = await run(["audit", "a.policy", "--inventory", "mixed.jsonl", ...NOW], { cwd });
  t.equal(mixed.code, 1);
  t.match(mixed.stdout, /^NOT COMPLIANT: 2 records, 1 compliant, 1 non-compliant, 0 invalid/m);
  t.match(mixed.stdout, /line 2: no-tee non-compliant/);
  const later = await run(["audit", "a.policy", "--inventory", "good.jsonl", "--now", "2026-06-01T00:00:00Z"], { cwd });
  t.equal(later.code, 1, "--now moves the key-age check");
});

t.test("--format json: the report object; --format html: a page", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICY, "inv.json": JSON.stringify([ok, bad, { id: "x" }], null, 2) });
  const j = await run(["audit", "a.policy", "--inventory", "inv.json", "--format", "json", ...NOW], { cwd });
  t.equal(j.code, 1);
  const report = JSON.parse(j.stdout);
  t.equal(report.format, "swarm-policy-audit");
  t.same(report.totals, { records: 3, compliant: 1, nonCompliant: 1, invalid: 1, violations: 1 });
  t.same(report.invalid[0].line, 20, "the line where the array element starts");
  t.same(report.invalid[0].problems, [{ path: "", message: "must have required property 'encryption'" }]);
  t.same(
    report.groups.map((g: { group: string; nonCompliant: number }) => [g.group, g.nonCompliant]),
    [
      ["GDPR:Art.32", 1],
      ["HIPAA:164.312(a)(2)(iv)", 1],
      ["unattributed", 1],
    ],
  );
  const h = await run(["audit", "a.policy", "-i", "inv.json", "-f", "html", ...NOW], { cwd });
  t.equal(h.code, 1);
  t.match(h.stdout, /^<!doctype html>/);
  t.match(h.stdout, /NOT COMPLIANT: 3 records/);
});

t.test("standard input, and progress only on a terminal", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICY });
  const stdin = jsonl(ok, ok);
  const r = await run(["audit", "a.policy", "--inventory", "-", ...NOW], { cwd, stdin });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^Encryption audit of \(stdin\)/);
  const tty = await run(["audit", "a.policy", "--inventory", "-", ...NOW], { cwd, stdin, stderrIsTTY: true });
  t.equal(tty.code, 0);
  t.match(tty.stderr, /\r\x1b\[K$/, "the progress line is cleared at the end");
});

t.test("exit 2: unreadable, missing, truncated; bad options", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICY, "cut.json": '[\n{"id":"a","encryption":{"cipher":"aes-256-gcm"}},\n{"id":', dir: {} });
  const cases: Array<[string[], RegExp]> = [
    [["--inventory", "nope.jsonl"], /^swarm-policy: cannot read inventory nope\.jsonl: no such file or directory\n$/],
    [["--inventory", "dir"], /^swarm-policy: cannot read inventory dir: is a directory\n$/],
    [["--inventory", "cut.json"], /^swarm-policy: cut\.json:3: the inventory ends inside its JSON array \(is the file truncated\?\)\n$/],
    [["--inventory", "cut.json", "--now", "yesterday"], /--now must be an RFC 3339 time/],
    // Date.parse would take these as March 2nd and January 2nd: a report at a time nobody asked for.
    [["--inventory", "cut.json", "--now", "2026-02-30T00:00:00Z"], /--now must be an RFC 3339 time such as 2026-01-01T00:00:00Z, got "2026-02-30T00:00:00Z"/],
    [["--inventory", "cut.json", "--now", "2026-01-01T24:00:00Z"], /--now must be an RFC 3339 time/],
    [["--inventory", "cut.json", "--max-details", "-3"], /--max-details must be a whole number/],
    [["--inventory", "cut.json", "--format", "pdf"], /argument 'pdf' is invalid/],
  ];
  for (const [args, message] of cases) {
    const r = await run(["audit", "a.policy", ...args], { cwd });
    t.equal(r.code, 2, args.join(" "));
    t.match(r.stderr, message, args.join(" "));
    t.equal(r.stdout, "", `${args.join(" ")}: no report`);
    t.notMatch(r.stderr, /\n\s+at /, "no stack trace");
  }
});

t.test("policies: errors exit 1, no encryption rules exit 2; an empty inventory exits 1", async (t) => {
  const cwd = t.testdir({
    "a.policy": POLICY,
    "broken.policy": 'encryption "x" {\n  require cipher\n}\n',
    "access.policy": 'allow "r" {\n  when action == "read"\n}\n',
    "empty.jsonl": "\n\n",
  });
  const broken = await run(["audit", "broken.policy", "--inventory", "empty.jsonl"], { cwd });
  t.equal(broken.code, 1);
  t.equal(broken.stdout, "");
  t.match(broken.stderr, /error/);
  const none = await run(["audit", "access.policy", "--inventory", "empty.jsonl"], { cwd });
  t.equal(none.code, 2);
  t.match(none.stderr, /^swarm-policy: no encryption rules in access\.policy: there is nothing to audit against\n$/);
  const empty = await run(["audit", "a.policy", "--inventory", "empty.jsonl", "-f", "json"], { cwd });
  t.equal(empty.code, 1);
  t.equal(JSON.parse(empty.stdout).totals.records, 0);
  t.match(empty.stderr, /inventory empty\.jsonl holds no records/);
});

t.test("an inventory no rule applies to is compliant, with a warning that nothing was checked", async (t) => {
  // The policies compare data.classification with "phi"; this inventory writes "PHI". (A missing
  // attribute is an error in the rule, so non-compliant: only values can slip past every rule.)
  const renamed = { id: "r1", classification: "PHI", encryption: { cipher: "none" } };
  const cwd = t.testdir({ "a.policy": POLICY, "renamed.jsonl": jsonl(renamed, { ...renamed, id: "r2" }), "good.jsonl": jsonl(ok, { ...ok, id: "other", classification: "public" }) });
  const r = await run(["audit", "a.policy", "--inventory", "renamed.jsonl", ...NOW], { cwd });
  t.equal(r.code, 0, "compliant as the spec says: no rule applies");
  t.equal(
    r.stderr,
    "swarm-policy: warning: no encryption rule applied to any of the 2 valid records of renamed.jsonl: nothing was checked; do its attributes hold the values the policies test?\n",
  );
  const some = await run(["audit", "a.policy", "--inventory", "good.jsonl", ...NOW], { cwd });
  t.equal(some.code, 0);
  t.equal(some.stderr, "", "no warning once any rule applied to a record");
});

t.test("--help shows an example", async (t) => {
  const r = await run(["audit", "--help"], { cwd: t.testdir({}) });
  t.equal(r.code, 0);
  t.match(r.stdout, /\$ swarm-policy audit policies\/ --inventory objects\.jsonl/);
});

t.test("a record nested thousands deep is reported like any other, not an internal error (exit 1, not 2)", async (t) => {
  const deep = `{"id":"deep","classification":"phi","encryption":{"cipher":null},"x":${"[".repeat(150_000)}${"]".repeat(150_000)}}`;
  const cwd = t.testdir({ "a.policy": POLICY, "inv.jsonl": jsonl(deep, ok) });
  const r = await run(["audit", "a.policy", "--inventory", "inv.jsonl", ...NOW], { cwd });
  t.equal(r.code, 1, r.stderr);
  t.equal(r.stderr, "");
  t.match(r.stdout, /^NOT COMPLIANT: 2 records, 1 compliant, 1 non-compliant, 0 invalid/m);
});
