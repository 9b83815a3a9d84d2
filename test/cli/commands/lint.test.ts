import t from "tap";
import { run, POLICIES } from "../run.js";

t.test("warnings alone: exit 0, or 1 with --strict", async (t) => {
  const cwd = t.testdir({ "open.policy": POLICIES.lintWarning });
  const r = await run(["lint", "open.policy"], { cwd });
  t.equal(r.code, 0, r.stdout);
  t.match(r.stdout, /^warning\[SP3001\]: allow rule `open` has no `when`: it applies to every request\n --> open\.policy:/);
  t.ok(r.stdout.endsWith("\n0 errors, 1 warning\n"));
  const strict = await run(["lint", "--strict", "open.policy"], { cwd });
  t.equal(strict.code, 1);
  t.equal(strict.stdout, r.stdout, "same report, stricter exit code");
});

t.test("errors: exit 1 with or without --strict", async (t) => {
  const cwd = t.testdir({ "bad.policy": POLICIES.unknownName });
  for (const args of [["lint", "bad.policy"], ["lint", "--strict", "bad.policy"]]) {
    const r = await run(args, { cwd });
    t.equal(r.code, 1, args.join(" "));
    t.match(r.stdout, /^error\[SP2001\]/);
  }
});

t.test("a clean policy passes --strict", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICIES.clean });
  const r = await run(["lint", "--strict", "."], { cwd });
  t.equal(r.code, 0, r.stdout);
  t.equal(r.stdout, "0 errors, 0 warnings\n");
});

t.test("--format json and sarif carry warnings as warnings", async (t) => {
  const cwd = t.testdir({ "open.policy": POLICIES.lintWarning, "bad.policy": POLICIES.unknownName });
  const json = await run(["lint", "--format", "json", "."], { cwd });
  t.equal(json.code, 1);
  const report = JSON.parse(json.stdout);
  t.same(
    report.diagnostics.map((d: { code: string; severity: string; file: string }) => [d.file, d.code, d.severity]),
    [
      ["bad.policy", "SP2001", "error"],
      ["open.policy", "SP3001", "warning"],
    ],
    "sorted by file",
  );
  t.equal(report.errors, 1);
  t.equal(report.warnings, 1);
  const sarif = await run(["lint", "--format", "sarif", "open.policy"], { cwd });
  t.equal(sarif.code, 0);
  const results = JSON.parse(sarif.stdout).runs[0].results;
  t.same(results.map((r: { ruleId: string; level: string }) => [r.ruleId, r.level]), [["SP3001", "warning"]]);
});
