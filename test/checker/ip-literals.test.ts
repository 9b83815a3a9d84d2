/**
 * ip() literals read by the checker as evaluation reads them (found by
 * folding the spec differential's consts both ways). The checker trimmed
 * the text (`ip(" 10.0.0.0/8")` passed, and every evaluation of the rule
 * was an "invalid IP address" error: a deny rule denied all it was reached
 * for), kept an IPv4-mapped address (`::ffff:10.1.2.3`) as IPv6 where
 * evaluation takes the IPv4 address, and compared ranges with their host
 * bits, so lint called rules that apply "never applies" (SP3002).
 */
import t from "tap";
import { compile, type AccessDecision } from "../../src/index.js";

const input = { principal: {}, action: "read", resource: {}, context: { ip: "10.1.2.3" } };

t.test("an ip() literal with whitespace is SP2020, as evaluation refuses it", async (t) => {
  for (const lit of [" 10.0.0.0/8", "10.0.0.0/8 ", "\t192.168.0.0/16", "10.1.2.3\n"]) {
    const e = compile(`package p\ndeny "d" {\n  when context.ip in [ip("10.0.0.0/8"), ip(${JSON.stringify(lit)})]\n}\n`, { file: "p.policy" });
    t.same(e.diagnostics.map((d) => d.code), ["SP2020"], JSON.stringify(lit));
  }
});

t.test("constant ip() tests fold in the checker as they evaluate: lint says never-applies only when it never does", async (t) => {
  const cases: [string, boolean][] = [
    ['ip("::ffff:10.1.2.3") in ip("10.0.0.0/8")', true],
    ['ip("10.1.2.3") in ip("::ffff:10.0.0.0/104")', true],
    ['ip("::ffff:10.1.2.3") == ip("10.1.2.3")', true],
    ['ip("10.1.2.3/8") == ip("10.0.0.0/8")', true],
    ['"10.1.2.3" in [ip("::ffff:10.0.0.0/104")]', true],
    ['ip("fd00::1") in ip("10.0.0.0/8")', false],
    ['ip("10.1.2.3/8") == ip("10.0.0.0/16")', false],
  ];
  for (const [expr, applies] of cases) {
    const e = compile(`package p\nallow "a" {\n  tags ["t"]\n  when ${expr}\n}\n`, { file: "p.policy", lint: true });
    t.same(e.diagnostics.filter((d) => d.severity === "error"), [], `${expr} loads`);
    const d = e.evaluate(input) as AccessDecision;
    t.equal(d.decision, applies ? "allow" : "deny", `${expr} evaluates to ${applies}`);
    const never = e.diagnostics.some((x) => x.code === "SP3002");
    const always = e.diagnostics.some((x) => x.code === "SP3010");
    t.same({ never, always }, { never: !applies, always: applies }, `${expr}: lint agrees with evaluation`);
  }
});

t.test("a constant `in` that evaluation answers with an error is not folded to true or false", async (t) => {
  for (const expr of ['"10.1.2.3/32" in [ip("10.0.0.0/8")]', '"x" in [ip("10.0.0.0/8"), "x"]', '"10.0.0.0/8" in ip("10.0.0.0/8")']) {
    const e = compile(`package p\nallow "a" {\n  tags ["t"]\n  when ${expr}\n}\n`, { file: "p.policy", lint: true });
    const d = e.evaluate(input) as AccessDecision;
    t.equal(d.decision, "deny", `${expr} does not grant`);
    t.equal(d.errors.length, 1, `${expr} is an evaluation error`);
    t.same(e.diagnostics.filter((x) => x.code === "SP3002" || x.code === "SP3010"), [], `${expr}: lint claims neither always nor never`);
  }
});
