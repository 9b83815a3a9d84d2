/**
 * `notApplied: false` exists only so the benchmark can measure what the
 * always-on explanation costs: it must change nothing but `notApplied`.
 */
import t from "tap";
import { compile } from "../../src/index.js";

const POLICY = `package opt
allow "read-docs" {
  when action == "read" and resource.type == "doc"
}
allow "write-own" {
  when action == "write"
  when resource.owner == principal.id
  require mfa within 15m
}
deny "no-prod" {
  when resource.env == "prod" and action != "read"
}
`;

const inputs = [
  { principal: { id: "a" }, action: "read", resource: { type: "doc", env: "dev", owner: "b" }, context: {} },
  { principal: { id: "a" }, action: "write", resource: { type: "doc", env: "dev", owner: "a" }, context: {}, time: "2026-01-01T00:00:00Z" },
  { principal: { id: "a" }, action: "write", resource: { type: "doc", env: "prod", owner: "a" }, context: {} },
  { principal: { id: "a" }, action: "delete", resource: { type: "vm", env: "dev" }, context: {} },
  { principal: { id: "a" }, action: "write", resource: { type: "doc" }, context: {} },
];

t.test("decisions are identical with and without notApplied, apart from notApplied", async (t) => {
  const on = compile(POLICY);
  const off = compile(POLICY, { notApplied: false });
  let recorded = 0;
  for (const input of inputs) {
    const a = on.evaluate(input) as { notApplied: unknown[] };
    const b = off.evaluate(input) as { notApplied: unknown[] };
    recorded += a.notApplied.length;
    t.same(b.notApplied, [], "off records nothing");
    t.same({ ...b, notApplied: undefined }, { ...a, notApplied: undefined }, JSON.stringify(input));
  }
  t.ok(recorded > 0, "on (the default) records rules that did not apply");
});
