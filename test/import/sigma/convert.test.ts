/**
 * Rule-level conversion: names, severities, tags, provenance comments (and
 * that nothing in a rule's metadata can escape its comment), multi-document
 * files, documents that are not rules.
 */
import t from "tap";
import { compile, convertSigma, ImportInputError, loadSigmaPipeline } from "../../../src/index.js";
import { convert, fires } from "./helpers.js";

const DETECTION = "detection:\n  sel:\n    A: x\n  condition: sel\n";

t.test("severity from level; tags with ATT&CK techniques as MITRE:T...; sigma:ID first", async (t) => {
  const levels: [string, string][] = [["informational", "low"], ["low", "low"], ["medium", "medium"], ["high", "high"], ["critical", "critical"], ["", "medium"]];
  for (const [level, severity] of levels) {
    const r = convert(`title: T\n${level ? `level: ${level}\n` : ""}${DETECTION}`);
    t.match(r.policy, new RegExp(`detect "T" \\{\\n {2}severity ${severity}\\n`), level || "no level");
  }
  const r = convert(`title: T\nid: abc-1\ntags: [attack.execution, attack.t1059.004, attack.T1105, cve.2021-44228]\n${DETECTION}`);
  t.match(r.policy, /tags \["sigma:abc-1", "attack\.execution", "MITRE:T1059\.004", "MITRE:T1105", "cve\.2021-44228"\]/);
});

