/**
 * Names and functions: bound roots per block, consts across a package's
 * files, SP2001 / SP2002 / SP2011 / SP2015 / SP2025 with spans and hints.
 */
import t from "tap";
import { checkText, runCases, where } from "./helpers.js";

runCases(t, [
  {
    name: "SP2001 unknown name with a did-you-mean over the block's roots",
    text: `allow "a" {\n  when principl.id == "x"\n}\n`,
    want: [{ at: "SP2001@2:8-2:16", message: "unknown name `principl`", hint: "did you mean `principal`?" }],
  },
  {
    name: "SP2001 suggests consts too",
    text: `const admin_roles = ["a"]\nallow "a" {\n  when principal.roles contains_any admin_role\n}\n`,
    want: [{ at: "SP2001@3:37-3:47", hint: "did you mean `admin_roles`?" }],
  },
  {
    name: "SP2001 without a close candidate lists what is bound",
    text: `deny "a" {\n  when zzz\n}\n`,
    want: [{ at: "SP2001@2:8-2:11", hint: "`principal`, `action`, `resource`, `context`, `now`" }],
  },
  {
    name: "SP2025 a mesh root in an access rule, hint names where it belongs",
    text: `allow "a" {\n  when node.id == "x"\n}\n`,
    want: [{ at: "SP2025@2:8-2:12", message: "`node` is not available in access rules", hint: "belongs to mesh blocks" }],
  },
  {
    name: "SP2025 principal in a mesh block, data in access, result in a rule",
    text:
      `mesh "m" {\n  network "10.0.0.0/8"\n  when principal.id == "x"\n}\n` +
      `deny "d" {\n  when data.x == 1 or result.decision == "allow"\n}\n`,
    want: ["SP2025@3:8-3:17", "SP2025@6:8-6:12", "SP2025@6:23-6:29"],
  },
  {
    name: "SP2025 now is not bound in test expectations",
    text: `test "x" {\n  access { principal: { id: "a" } }\n  expect now == 1\n}\n`,
    want: [{ at: "SP2025@3:10-3:13", message: "not available in test expectations" }],
  },
  {
    name: "detect: bare names are event fields, consts win, now is bound",
    text:
      `const corp = [ip("10.0.0.0/8")]\n` +
      `detect "d" {\n  severity low\n  where user.name == "x" and not (source.ip in corp) and principal.id == "y" and now > "2026-01-01T00:00:00Z"\n}\n`,
    want: [],
  },
  {
    name: "SP2015 a const that reads input, the clock or a store",
    text:
      `const a = principal.id\nconst b = now\nconst c = age("2026-01-01T00:00:00Z")\nconst d = quarantined("n1")\n` +
      `allow "x" {\n  when [a, b, c, d] == []\n}\n`,
    want: [
      { at: "SP2015@1:11-1:20", message: "const `a` is not a constant expression", hint: "`principal` reads the input" },
      { at: "SP2015@2:11-2:14", message: "const `b`" },
      { at: "SP2015@3:11-3:14", hint: "`age()` reads the clock" },
      { at: "SP2015@4:11-4:22", hint: "`quarantined()` reads the runtime quarantine store" },
    ],
  },
  {
    name: "SP2015 test inputs and detect thresholds are constant positions",
    text:
      `const five = 5\n` +
      `detect "d" {\n  severity low\n  where event.action == "x"\n  by user.name within 5m\n  having count >= user.limit\n}\n` +
      `detect "e" {\n  severity low\n  where event.action == "x"\n  by user.name within 5m\n  having count >= five\n}\n` +
      `test "t" {\n  access { principal: { id: action } }\n  expect deny\n}\n`,
    want: [
      { at: "SP2015@6:19-6:23", message: "the `having` threshold is not a constant expression", hint: "`user` reads the event" },
      { at: "SP2015@15:29-15:35", message: "a test input is not a constant expression" },
    ],
  },
  {
    name: "SP2001 in a const body suggests consts only",
    text: `const limit = 3\nconst x = limt + 1\nallow "a" {\n  when principal.n < x\n}\n`,
    want: [{ at: "SP2001@2:11-2:15", hint: "did you mean `limit`?" }],
  },
  {
    name: "SP2002 unknown function with a did-you-mean over builtins",
    text: `allow "a" {\n  when lowr(principal.id) == "x"\n  when cidr("10.0.0.0/8") == 1\n}\n`,
    want: [
      { at: "SP2002@2:8-2:12", message: "unknown function `lowr`", hint: "did you mean `lower`?" },
      { at: "SP2002@3:8-3:12", hint: "functions: ip, age, size" },
    ],
  },
  {
    name: "SP2011 wrong number of arguments, span is the call",
    text: `allow "a" {\n  when size() == 0\n  when hour(now, 1) > 3\n}\n`,
    want: [
      { at: "SP2011@2:8-2:14", message: "`size` takes 1 argument(s), got 0" },
      { at: "SP2011@3:8-3:20", message: "`hour` takes 1 argument(s), got 2" },
    ],
  },
  {
    name: "roots win over a const of the same name",
    text: `const action = "read"\nallow "a" {\n  when action == "write"\n}\n`,
    want: [],
  },
]);

t.test("a const is visible in every file of its package, not in other packages", async (t) => {
  const r = checkText({
    "a.policy": `package p\nconst roles = ["x"]\n`,
    "b.policy": `package p\nallow "r" {\n  when principal.roles contains_any roles\n}\n`,
    "c.policy": `package q\nallow "r" {\n  when principal.roles contains_any roles\n}\n`,
  }, { lint: false });
  t.same(r.diagnostics.map((d) => `${d.span.file} ${where(d)}`), ["c.policy SP2001@3:37-3:42"]);
});

t.test("a file without package declaration uses its stem", async (t) => {
  const r = checkText({
    "dir/keys.policy": `const k = 1\n`,
    "dir2/keys.policy": `allow "r" {\n  when principal.n == k\n}\n`,
  }, { lint: false });
  t.same(r.diagnostics.map(where), []);
});

runCases(t, [
  {
    name: "SP2001 `null` says there is no null literal, and what to write instead",
    text: `allow "a" {\n  when context.x == null\n}\nconst c = null\n`,
    want: [
      { at: "SP2001@2:21-2:25", hint: "there is no null literal" },
      { at: "SP2001@4:11-4:15", hint: "there is no null literal" },
    ],
  },
]);
