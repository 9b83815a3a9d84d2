import t from "tap";
import path from "node:path";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ajvDraft04 from "ajv-draft-04";
import ajvFormats from "ajv-formats";
import { run, POLICIES } from "../run.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const pkg = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { version: string };

t.test("a clean policy: exit 0, the summary alone", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICIES.clean });
  const r = await run(["check", "a.policy"], { cwd });
  t.equal(r.code, 0, r.stdout);
  t.equal(r.stdout, "0 errors, 0 warnings\n");
  t.equal(r.stderr, "");
});

t.test("an error: exit 1, a source frame with the hint", async (t) => {
  const cwd = t.testdir({ policies: { "ok.policy": POLICIES.clean, "bad.policy": POLICIES.unknownName } });
  const r = await run(["check", "policies"], { cwd });
  t.equal(r.code, 1);
  t.equal(
    r.stdout,
    [
      "error[SP2001]: unknown name `pricipal`",
      " --> policies/bad.policy:2:8",
      "  |",
      "2 |   when pricipal.roles contains \"ops\"",
      "  |        ^^^^^^^^",
      "  |",
      "  = help: did you mean `principal`?",
      "",
      "1 error, 0 warnings",
      "",
    ].join("\n"),
  );
});

t.test("check runs no lint rules", async (t) => {
  const cwd = t.testdir({ "open.policy": POLICIES.lintWarning });
  const r = await run(["check", "open.policy"], { cwd });
  t.equal(r.code, 0);
  t.equal(r.stdout, "0 errors, 0 warnings\n");
});

t.test("syntax errors are errors too", async (t) => {
  const cwd = t.testdir({ "broken.policy": POLICIES.syntaxError });
  const r = await run(["check", "broken.policy"], { cwd });
  t.equal(r.code, 1);
  t.match(r.stdout, /^error\[SP1\d{3}\]: /);
  t.match(r.stdout, / --> broken\.policy:\d+:\d+\n/);
});

t.test("--format json", async (t) => {
  const cwd = t.testdir({ "bad.policy": POLICIES.unknownName });
  const r = await run(["check", "--format", "json", "bad.policy"], { cwd });
  t.equal(r.code, 1);
  t.same(JSON.parse(r.stdout), {
    diagnostics: [
      {
        code: "SP2001",
        severity: "error",
        message: "unknown name `pricipal`",
        hint: "did you mean `principal`?",
        file: "bad.policy",
        line: 2,
        column: 8,
        endLine: 2,
        endColumn: 16,
      },
    ],
    errors: 1,
    warnings: 0,
  });
  const clean = await run(["check", "-f", "json", "bad.policy"], { cwd: t.testdir({ "bad.policy": POLICIES.clean }) });
  t.equal(clean.code, 0);
  t.same(JSON.parse(clean.stdout), { diagnostics: [], errors: 0, warnings: 0 });
});

t.test("--format sarif validates against the SARIF 2.1.0 schema", async (t) => {
  const schema = JSON.parse(readFileSync(path.resolve(repoRoot, "../shared/vectors/sarif/sarif-schema-2.1.0.json"), "utf8"));
  const ajv = new ajvDraft04.default({ allErrors: true, strict: false });
  ajvFormats.default(ajv);
  const validate = ajv.compile(schema);
  const cwd = t.testdir({ sub: { "bad.policy": POLICIES.unknownName } });
  const r = await run(["check", "--format", "sarif", "sub"], { cwd });
  t.equal(r.code, 1);
  const log = JSON.parse(r.stdout);
  t.ok(validate(log), JSON.stringify(validate.errors, null, 1));
  const run0 = log.runs[0];
  t.equal(run0.tool.driver.name, "swarm-policy");
  t.equal(run0.tool.driver.version, pkg.version, "version from package.json");
  t.equal(run0.results.length, 1);
  const res = run0.results[0];
  t.equal(res.ruleId, "SP2001");
  t.equal(run0.tool.driver.rules[res.ruleIndex].id, "SP2001");
  t.equal(res.level, "error");
  t.equal(res.message.text, "unknown name `pricipal`\nhelp: did you mean `principal`?");
  t.same(res.locations[0].physicalLocation, {
    artifactLocation: { uri: "sub/bad.policy" },
    region: { startLine: 2, startColumn: 8, endLine: 2, endColumn: 16 },
  });
});

t.test("colour only on a terminal, and never with NO_COLOR", async (t) => {
  const cwd = t.testdir({ "bad.policy": POLICIES.unknownName });
  const esc = /\x1b\[/;
  const pipe = await run(["check", "bad.policy"], { cwd, stdoutIsTTY: false });
  t.notMatch(pipe.stdout, esc, "not a TTY: plain");
  const tty = await run(["check", "bad.policy"], { cwd, stdoutIsTTY: true });
  t.match(tty.stdout, esc, "a TTY: coloured");
  const noColor = await run(["check", "bad.policy"], { cwd, stdoutIsTTY: true, env: { NO_COLOR: "1" } });
  t.notMatch(noColor.stdout, esc, "NO_COLOR: plain");
  const forced = await run(["check", "bad.policy"], { cwd, stdoutIsTTY: false, env: { FORCE_COLOR: "1" } });
  t.match(forced.stdout, esc, "FORCE_COLOR: coloured");
  const json = await run(["check", "-f", "json", "bad.policy"], { cwd, stdoutIsTTY: true });
  t.notMatch(json.stdout, esc, "JSON is never coloured");
});
