/**
 * Numbers without an order. A JavaScript caller can pass NaN, and JSON can
 * carry Infinity (`1e400` parses to it). `<`, `<=`, `>`, `>=` answer an
 * error for them, as the general comparison does (spec: anything but two
 * comparable values is an error), so a deny rule errors and denies. The fast
 * paths for a number literal (closures and generated code) used to answer
 * `false` instead, and the deny rule did not apply.
 */
import t from "tap";
import { access, evaluator } from "./helpers.js";

const ERRORED = "deny rule errored; denied to fail closed";

t.test("NaN against a number literal is an error, so the deny rule denies", async (t) => {
  const ev = evaluator(`deny "low-clearance" {\n  when principal.clearance < 3\n}\nallow "a" {\n  when true\n}\n`);
  for (const explain of [false, true]) {
    const d = access(ev, { principal: { clearance: NaN }, action: "a", resource: {} }, explain);
    t.equal(d.decision, "deny", `explain ${explain}`);
    t.same(d.reasons.map((r) => r.message), [ERRORED]);
    t.match(d.errors[0]!.message, /`<` needs two numbers/);
  }
  t.equal(access(ev, { principal: { clearance: 5 }, action: "a", resource: {} }).decision, "allow");
  t.equal(access(ev, { principal: { clearance: Infinity }, action: "a", resource: {} }).decision, "allow", "Infinity is above 3");
});

t.test("two attributes: NaN, or Infinity against Infinity, is an error in generated code and closures alike", async (t) => {
  const ev = evaluator(`deny "low-clearance" {\n  when principal.clearance <= resource.level\n}\nallow "a" {\n  when true\n}\n`);
  const rows: [unknown, unknown][] = [
    [NaN, 3],
    [3, NaN],
    [Infinity, Infinity],
    [JSON.parse("1e400"), JSON.parse("1e400")],
  ];
  for (const [c, l] of rows) {
    for (const explain of [false, true]) {
      const d = access(ev, { principal: { clearance: c }, action: "a", resource: { level: l } }, explain);
      t.equal(d.decision, "deny", `${c} <= ${l}, explain ${explain}`);
      t.same(d.reasons.map((r) => r.message), [ERRORED]);
    }
  }
  t.equal(access(ev, { principal: { clearance: 4 }, action: "a", resource: { level: 3 } }).decision, "allow");
});

// Found by the spec differential (test/evaluator/spec-differential.test.ts): `==` answered true
// for a list or object holding Infinity when both sides were the same object (`x == x`, or
// `(x ?? []) == x`), by identity, while a copy of it was unequal (a non-finite number equals
// nothing, not even itself). `when context == context` held for a context carrying `1e400`.
t.test("a list or object holding a non-finite number is unequal to itself, as to a copy", async (t) => {
  const exprs = ["principal.x == principal.x", "principal.x == (principal.x ?? [])", "not (principal.x != principal.x)", "[principal.x] contains principal.x", "principal.x in [principal.x]"];
  const values: unknown[] = [JSON.parse("[1e400]"), JSON.parse('{"level": -1e400}'), [["x", NaN]], { a: [Infinity] }];
  for (const expr of exprs) {
    const ev = evaluator(`deny "d" {\n  unless ${expr}\n}\nallow "a" {\n  when true\n}\n`);
    for (const explain of [false, true]) {
      for (const x of values) t.equal(access(ev, { principal: { x }, action: "a", resource: {} }, explain).decision, "deny", `${expr} with ${JSON.stringify(x)}, explain ${explain}`);
      t.equal(access(ev, { principal: { x: ["a", 1, { b: [2] }] }, action: "a", resource: {} }, explain).decision, "allow", `${expr}: finite values equal themselves`);
    }
  }
});
