/**
 * Sigma conditions (Sigma rules specification, "Condition"): and / or / not,
 * parentheses, precedence, `1 of` / `all of` patterns and `them`, lists of
 * conditions; each checked by truth table through the engine, where the
 * event sets the selections `a`, `b`, `c`, `_d`, `sel_1`, `sel_2` true or
 * false one field each.
 */
import t from "tap";
import { expandPattern, parseCondition, patternMatches } from "../../../src/import/sigma/condition.js";
import { convert, fires, rule } from "./helpers.js";

const IDS = ["a", "b", "c", "_d", "sel_1", "sel_2"] as const;
const SELECTIONS = IDS.map((id) => `  ${id}:\n    F_${id}: 'on'`).join("\n");

/** An event where exactly the named selections hold. */
function eventWith(on: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(IDS.map((id) => [`F_${id}`, on.includes(id) ? "on" : "off"]));
}

/** Every subset of IDS. */
function subsets(): string[][] {
  const out: string[][] = [];
  for (let m = 0; m < 1 << IDS.length; m++) out.push(IDS.filter((_, i) => m & (1 << i)));
  return out;
}

const CASES: [condition: string, truth: (on: Set<string>) => boolean][] = [
  ["a and b or c", (s) => (s.has("a") && s.has("b")) || s.has("c")],
  ["a or b and c", (s) => s.has("a") || (s.has("b") && s.has("c"))],
  ["(a or b) and c", (s) => (s.has("a") || s.has("b")) && s.has("c")],
  ["not a and b", (s) => !s.has("a") && s.has("b")],
  ["not (a and b)", (s) => !(s.has("a") && s.has("b"))],
  ["a and not not b", (s) => s.has("a") && s.has("b")],
  ["1 of sel_*", (s) => s.has("sel_1") || s.has("sel_2")],
  ["all of sel_*", (s) => s.has("sel_1") && s.has("sel_2")],
  ["1 of sel_* and not 1 of _*", (s) => (s.has("sel_1") || s.has("sel_2")) && !s.has("_d")],
  ["all of them", (s) => ["a", "b", "c", "sel_1", "sel_2"].every((x) => s.has(x))],
  ["1 of them", (s) => ["a", "b", "c", "sel_1", "sel_2"].some((x) => s.has(x))],
  ["not 1 of them", (s) => !["a", "b", "c", "sel_1", "sel_2"].some((x) => s.has(x))],
  ["any of s*_2 or _d", (s) => s.has("sel_2") || s.has("_d")],
  ["A AND NOT B", () => false], // identifiers are case-sensitive: A and B are undefined (reported below)
];

for (const [condition, truth] of CASES.filter(([c]) => c !== "A AND NOT B")) {
  t.test(`condition: ${condition}`, async (t) => {
    const r = convert(rule(`${SELECTIONS}\n  condition: ${condition}`));
    t.same(r.problems, []);
    for (const on of subsets()) {
      t.equal(fires(r.policy, eventWith(on)), truth(new Set(on)), `{${on.join(", ")}}`);
    }
  });
}

t.test("a list of conditions is their OR; keywords are case-insensitive", async (t) => {
  const r = convert(rule(`${SELECTIONS}\n  condition:\n    - a AND b\n    - NOT c`));
  t.same(r.problems, []);
  for (const on of subsets()) t.equal(fires(r.policy, eventWith(on)), (on.includes("a") && on.includes("b")) || !on.includes("c"), `{${on.join(", ")}}`);
});

t.test("the parse tree", async (t) => {
  t.same(parseCondition("a or b and not c"), {
    k: "or",
    items: [{ k: "id", name: "a" }, { k: "and", items: [{ k: "id", name: "b" }, { k: "not", item: { k: "id", name: "c" } }] }],
  });
  t.same(parseCondition("all of selection* and (x)"), { k: "and", items: [{ k: "of", all: true, pattern: "selection*" }, { k: "id", name: "x" }] });
});

