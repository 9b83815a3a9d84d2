/**
 * json-rules-engine input that JSON.parse reads but that is hostile to the
 * converter: values nested deeper than JSON.stringify can write, quoted in a
 * problem's reason. Such a rule is reported as not converted; the others
 * still convert (the CLI answered "internal error: Maximum call stack size
 * exceeded", exit 2, for the whole import).
 */
import t from "tap";
import { convertJsonRulesEngine } from "../../src/index.js";

const nested = (inner: string, depth: number) => JSON.parse("[".repeat(depth) + inner + "]".repeat(depth)) as unknown;
const leaf = { fact: "principal.level", operator: "equal", value: 1 };
const good = { name: "good", conditions: { all: [leaf] }, event: { type: "allow" } };

t.test("a deeply nested value quoted in a problem is that rule's problem, not a crash", async (t) => {
  const deep = nested('"allow"', 20000);
  const rules = [
    { name: "deep-type", conditions: { all: [leaf] }, event: { type: deep } },
    { name: "deep-operator", conditions: { all: [{ ...leaf, operator: deep }] }, event: { type: "allow" } },
    { name: "deep-condition-ref", conditions: { condition: deep }, event: { type: "deny" } },
    good,
  ];
  const r = convertJsonRulesEngine([{ name: "deep.json", doc: rules }]);
  t.equal(r.converted, 1, "the good rule converts");
  t.same(r.problems.map((p) => p.rule), ["deep-type", "deep-operator", "deep-condition-ref"]);
  for (const p of r.problems) {
    t.ok(p.reason.length < 300, `${p.rule}: a short reason (${p.reason.length} characters)`);
    t.notMatch(p.reason, /\n/);
  }
  t.equal(r.problems[0]!.reason, "event type (a value nested too deeply to show) is not a decision (allow, permit, deny, forbid)");
  const long = convertJsonRulesEngine([{ name: "long.json", doc: [{ name: "long", conditions: { all: [leaf] }, event: { type: "x".repeat(100_000) } }] }]);
  t.match(long.problems[0]!.reason, /^event type "x{119}\.\.\. is not a decision/, "a long value is shortened");
});

t.test("a reason is one line whatever the input quotes (ImportProblem's promise)", async (t) => {
  const r = convertJsonRulesEngine([{ name: "nl.json", doc: [{ name: "nl", conditions: { all: [{ ...leaf, fact: "a\nrule forged: cannot convert: x\u2028" }] }, event: { type: "allow" } }] }]);
  t.equal(r.problems.length, 1);
  t.notMatch(r.problems[0]!.reason, /[\n\r\u2028\u2029\u0000]/);
  t.match(r.problems[0]!.reason, /^fact `a\\u000arule forged: cannot convert: x\\u2028` is not/);
});
