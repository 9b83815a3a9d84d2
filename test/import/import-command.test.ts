/**
 * `swarm-policy import json-rules-engine FILE...` run in-process: the policy
 * on stdout, one stderr line per rule that cannot be converted, exit codes
 * 0 / 1 / 2.
 */
import t from "tap";
import { compile, convertJsonRulesEngine } from "../../src/index.js";
import { run } from "../cli/run.js";

const HEADER =
  "# Imported from json-rules-engine: rules.json\n" +
  "# Decisions: deny if a deny rule applies, else allow if an allow rule applies, else deny.\n" +
  "# Each attribute is guarded with `has` so that missing data decides as json-rules-engine does.\n";

const readDocs = {
  name: "read-docs",
  conditions: { all: [{ fact: "action", operator: "equal", value: "read" }, { fact: "resource.type", operator: "equal", value: "doc" }] },
  event: { type: "allow" },
};
const noProd = {
  conditions: { any: [{ fact: "resource", path: "$.env", operator: "equal", value: "prod" }] },
  event: { type: "forbid", params: { id: "no-prod" } },
};

t.test("every rule converts: exit 0, the policy on stdout, nothing on stderr", async (t) => {
  const cwd = t.testdir({ "rules.json": JSON.stringify([readDocs, noProd]) });
  const r = await run(["import", "json-rules-engine", "rules.json"], { cwd });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stderr, "");
  t.equal(
    r.stdout,
    HEADER +
      "\n" +
      "# json-rules-engine rule 1\n" +
      'allow "read-docs" {\n' +
      '  when action == "read" and resource has type and resource.type == "doc"\n' +
      "}\n" +
      "\n" +
      "# json-rules-engine rule 2\n" +
      'deny "no-prod" {\n' +
      '  when resource has env and resource.env == "prod"\n' +
      "}\n",
  );
  const engine = compile(r.stdout, { file: "imported.policy" });
  t.same(engine.diagnostics, []);
  const doc = { principal: {}, action: "read", resource: { type: "doc" }, context: {} };
  t.equal(engine.evaluateAccess(doc).decision, "allow");
  t.equal(engine.evaluateAccess({ ...doc, resource: { type: "doc", env: "prod" } }).decision, "deny");
  // A missing resource.type: json-rules-engine's equal is false, so nothing allows; no error.
  const missing = engine.evaluateAccess({ ...doc, resource: {} });
  t.equal(missing.decision, "deny");
  t.same(missing.errors, []);
});