t.test("conditions that cannot be converted are reported", async (t) => {
  const rows: [string, string][] = [
    ["a | count() > 5", "the condition uses the deprecated aggregation syntax (`| count() ...`); use a correlation rule"],
    ["a near b", "unexpected `near` in condition \"a near b\""],
    ["near a", "`near` has no translation (use a temporal correlation rule)"],
    ["A AND NOT B", "the condition names `A`, which `detection` does not define"],
    ["1 of nothing*", "`1 of nothing*` matches no search identifier"],
    ["2 of sel_*", "`2 of`: only `1 of` and `all of` are defined"],
    ["(a or b", 'missing `)` in condition "(a or b"'],
    ["a and", 'condition "a and" ends too early'],
    ["a b", 'unexpected `b` in condition "a b"'],
    ["", "the condition is empty"],
  ];
  for (const [condition, reason] of rows) {
    const r = convert(rule(`${SELECTIONS}\n  condition: '${condition}'`));
    t.same(r.problems.map((p) => p.reason), [reason], condition);
  }
});

t.test("only the identifiers the condition uses are translated", async (t) => {
  const r = convert(rule("  a:\n    F: x\n  unused:\n    G|base64: y\n  condition: a"));
  t.same(r.problems, []);
  t.equal(r.converted, 1);
});

t.test("a rule the policy parser cannot read back is reported; the other rules still convert", async (t) => {
  // Alternating and/or cannot be flattened: 300 levels of them are more brackets than the parser reads.
  let c = "a";
  for (let i = 0; i < 300; i++) c = i % 2 ? `a or (${c})` : `b and (${c})`;
  const r = convert([`title: Deep\ndetection:\n  a:\n    F: x\n  b:\n    H: y\n  condition: ${c}\n`, "title: Other\ndetection:\n  sel:\n    G: y\n  condition: sel\n"]);
  t.equal(r.converted, 1);
  t.match(r.policy, /detect "Other" \{/);
  t.equal(r.problems.length, 1);
  t.equal(r.problems[0]!.rule, "Deep (rule1.yml)");
  t.match(r.problems[0]!.reason, /^the converted rule cannot be written as policy text: nesting deeper than/);
});

t.test("a condition or regular expression nested too deeply to read is that rule's problem, named as such (not an internal error)", async (t) => {
  const deep = "(".repeat(20000);
  const rows = [
    `  sel:\n    F: x\n  condition: ${deep}sel${")".repeat(20000)}`,
    `  sel:\n    F: x\n  condition: ${Array(40000).fill("not").join(" ")} sel`,
    `  sel:\n    F|re: '${deep}a${")".repeat(20000)}'\n  condition: sel`,
  ];
  for (const d of rows) {
    const r = convert(rule(d));
    t.equal(r.converted, 0);
    t.match(r.problems[0]?.reason ?? "", /nested too deeply to convert/);
    t.notMatch(r.problems[0]?.reason ?? "", /internal error/);
  }
});

t.test("a quantifier pattern is matched piece by piece, never by backtracking", async (t) => {
  const ids = ["selection_a", "sel_x_y", "xsel", "a*b", "_filter", "aXbYc"];
  const cases: [string, string[]][] = [
    ["sel*", ["selection_a", "sel_x_y"]],
    ["*sel", ["xsel"]],
    ["*", ids],
    ["**", ids],
    ["a*b", ["a*b"]],
    ["a*b*c", ["aXbYc"]],
    ["*_*", ["selection_a", "sel_x_y", "_filter"]],
    ["sel*_*y", ["sel_x_y"]],
    ["xsel*sel", []], // the pieces may not overlap
    ["aXbYc*", ["aXbYc"]],
  ];
  for (const [pattern, want] of cases) t.same(expandPattern(pattern, ids), want, pattern);
  t.ok(patternMatches("a*a*a", "aaa"));
  t.notOk(patternMatches("a*a*a", "aa"));
  // As a regular expression (^.*a.*a ... .*b$) this backtracked exponentially: 32 `a`s took 13 s,
  // 36 more than 30 s; 64 could not finish within tap's timeout.
  const r = convert(rule(`  ${"a".repeat(64)}:\n    F: 'on'\n  condition: 1 of ${"*a".repeat(12)}*b`));
  t.equal(r.converted, 0);
  t.match(r.problems[0]!.reason, /matches no search identifier/);
});