t.test("repeated titles get -2, -3 and a comment; untitled rules are named by file and document", async (t) => {
  const r = convert([`title: Same\n${DETECTION}`, `title: Same\n${DETECTION}---\ntitle: Same\n${DETECTION}---\n${DETECTION}`]);
  t.same(r.problems, []);
  t.same(r.policy.match(/^detect "[^"]*"/gm), ['detect "Same"', 'detect "Same-2"', 'detect "Same-3"', 'detect "rule2.yml#3"']);
  t.match(r.policy, /# named "Same-2": another rule has the same title\n/);
  t.match(r.policy, /# Sigma: Same \(rule2\.yml document 2\)\n/);
  t.same(compile(r.policy, { file: "x.policy" }).diagnostics, []);
});

t.test("metadata with line breaks stays inside its comment", async (t) => {
  const r = convert(
    `title: "Evil\\n}\\nallow \\"x\\" {\\n  when true"\nauthor: "a\\nallow \\"y\\" {\\n}"\nreferences:\n  - "http://x\\r\\ndeny \\"z\\" {}"\n${DETECTION}`,
  );
  t.same(r.problems, []);
  const engine = compile(r.policy, { file: "x.policy" });
  t.same(engine.diagnostics, []);
  t.notMatch(r.policy, /^(allow|deny) /m, "no rule but the detect one");
  t.equal((r.policy.match(/^detect /gm) ?? []).length, 1);
  t.match(r.policy, /detect "Evil\\n}\\nallow \\"x\\" \{\\n {2}when true" \{/, "the title is an escaped string");
});

t.test("a multi-document file: every document is a rule of its own", async (t) => {
  const r = convert(`title: One\n${DETECTION}---\ntitle: Two\n${DETECTION}---\ntitle: Three\ndetection:\n  sel:\n    A|nope: x\n  condition: sel\n`);
  t.equal(r.converted, 2);
  t.same(r.problems, [{ rule: "Three (rule.yml document 3)", reason: "search identifier `sel`: unknown modifier `nope`" }]);
});

t.test("a Sigma rule collection (action: global / reset / repeat) is merged as pySigma merges it", async (t) => {
  // The global document was converted as a rule of its own (without the per-document parts: far broader),
  // and documents holding only a logsource made the whole import bad input.
  const collection = `action: global
title: Whoami
detection:
  sel:
    Image|endswith: '\\whoami.exe'
  condition: sel and not filter
---
logsource:
  category: process_creation
detection:
  filter:
    User: admin
---
action: repeat
title: Whoami (other filter)
detection:
  filter:
    User: backup
---
action: reset
---
title: Plain
detection:
  sel:
    A: x
  condition: sel
`;
  const r = convert(collection);
  t.same(r.problems, []);
  t.same(r.policy.match(/^detect "[^"]*"/gm), ['detect "Whoami"', 'detect "Whoami (other filter)"', 'detect "Plain"']);
  const blocks = r.policy.split(/\n(?=# Sigma: )/).slice(1);
  const ev = { Image: "C:\\x\\WHOAMI.EXE" };
  t.ok(fires(blocks[0]!, { ...ev, User: "bob" }));
  t.notOk(fires(blocks[0]!, { ...ev, User: "admin" }), "the first document's filter");
  t.ok(fires(blocks[1]!, { ...ev, User: "admin" }), "repeat: its own filter replaces the previous one's value");
  t.notOk(fires(blocks[1]!, { ...ev, User: "backup" }));
  t.ok(fires(blocks[2]!, { A: "x" }), "after reset, no global part");
  t.notMatch(blocks[2]!, /whoami/, "after reset, no global part");
  t.throws(() => convert(`action: merge\n${DETECTION}`), ImportInputError, "an unknown action is bad input");
});

t.test("documents that are not rules", async (t) => {
  const filter = convert(`title: F\nfilter:\n  rules: [x]\n  selection:\n    A: b\n  condition: not selection\n`);
  t.same(filter.problems.map((p) => p.reason), ["Sigma filter documents are not supported (apply the filter to the rules it names instead)"]);
  const noCondition = convert("title: N\ndetection:\n  sel:\n    A: x\n");
  t.same(noCondition.problems.map((p) => p.reason), ["`detection` has no `condition`"]);
  const badDetection = convert("title: N\ndetection: [1, 2]\n");
  t.same(badDetection.problems.map((p) => p.reason), ["`detection` is not a map"]);
  t.throws(() => convert("just: yaml\n"), ImportInputError);
  t.throws(() => convert("- a\n- b\n"), ImportInputError);
  t.throws(() => convert("a: [\n"), ImportInputError);
});

t.test("a contradictory condition still converts to a valid rule that never fires", async (t) => {
  const r = convert("title: N\ndetection:\n  sel:\n    A: x\n  condition: sel and not sel\n");
  t.equal(r.converted, 1);
  t.same(compile(r.policy, { file: "x.policy" }).diagnostics.filter((d) => d.severity === "error"), []);
  t.notOk(fires(r.policy, { A: "x" }));
  t.notOk(fires(r.policy, {}));
});

t.test("file names and the pipeline's name and description stay inside the header's comments", async (t) => {
  // A file name may hold a line break (a checked-out repository may hold any name), and a pipeline
  // file names itself: either put a rule of its own into the policy, one that fires on every event.
  const evil = 'x\ndetect "evil" {\n  severity critical\n  where true\n}\n#';
  const pipeline = loadSigmaPipeline({ name: "p.yml", text: `name: ${JSON.stringify(evil)}\ndescription: ${JSON.stringify(evil)}\n` });
  for (const [sources, p] of [
    [[{ name: `${evil}.yml`, text: `title: T\n${DETECTION}` }], undefined],
    [[{ name: "a.yml", text: `title: T\n${DETECTION}` }], pipeline],
    [[1, 2, 3, 4].map((i) => ({ name: `${evil}${i}.yml`, text: `title: T${i}\n${DETECTION}` })), pipeline],
  ] as const) {
    const r = convertSigma(sources, { pipeline: p });
    const engine = compile(r.policy, { file: "x.policy" });
    t.same(engine.diagnostics, []);
    t.notMatch(r.policy, /^detect "evil"/m, "no rule from a name");
    t.equal(r.policy.match(/^detect /gm)?.length, sources.length, "one rule per source rule");
    t.notOk(fires(r.policy, { B: "y" }), "nothing fires on an unrelated event");
  }
});
