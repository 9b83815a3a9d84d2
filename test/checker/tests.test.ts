/**
 * Test blocks: duplicate names per package (SP2021), input shape (SP2028),
 * expectation vs input kind (SP2027), `expect alert` naming a detect rule
 * (SP2030).
 */
import t from "tap";
import { runCases } from "./helpers.js";

const detect = `detect "brute-force" {\n  severity high\n  where event.action == "login"\n}\n`; // lines 1-4

runCases(t, [
  {
    name: "SP2021 duplicate test name in a package, across files",
    text: {
      "a.policy": `package p\ntest "x" {\n  access { action: "a" }\n  expect deny\n}\n`,
      "b.policy": `package p\ntest "x" {\n  access { action: "b" }\n  expect deny\n}\n`,
    },
    want: [{ at: "SP2021@2:6-2:9", message: "duplicate test `x`", hint: "package `p`" }],
  },
  {
    name: "SP2027 expectations that do not fit the input kind",
    text:
      detect +
      `test "a" {\n  access { action: "x" }\n  expect admit\n  expect alert "brute-force"\n  expect result.decision == "deny"\n}\n` +
      `test "b" {\n  events []\n  expect allow\n  expect no alert\n}\n` +
      `test "c" {\n  encryption { data: {} }\n  expect deny\n  expect result.tee\n}\n` +
      `test "d" {\n  mesh { node: {} }\n  expect challenge\n  expect reject\n}\n`,
    want: [
      { at: "SP2027@7:3-7:15", message: "`expect admit` does not fit a test with `access` input", hint: "`expect allow`, `expect deny`, `expect challenge`" },
      { at: "SP2027@8:3-8:29", message: "`expect alert` does not fit" },
      { at: "SP2027@13:3-13:15", message: "`expect allow` does not fit a test with `events` input" },
      { at: "SP2027@18:3-18:14", message: "with `encryption` input", hint: "an expression over `result`" },
      { at: "SP2027@23:3-23:19", message: "`expect challenge` does not fit a test with `mesh` input" },
    ],
  },
  {
    name: "SP2030 expect alert naming no detect rule; by name or by id is fine",
    text:
      detect +
      `test "a" {\n  events "fixtures/x.jsonl"\n  expect alert "brute-forse"\n  expect alert "t/brute-force" count 1\n  expect alert "brute-force"\n  expect alert "port-scan"\n}\n`,
    want: [
      { at: "SP2030@7:16-7:29", message: "unknown rule `brute-forse` in expectation", hint: "did you mean `brute-force`?" },
      { at: "SP2030@10:16-10:27", hint: "name a detect rule" },
    ],
  },
  {
    name: "SP2028 an alert count is a whole number, 0 or more (a test expecting 1.5 alerts can never pass)",
    text:
      `detect "x" {\n  where event.action == "a"\n}\n` +
      `test "a" {\n  events []\n  expect alert "x" count 0\n  expect alert "x" count 2\n  expect alert "x" count 1.5\n}\n`,
    // (A count past 2^53 - 1 no longer parses: number literals refuse it, SP1004; test/parser/lexer.test.ts.)
    want: [{ at: "SP2028@8:26-8:29", message: "alert count must be a whole number, 0 or more" }],
  },
  {
    name: "SP2030 an expectation comparing a decision's rule with an id no rule has (it could only ever fail, or with `not` always pass)",
    text:
      `allow "read" {\n  when action == "read"\n}\nencryption "phi" {\n  when data.c == "phi"\n  require tee\n}\n` + // lines 1-7
      `test "a" {\n  access { principal: {}, action: "read", resource: {} }\n` + // lines 8-9
      `  expect result.rule == "t/read"\n` + // 10: fine
      `  expect result.rule != "t/raed"\n` + // 11: always true
      `  expect not (result.reasons[0].rule in ["t/read", "t/gone"])\n` + // 12: t/gone
      `  expect result.reasons[0].message == "t/nothing"\n` + // 13: a message, not a rule
      `}\n` +
      `test "b" {\n  encryption { data: { c: "phi" } }\n` + // lines 15-16
      `  expect not (result.rules contains "t/ph")\n` + // 17: always true
      `  expect "t/phi" in result.rules and result.violations[0].rule == "x/phi"\n` + // 18: x/phi
      `  expect result.rules contains_any ["t/phi", "read"]\n` + // 19: "read" is a name, never an id
      `}\n` +
      `detect "brute" {\n  where event.action == "login"\n}\n` + // lines 21-23
      `test "c" {\n  events []\n` + // lines 24-25
      `  expect size(result.alerts) == 0 or result.alerts[0].rule == "brute"\n` + // 26: fine, alerts carry the name
      `  expect not (result.alerts[0].rule == "t/brute")\n` + // 27: an id is never an alert's rule
      `}\n`,
    want: [
      { at: "SP2030@11:25-11:33", message: "unknown rule `t/raed` in expectation", hint: "did you mean `t/read`?" },
      { at: "SP2030@12:52-12:60", message: "unknown rule `t/gone`" },
      { at: "SP2030@17:37-17:43", hint: "did you mean `t/phi`?" },
      { at: "SP2030@18:67-18:74" },
      { at: "SP2030@19:46-19:52", hint: "`t/read`" },
      { at: "SP2030@27:40-27:49", hint: "alerts name their rule by its name: did you mean `brute`?" },
    ],
  },
  {
    name: "SP2030 an access rule name is not a detect rule",
    text: `allow "login" {\n  when action == "login"\n}\ntest "a" {\n  events []\n  expect alert "login"\n}\n`,
    want: ["SP2030@6:16-6:23"],
  },
  {
    name: "SP2028 events must be a path or a list of objects",
    text: `const ev = { a: 1 }\ntest "a" {\n  events [{ a: 1 }, ev, 5]\n  expect no alert\n}\n`,
    want: [{ at: "SP2028@3:25-3:26", message: "each event must be an object" }],
  },
]);
