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

t.test("lint --format sarif validates against the SARIF 2.1.0 schema, with odd paths and text", async (t) => {
  const { readFileSync } = await import("node:fs");
  const path = await import("node:path");
  const { fileURLToPath } = await import("node:url");
  const ajvDraft04 = (await import("ajv-draft-04")).default;
  const ajvFormats = (await import("ajv-formats")).default;
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
  const schema = JSON.parse(readFileSync(path.resolve(repoRoot, "../shared/vectors/sarif/sarif-schema-2.1.0.json"), "utf8"));
  const ajv = new ajvDraft04.default({ allErrors: true, strict: false });
  ajvFormats.default(ajv);
  const validate = ajv.compile(schema);
  const cwd = t.testdir({
    "my dir#1?": {
      // BOM, CRLF, a tab before the span, an astral character before it: columns in UTF-16 code units.
      "x y.policy": '\ufeffpackage p\r\nallow "a" {\r\n\twhen true\r\n}\r\ndeny "b" {\r\n  when "\u{1F600}" == principal.id\r\n}\r\ndeny "c" {\r\n  when "\u{1F600}" == principal.id\r\n}\r\n',
    },
    "empty.policy": "# only a comment\n",
  });
  const r = await run(["lint", "--format", "sarif", "."], { cwd });
  t.equal(r.code, 0, r.stdout);
  const log = JSON.parse(r.stdout);
  t.ok(validate(log), JSON.stringify(validate.errors));
  const run0 = log.runs[0];
  const results = run0.results as { ruleId: string; ruleIndex: number; locations: { physicalLocation: { artifactLocation: { uri: string }; region: unknown } }[]; relatedLocations?: unknown[] }[];
  t.same(results.map((x) => x.ruleId), ["SP3010", "SP3007"]);
  for (const x of results) t.equal(run0.tool.driver.rules[x.ruleIndex].id, x.ruleId, "ruleIndex points at the rule");
  t.same(results.map((x) => x.locations[0]!.physicalLocation.artifactLocation.uri), ["my%20dir%231%3F/x%20y.policy", "my%20dir%231%3F/x%20y.policy"]);
  t.same(results[0]!.locations[0]!.physicalLocation.region, { startLine: 3, startColumn: 7, endLine: 3, endColumn: 11 });
  t.same(results[1]!.locations[0]!.physicalLocation.region, { startLine: 8, startColumn: 6, endLine: 8, endColumn: 9 });
  t.equal(results[1]!.relatedLocations?.length, 1);

  const clean = await run(["lint", "--format", "sarif", "empty.policy"], { cwd });
  const empty = JSON.parse(clean.stdout);
  t.ok(validate(empty), "a run with zero results validates");
  t.same(empty.runs[0].results, []);
});

t.test("no lint warnings while a file has syntax errors: on the partial AST they would be false", async (t) => {
  const cwd = t.testdir({
    // The `when` does not parse (`=` for `==`): without it the rule looked like one with no `when`
    // (SP3001) and the const like one never used (SP3003), though the text uses it.
    "a.policy": 'const ops = "ops"\nallow "a" {\n  when principal.role = ops\n}\n',
    "b.policy": 'const unused = 1\n',
  });
  const r = await run(["lint", "--format", "json", "."], { cwd });
  t.equal(r.code, 1);
  const codes = JSON.parse(r.stdout).diagnostics.map((d: { code: string }) => d.code);
  t.same(codes, ["SP1005"], "the syntax error alone");
});
