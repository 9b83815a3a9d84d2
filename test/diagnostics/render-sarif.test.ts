import t from "tap";
import path from "node:path";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ajvDraft04 from "ajv-draft-04";
import ajvFormats from "ajv-formats";
import { SourceText } from "../../src/parser/span.js";
import { diagnostic } from "../../src/diagnostics/diagnostic.js";
import { CODES } from "../../src/diagnostics/codes.js";
import { renderSarif, toSarif } from "../../src/diagnostics/render-sarif.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const schema = JSON.parse(readFileSync(path.resolve(repoRoot, "../shared/vectors/sarif/sarif-schema-2.1.0.json"), "utf8"));
// Both packages are CommonJS: under NodeNext the default import is
// module.exports, whose `default` is the class / plugin.
const Ajv = ajvDraft04.default;
const addFormats = ajvFormats.default;
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(schema);

const text = 'const a = 1\nconst a = 2\nallow "x" {\n}\n';
const src = new SourceText("/repo/my policies/dup.policy", text);
const dup = diagnostic("SP2005", src.span(18, 19), { name: "a" }, {
  related: [{ message: "first defined here", span: src.span(6, 7) }],
});
const warn = diagnostic("SP3001", src.span(text.indexOf("allow"), text.indexOf("}") + 1), { name: "x" });

t.test("the log validates against the SARIF 2.1.0 schema", async (t) => {
  for (const list of [[], [dup, warn]]) {
    const log = JSON.parse(renderSarif(list, { cwd: "/repo", version: "9.8.7" }));
    t.ok(validate(log), JSON.stringify(validate.errors, null, 1));
  }
  // The validator is not a rubber stamp.
  const broken = toSarif([dup], { cwd: "/repo", version: "1" }) as unknown as { runs: { results: { level: string }[] }[] };
  broken.runs[0]!.results[0]!.level = "fatal";
  t.notOk(validate(broken), "an invalid level is rejected");
});

t.test("tool, rules from the catalogue, results", async (t) => {
  const log = toSarif([dup, warn], { cwd: "/repo", version: "9.8.7" });
  t.equal(log.version, "2.1.0");
  t.equal(log.runs.length, 1);
  const run = log.runs[0]!;
  t.equal(run.tool.driver.name, "swarm-policy");
  t.equal(run.tool.driver.version, "9.8.7");
  const rules = run.tool.driver.rules;
  t.same(rules.map((r) => r.id), Object.keys(CODES), "one rule per catalogue code, in order");
  const sp3001 = rules.find((r) => r.id === "SP3001")!;
  t.same(sp3001.shortDescription, { text: CODES.SP3001.summary });
  t.same(sp3001.defaultConfiguration, { level: "warning" });
  t.same(rules.find((r) => r.id === "SP2001")!.defaultConfiguration, { level: "error" });

  const [r0, r1] = run.results;
  t.equal(r0!.ruleId, "SP2005");
  t.equal(rules[r0!.ruleIndex]!.id, "SP2005", "ruleIndex points at the rule");
  t.equal(r0!.level, "error");
  t.equal(r0!.message.text, "duplicate const `a`");
  t.same(r0!.locations[0]!.physicalLocation, {
    artifactLocation: { uri: "my%20policies/dup.policy" },
    region: { startLine: 2, startColumn: 7, endLine: 2, endColumn: 8 },
  });
  t.same(r0!.relatedLocations, [
    {
      id: 0,
      message: { text: "first defined here" },
      physicalLocation: {
        artifactLocation: { uri: "my%20policies/dup.policy" },
        region: { startLine: 1, startColumn: 7, endLine: 1, endColumn: 8 },
      },
    },
  ]);
  t.equal(r1!.level, "warning");
  t.equal(r1!.message.text, "allow rule `x` has no `when`: it applies to every request\nhelp: add a `when` clause that narrows it");
  t.same(r1!.locations[0]!.physicalLocation.region, { startLine: 3, startColumn: 1, endLine: 4, endColumn: 2 });
});

t.test("a file outside the working directory gets an absolute file: URI", async (t) => {
  const log = toSarif([dup], { cwd: "/elsewhere", version: "1" });
  t.equal(log.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri, "file:///repo/my%20policies/dup.policy");
});