t.test("the { rules: [...] } shape and a single rule object", async (t) => {
  const cwd = t.testdir({ "set.json": JSON.stringify({ rules: [readDocs] }), "one.json": JSON.stringify(noProd) });
  const set = await run(["import", "json-rules-engine", "set.json"], { cwd });
  t.equal(set.code, 0);
  t.match(set.stdout, /allow "read-docs" \{/);
  const one = await run(["import", "json-rules-engine", "one.json"], { cwd });
  t.equal(one.code, 0);
  t.match(one.stdout, /deny "no-prod" \{/);
});

t.test("rules that cannot be converted are named on stderr, left out, and exit 1", async (t) => {
  const leaf = (extra: Record<string, unknown>) => ({ fact: "principal", path: "$.dept", operator: "equal", value: "a", ...extra });
  const rules = [
    readDocs,
    { name: "custom-op", conditions: { all: [leaf({ operator: "startsWith" })] }, event: { type: "allow" } },
    { name: "by-ref", conditions: { all: [{ condition: "isAdmin" }] }, event: { type: "allow" } },
    { name: "notify", conditions: { all: [leaf({})] }, event: { type: "send-email" } },
    { name: "with-params", conditions: { all: [leaf({ params: { x: 1 } })] }, event: { type: "deny" } },
    { name: "other-fact", conditions: { all: [leaf({ fact: "account", path: "$.tier" })] }, event: { type: "deny" } },
    { name: "wildcard", conditions: { any: [leaf({ path: "$.teams[*].name" })] }, event: { type: "allow" } },
    { name: "lt-string", conditions: { any: [leaf({ operator: "lessThan", value: "5" })] }, event: { type: "allow" } },
    { name: "eq-list", conditions: { any: [leaf({ value: ["a"] })] }, event: { type: "deny" } },
    { name: "null", conditions: { any: [leaf({ value: null })] }, event: { type: "deny" } },
    { name: "in-string", conditions: { any: [leaf({ operator: "in", value: "abc" })] }, event: { type: "deny" } },
    { name: "top-leaf", conditions: leaf({}), event: { type: "deny" } },
  ];
  const cwd = t.testdir({ "rules.json": JSON.stringify(rules) });
  const r = await run(["import", "json-rules-engine", "rules.json"], { cwd });
  t.equal(r.code, 1);
  t.equal(
    r.stderr,
    [
      'rule custom-op: cannot convert: custom operator "startsWith"',
      'rule by-ref: cannot convert: condition reference "isAdmin" (shared conditions are not in the file)',
      'rule notify: cannot convert: event type "send-email" is not a decision (allow, permit, deny, forbid)',
      "rule with-params: cannot convert: fact `principal` has params (facts computed from params have no equivalent)",
      "rule other-fact: cannot convert: fact `account` is not principal, action, resource or context (or a dotted path below one)",
      'rule wildcard: cannot convert: path "$.teams[*].name" is not a plain `$.a.b` path',
      "rule lt-string: cannot convert: `lessThan` with a value that is not a number (json-rules-engine coerces it)",
      "rule eq-list: cannot convert: the value is a list, which json-rules-engine compares by reference (never equal)",
      "rule null: cannot convert: the value is null (the policy language has no null)",
      "rule in-string: cannot convert: `in` needs a list value (json-rules-engine would search inside a string)",
      "rule top-leaf: cannot convert: `conditions` root holds none of all, any, not, condition",
      "",
    ].join("\n"),
  );
  // The convertible rule is still there, and only it.
  t.match(r.stdout, /allow "read-docs" \{/);
  t.equal(r.stdout.match(/^(allow|deny) "/gm)?.length, 1);
});

t.test("names: rule.name, then event.params.id, then rule-N; repeated names get a suffix", async (t) => {
  const cond = { all: [{ fact: "action", operator: "equal", value: "x" }] };
  const rules = [
    { name: "same", conditions: cond, event: { type: "allow", params: { id: "ignored" } } },
    { conditions: cond, event: { type: "deny", params: { id: "from-id" } } },
    { conditions: cond, event: { type: "permit" } },
    { name: "same", conditions: cond, event: { type: "deny" } },
    { conditions: cond, event: { type: "nope" } },
  ];
  const cwd = t.testdir({ "rules.json": JSON.stringify(rules) });
  const r = await run(["import", "json-rules-engine", "rules.json"], { cwd });
  t.equal(r.code, 1);
  t.same(r.stdout.match(/^(allow|deny) "[^"]*"/gm), ['allow "same"', 'deny "from-id"', 'allow "rule-3"', 'deny "same-2"']);
  t.match(r.stdout, '# json-rules-engine rule 4 (renamed from "same")');
  t.equal(r.stderr, 'rule rule-5: cannot convert: event type "nope" is not a decision (allow, permit, deny, forbid)\n');
  t.same(compile(r.stdout, { file: "x.policy" }).diagnostics.filter((d) => d.severity === "error"), []);
});

t.test("unreadable or invalid input: exit 2 with one line on stderr", async (t) => {
  const cwd = t.testdir({ "bad.json": "{ not json", "split.json": "[\nx\n]\n", "num.json": "42", "other.json": '{"foo": 1}', "rules.json": "[]" });
  const cases: [string[], RegExp][] = [
    [["import", "json-rules-engine", "bad.json"], /^swarm-policy: bad\.json is not valid JSON: .+\n$/],
    [["import", "json-rules-engine", "split.json"], /^swarm-policy: split\.json is not valid JSON: line 2, column 1: unexpected "x"\n$/],
    [["import", "json-rules-engine", "missing.json"], /^swarm-policy: cannot read missing\.json: no such file or directory\n$/],
    [["import", "json-rules-engine", "num.json"], /^swarm-policy: num\.json: not a json-rules-engine rule set: expected a rule object/],
    [["import", "json-rules-engine", "other.json"], /^swarm-policy: other\.json: not a json-rules-engine rule set/],
    [["import", "cedar", "rules.json"], /^swarm-policy: unknown import format `cedar` \(known: json-rules-engine, sigma\)\n$/],
  ];
  for (const [args, stderr] of cases) {
    const r = await run(args, { cwd });
    t.equal(r.code, 2, args.join(" "));
    t.match(r.stderr, stderr);
    t.equal(r.stdout, "");
  }
  const none = await run(["import", "json-rules-engine"], { cwd });
  t.equal(none.code, 2, "a missing FILE is bad usage");
});

t.test("an empty rule set converts to a header alone, exit 0", async (t) => {
  const cwd = t.testdir({ "rules.json": "[]" });
  const r = await run(["import", "json-rules-engine", "rules.json"], { cwd });
  t.equal(r.code, 0);
  t.equal(r.stdout, HEADER);
  t.equal(r.stderr, "");
});

t.test("a file name with a line break stays inside the header comment (it made an allow-everything rule)", async (t) => {
  const name = 'x\nallow "everything" {\n  when true\n}\n#';
  const r = convertJsonRulesEngine([{ name, doc: [readDocs] }]);
  t.notMatch(r.policy, /^allow "everything"/m);
  const engine = compile(r.policy, { file: "x.policy" });
  t.same(engine.diagnostics, []);
  t.equal(engine.evaluateAccess({ principal: { id: "p" }, action: "write", resource: { type: "doc" } }).decision, "deny");
});
