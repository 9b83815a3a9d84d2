/**
 * json-rules-engine input that JSON.parse reads but that is hostile to the
 * converter: values nested deeper than JSON.stringify can write, quoted in a
 * problem's reason. Such a rule is reported as not converted; the others
 * still convert (the CLI answered "internal error: Maximum call stack size
 * exceeded", exit 2, for the whole import).
 */
import t from "tap";
import { ImportInputError, SourceText, analyze, convertJsonRulesEngine } from "../../src/index.js";
import { prng } from "../support/prng.js";
import { mutateAt, treePaths } from "../support/mutate-tree.js";

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

/**
 * Fuzz: a rule set with every condition form (all, any, not, shared
 * condition, fact paths, fact references as values), its values and keys
 * replaced by hostile ones (wrong types, `__proto__` / `constructor` keys and
 * facts, JSONPath oddities, unknown operators, lone surrogates, huge strings,
 * conditions 20,000 deep), as objects and as JSON text read back. Either the
 * input is refused as a whole (ImportInputError) or the policy parses and
 * checks and every problem is one line. FUZZ_CASES (default 3000), FUZZ_SEED.
 */
const CASES = Number(process.env.FUZZ_CASES ?? 3000);
const SEED = Number(process.env.FUZZ_SEED ?? 0x1e5);

t.test(`json-rules-engine import survives ${CASES} mutated rule sets (seed ${SEED})`, async (t) => {
  const base = [
    { name: "r1", conditions: { all: [{ fact: "principal", path: "$.roles", operator: "contains", value: "admin" }, { fact: "action", operator: "equal", value: "read" }] }, event: { type: "allow" } },
    { name: "r2", conditions: { any: [{ fact: "resource", path: "$.level", operator: "greaterThan", value: 3 }, { not: { fact: "context.ip", operator: "in", value: ["a", "b"] } }] }, event: { type: "deny", params: { message: "x" } }, priority: 5 },
    { conditions: { condition: "shared" }, event: { type: "allow" } },
    { name: "r4", conditions: { all: [{ fact: "resource", path: "$['a']['b']", operator: "notIn", value: { fact: "principal", path: "$.list" } }, { fact: "principal", path: "$.n", operator: "lessThanInclusive", value: { fact: "resource", path: "$.m" } }] }, event: { type: "deny" } },
  ];
  const rnd = prng(SEED);
  const pick = (n: number) => Math.floor(rnd() * n);
  const choose = <T>(xs: readonly T[]): T => xs[pick(xs.length)]!;
  const deep = (key: "all" | "any" | "not", n: number) => {
    let v: unknown = { fact: "principal.a", operator: "equal", value: 1 };
    for (let i = 0; i < n; i++) v = key === "not" ? { not: v } : { [key]: [v] };
    return v;
  };
  const values: (() => unknown)[] = [
    () => null, () => 0, () => -0, () => 1e308, () => -1e308, () => 1.5, () => true, () => "", () => '"', () => "\\", () => "\u0000\n", () => "\ud800", () => "x".repeat(100_000),
    () => [], () => [[]], () => ({}), () => ["a", 1, null, true, [1], { a: 1 }], () => "__proto__", () => "constructor", () => "prototype",
    () => "$", () => "$.", () => "$..a", () => "$[0]", () => "$['__proto__']", () => "$.a.constructor", () => "$[*]", () => "$.a[?(@.b)]", () => "$.length",
    () => "equal", () => "notEqual", () => "in", () => "notIn", () => "contains", () => "doesNotContain", () => "lessThan", () => "greaterThanInclusive", () => "bogus", () => "allow", () => "deny",
    () => ({ fact: "principal", path: "$.x" }), () => ({ fact: "__proto__" }), () => ({ fact: 5 }), () => nested('"allow"', 20_000),
    () => deep("all", 20_000), () => deep("any", 20_000), () => deep("not", 20_000), () => deep("all", 50),
    () => ({ all: [] }), () => ({ any: [] }), () => ({ not: [] }), () => ({ all: {}, any: [] }),
  ];
  const keys = ["all", "any", "not", "condition", "fact", "path", "operator", "value", "params", "event", "type", "name", "priority", "__proto__", "constructor", ""];
  const mutant = (): unknown => {
    let doc: unknown = structuredClone(pick(2) === 0 ? base : { rules: base });
    for (let r = 1 + pick(3); r > 0; r--) {
      const p = choose(treePaths(doc, 12)); // not inside a deep value an earlier round put there
      if (p.length === 0) {
        if (pick(20) === 0) doc = choose(values)();
        continue;
      }
      mutateAt(doc, p, () => (pick(3) === 0 ? choose(keys) : null), () => choose(values)());
    }
    if (pick(3) === 0) {
      try {
        doc = JSON.parse(JSON.stringify(doc)); // as read from a file: own __proto__ keys survive the text
      } catch {
        // too deep to write: keep the object
      }
    }
    return doc;
  };

  let failures = 0;
  let converted = 0;
  const fail = (msg: string) => {
    failures++;
    t.fail(msg);
  };
  for (let n = 0; n < CASES && failures < 5; n++) {
    const where = `case ${n} (seed ${SEED})`;
    try {
      const r = convertJsonRulesEngine([{ name: "m.json", doc: mutant() }]);
      converted += r.converted;
      const errors = analyze([new SourceText("import.policy", r.policy)], { lint: false }).diagnostics.filter((d) => d.severity === "error");
      if (errors.length > 0) fail(`${where}: the policy does not check: ${errors[0]!.code} ${errors[0]!.message}`);
      for (const p of r.problems) if (/[\n\r\u2028\u2029\u0000]/.test(p.reason)) fail(`${where}: a reason of several lines: ${JSON.stringify(p.reason.slice(0, 200))}`);
    } catch (err) {
      if (!(err instanceof ImportInputError)) fail(`${where}: threw ${(err as Error)?.stack ?? String(err)}`);
    }
  }
  t.ok(converted > CASES, `${converted} rules converted`);
  t.equal(failures, 0, `no failures in ${CASES} cases`);
});

t.test("long any/all lists and many in/notIn lists stay within the parser's nesting bound", async (t) => {
  const cond = (i: number) => ({ fact: "principal", path: `$.a${i}`, operator: "equal", value: i });
  // A flat chain `a or b or ...` is one level deeper per operand: 1,000 of them passed the parser's 1,000 levels (SP1013).
  const wide = { name: "wide", conditions: { any: Array.from({ length: 3000 }, (_, i) => cond(i)) }, event: { type: "deny" } };
  const all = { name: "all", conditions: { all: Array.from({ length: 3000 }, (_, i) => cond(i)) }, event: { type: "allow" } };
  // 1,100 rules reading in/notIn lists made the closing json-rules-engine-throws rule such a chain: the whole import threw.
  const lists = Array.from({ length: 1100 }, (_, i) => ({
    name: `in-${i}`,
    conditions: { all: [{ fact: "principal", path: `$.g${i}`, operator: "in", value: { fact: "resource", path: `$.l${i}` } }] },
    event: { type: "allow" },
  }));
  const r = convertJsonRulesEngine([{ name: "long.json", doc: [wide, all, ...lists] }]);
  t.same(r.problems, []);
  t.equal(r.converted, 1102);
  const result = analyze([new SourceText("long.policy", r.policy)]);
  t.same(result.diagnostics.filter((d) => d.severity === "error"), []);
});
