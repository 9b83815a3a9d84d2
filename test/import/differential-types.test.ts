/**
 * Differential test with facts of any type: json-rules-engine itself against
 * our compiled translation, where each attribute may be a string, a numeric
 * string, a number, a boolean, null, a list (of scalars or of lists), or an
 * object, whatever the rule expects.
 *
 * On such data the two may differ only in the documented, fail-closed way
 * (docs/cli.md): our engine makes a type mismatch an evaluation error, a
 * deny rule that errors denies and an allow rule that errors does not
 * grant. So: ours never allows where json-rules-engine denies, and where our
 * decision has no errors it is json-rules-engine's. Where json-rules-engine
 * itself throws (`in` on a missing or non-list fact), ours must deny.
 *
 * SEED=n in the environment replays another seed; the seed is printed.
 */
import t from "tap";
import { Engine as JreEngine } from "json-rules-engine";
import { compile, convertJsonRulesEngine } from "../../src/index.js";
import { prng } from "../support/prng.js";

const SEED = Number(process.env["SEED"] ?? 20260707);
const RULE_SETS = 40;
const RULES_PER_SET = 1;
const FACT_SETS_PER_RULE_SET = 60;

const rand = prng(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const chance = (p: number) => rand() < p;

/** Attributes as [root, key]; both sides of references draw from these. */
const ATTRS: [string, string][] = [
  ["principal", "a"],
  ["principal", "b"],
  ["resource", "a"],
  ["resource", "c"],
  ["context", "d"],
];
const SCALARS: readonly (string | number | boolean)[] = ["x", "1", "5", 1, 5, 10, true];

/** Small, so that equal-looking copies meet (json-rules-engine never finds two copies equal). */
const LISTS = [[], [1], [[1]], [{ k: 1 }]];
const OBJECTS = [{ k: 1 }];

function anyValue(): unknown {
  switch (pick(["scalar", "scalar", "scalar", "null", "list", "list", "list", "object"])) {
    case "null":
      return null;
    case "list":
      return structuredClone(pick(LISTS));
    case "object":
      return structuredClone(pick(OBJECTS));
    default:
      return pick(SCALARS);
  }
}

function attrRef(): { fact: string; path: string } {
  const [root, key] = pick(ATTRS);
  return { fact: root, path: `$.${key}` };
}

const OPS = ["equal", "notEqual", "in", "notIn", "contains", "doesNotContain", "lessThan", "lessThanInclusive", "greaterThan", "greaterThanInclusive"];

function literalFor(op: string): unknown {
  if (op === "in" || op === "notIn") return Array.from({ length: Math.floor(rand() * 3) }, () => pick(SCALARS));
  if (op.startsWith("less") || op.startsWith("greater")) return pick([0, 1, 5, 10]);
  return pick(SCALARS);
}

function leaf(): Record<string, unknown> {
  const operator = pick(OPS);
  // A reference for in/notIn mostly makes json-rules-engine throw (indexOf of a non-list).
  const value = chance(operator === "in" || operator === "notIn" ? 0.1 : 0.4) ? attrRef() : literalFor(operator);
  return { ...attrRef(), operator, value };
}

function conditionTree(depth: number): Record<string, unknown> {
  if (depth >= 2 || chance(0.4)) return leaf();
  const op = pick(["all", "any", "not"]);
  if (op === "not") return { not: conditionTree(depth + 1) };
  return { [op]: Array.from({ length: 1 + Math.floor(rand() * 3) }, () => conditionTree(depth + 1)) };
}

function ruleSet(): Record<string, unknown>[] {
  return Array.from({ length: RULES_PER_SET }, () => ({
    conditions: { [pick(["all", "any"])]: [conditionTree(1), conditionTree(1)] },
    event: { type: pick(["allow", "allow", "deny"]) },
  }));
}

type Input = { principal: Record<string, unknown>; action: string; resource: Record<string, unknown>; context: Record<string, unknown> };

function factSet(): Input {
  const input: Input = { principal: {}, action: "read", resource: {}, context: {} };
  for (const [root, key] of ATTRS) if (chance(0.8)) (input[root as "principal"] as Record<string, unknown>)[key] = anyValue();
  return input;
}

async function jreDecision(engine: JreEngine, input: Input): Promise<"allow" | "deny" | "throws"> {
  try {
    const { events } = await engine.run(structuredClone(input));
    if (events.some((e) => e.type === "deny")) return "deny";
    return events.length > 0 ? "allow" : "deny";
  } catch {
    return "throws";
  }
}

t.test(`facts of unexpected types: never more permissive than json-rules-engine (seed ${SEED})`, async (t) => {
  t.comment(`seed ${SEED} (set SEED=n to replay another)`);
  const tally = { compared: 0, exact: 0, withErrors: 0, threw: 0 };
  for (let s = 0; s < RULE_SETS; s++) {
    const rules = ruleSet();
    const imported = convertJsonRulesEngine([{ name: `set-${s}.json`, doc: rules }]);
    // Only literal lists/objects for equal/contains and the like are refused; what converts is compared.
    const engine = compile(imported.policy, { file: `set-${s}.policy` });
    t.same(engine.diagnostics.filter((d) => d.severity === "error"), [], `rule set ${s} compiles`);
    const convertedRules = rules.filter((_, i) => !imported.problems.some((p) => p.rule === `rule-${i + 1}`));
    const jre = new JreEngine(structuredClone(convertedRules) as never);
    const wrong: string[] = [];
    for (let f = 0; f < FACT_SETS_PER_RULE_SET; f++) {
      const input = factSet();
      const expected = await jreDecision(jre, input);
      const got = engine.evaluateAccess(input);
      if (expected === "throws") {
        // The run decides nothing; ours must not grant.
        tally.threw++;
        if (got.decision === "allow") wrong.push(`facts ${JSON.stringify(input)}: json-rules-engine throws, ours allows`);
        continue;
      }
      tally.compared++;
      if (got.errors.length > 0) tally.withErrors++;
      else tally.exact++;
      const failOpen = got.decision === "allow" && expected === "deny";
      if (failOpen || (got.errors.length === 0 && got.decision !== expected)) {
        wrong.push(`facts ${JSON.stringify(input)}: json-rules-engine ${expected}, ours ${got.decision} (${got.errors.length} errors)`);
      }
    }
    t.same(wrong.slice(0, 3), [], `rule set ${s}: ${wrong.length} wrong decisions`, { rules: JSON.stringify(convertedRules), policy: imported.policy });
  }
  t.comment(JSON.stringify(tally));
  // Not vacuous: most fact sets are compared, and most decide without an error.
  t.ok(tally.compared >= (RULE_SETS * FACT_SETS_PER_RULE_SET) / 3, `${tally.compared} fact sets compared`);
  t.ok(tally.exact >= tally.compared / 10, `${tally.exact} decided without errors`);
});
