/**
 * The rule index: which rules are keyed (leading, error-free literal tests
 * only), how few rules a request touches, and targeted cases where a wrong
 * index would change a decision. The oracle test covers the rest at random.
 */
import t from "tap";
import { CANDIDATE_CACHE_BUDGET, indexKeyOf } from "../../src/evaluator/rule-index.js";
import { ExprCompiler } from "../../src/evaluator/compile-expr.js";
import { ACCESS_ROOTS, ConstTable, compilePolicySet } from "../../src/evaluator/compile.js";
import type { AccessRule } from "../../src/parser/ast.js";
import { access, evaluator, parseOk } from "./helpers.js";

function keyOf(clauses: string, consts = 'const acts = ["read", "list"]\nconst one = "write"\nconst nets = [ip("10.0.0.0/8")]') {
  const file = parseOk(`package p\n${consts}\nallow "r" {\n${clauses}\n}\n`);
  const rule = file.items.find((i): i is AccessRule => i.kind === "AccessRule")!;
  const compiler = new ExprCompiler(new ConstTable([file]).scope("p", ACCESS_ROOTS));
  const k = indexKeyOf(rule, (e) => compiler.compile(e));
  return { actions: k.actions && [...k.actions].sort(), types: k.types && [...k.types].sort(), ...(k.roles ? { roles: [...k.roles].sort() } : {}) };
}

t.test("index keys come from leading literal tests only", async (t) => {
  t.same(keyOf(`when action == "read"`), { actions: ["read"], types: null });
  t.same(keyOf(`when "read" == action`), { actions: ["read"], types: null });
  t.same(keyOf(`when action in ["read", "write"] and resource.type == "node"`), { actions: ["read", "write"], types: ["node"] });
  t.same(keyOf(`when action in acts`), { actions: ["list", "read"], types: null }, "consts fold");
  t.same(keyOf(`when action == one`), { actions: ["write"], types: null });
  t.same(keyOf(`when (action == "a" or action == "b")`), { actions: ["a", "b"], types: null });
  t.same(keyOf(`when resource["type"] in ["node", "job"]`), { actions: null, types: ["job", "node"] });
  t.same(keyOf(`tags ["x"]\nwhen action == "a"\nwhen resource.type == "t"`), { actions: ["a"], types: ["t"] }, "tags are skipped, later whens continue");
  t.same(keyOf(`when action in ["a", "b"]\nwhen action == "b"`), { actions: ["b"], types: null }, "intersection");
  t.same(keyOf(`when action == "a" and action == "b"`), { actions: [], types: null }, "can never apply to a string action");
  t.same(keyOf(`when action == 3`), { actions: [], types: null });
  // Stops at the first conjunct that could error or is not a literal test.
  t.same(keyOf(`when principal.groups contains "ops" and action == "read"`), { actions: null, types: null });
  t.same(keyOf(`when action == "read"\nunless resource.type == "x"\nwhen resource.type == "node"`), { actions: ["read"], types: null });
  t.same(keyOf(`require principal.ok\nwhen action == "read"`), { actions: null, types: null });
  t.same(keyOf(`when action != "read"`), { actions: null, types: null });
  t.same(keyOf(`when action in nets`), { actions: null, types: null }, "an ip() list parses the left side: can error");
  t.same(keyOf(`when action like "node.*"`), { actions: null, types: null });
  t.same(keyOf(`when (action == "a" or principal.x == 1)`), { actions: null, types: null });
  t.same(keyOf(`when action == "a" or resource.type == "b"`), { actions: null, types: null }, "a disjunction across fields is no key");
  t.same(keyOf(`when resource.kind == "node"`), { actions: null, types: null });
});

t.test("role keys: the role test right after the literal tests", async (t) => {
  t.same(keyOf(`when action == "a" and principal.roles contains "ops"`), { actions: ["a"], types: null, roles: ["ops"] });
  t.same(keyOf(`when principal.roles contains_any ["ops", "sre", 3]`), { actions: null, types: null, roles: ["ops", "sre"] });
  t.same(keyOf(`when "dev" in principal.roles`), { actions: null, types: null, roles: ["dev"] });
  t.same(keyOf(`when principal["roles"] contains "a" or principal.roles contains "b"`), { actions: null, types: null, roles: ["a", "b"] });
  t.same(keyOf(`when principal.roles contains 3`), { actions: null, types: null, roles: [] }, "never true for string roles");
  t.same(keyOf(`when principal.roles contains "ops" and action == "a"`), { actions: null, types: null, roles: ["ops"] }, "tests after the role test are not keys");
  t.same(keyOf(`when principal.roles contains_any "ops"`), { actions: null, types: null }, "a non-list right side errors: no key");
  t.same(keyOf(`when principal.groups contains "ops"`), { actions: null, types: null });
  t.same(keyOf(`when resource.roles contains "ops"`), { actions: null, types: null });
});

t.test("the role dimension narrows only for a list of string roles", async (t) => {
  const ev = evaluator(`
allow "ops" { when action == "read" and principal.roles contains "ops" }
allow "dev" { when action == "read" and principal.roles contains_any ["dev", "qa"] }
allow "any" { when action == "read" }
`);
  const base = { action: "read", resource: { type: "doc" } };
  const names = (input: object) => access(ev, input, true).explain!.rules.map((r) => r.rule);
  t.same(names({ ...base, principal: { roles: ["ops"] } }), ["t/ops", "t/any"]);
  t.same(names({ ...base, principal: { roles: ["qa", "ops", "qa"] } }), ["t/ops", "t/dev", "t/any"]);
  t.same(names({ ...base, principal: { roles: ["nobody"] } }), ["t/any"]);
  t.same(names({ ...base, principal: { roles: [] } }), ["t/any"]);
  // Anything else keeps every role-keyed rule: their role tests must run (and may error).
  t.same(names({ ...base, principal: { roles: ["ops", 3] } }), ["t/ops", "t/dev", "t/any"]);
  t.same(names({ ...base, principal: { roles: "ops" } }), ["t/ops", "t/dev", "t/any"]);
  t.same(names({ ...base, principal: {} }), ["t/ops", "t/dev", "t/any"]);
  const d = access(ev, { ...base, principal: { roles: "ops" } });
  t.equal(d.decision, "allow");
  t.same(d.errors.map((e) => e.message), [
    "`contains` needs a list on the left, found string",
    "`contains_any` needs two lists, found string and list",
  ]);
  const deny = evaluator(`deny "not-ops" { when principal.roles contains "ops" }
allow "all" { when true }`);
  t.equal(access(deny, { ...base, principal: {} }).decision, "deny", "a missing roles list still fails closed");
  t.equal(access(deny, { ...base, principal: { roles: ["dev"] } }).decision, "allow");
});

t.test("a skipped rule could not have errored: missing or non-string fields evaluate everything", async (t) => {
  const ev = evaluator(`
deny "typed" { when resource.type == "secret" and action == "read" }
allow "all" { when true }
`);
  // resource.type missing: the deny rule's first test errors, so it must run and deny.
  const d = access(ev, { principal: {}, action: "write", resource: {} });
  t.equal(d.decision, "deny");
  t.equal(d.rule, "t/typed");
  t.match(d.errors[0]!.message, "missing attribute `resource.type`");
  // A string type that does not match: skipped safely, allow.
  t.equal(access(ev, { principal: {}, action: "write", resource: { type: "node" } }).decision, "allow");
  // Non-string type or action: full scan, same semantics.
  t.equal(access(ev, { principal: {}, action: "read", resource: { type: 7 } }).decision, "allow");
  t.equal(access(ev, { principal: {}, action: ["read"], resource: { type: "secret" } }).decision, "allow");
  t.equal(access(ev, { principal: {}, action: "read", resource: { type: "secret" } }).decision, "deny");
});

t.test("with 10,000 rules a request touches only its bucket", async (t) => {
  const rules: string[] = [];
  for (let i = 0; i < 10_000; i++) {
    rules.push(`allow "r${i}" {\n  when action == "act${i % 100}" and resource.type == "type${i % 37}"\n  when principal.level >= ${i % 5}\n}`);
  }
  rules.push(`deny "guard" {\n  when action == "act1"\n  when principal.banned ?? false\n}`);
  rules.push(`allow "catch-all" {\n  when principal.root ?? false\n}`);
  const ev = evaluator(rules.join("\n"));
  const d = access(ev, { principal: { level: 4 }, action: "act1", resource: { type: "type1" } }, true);
  t.equal(d.decision, "allow");
  t.equal(d.explain!.total, 10_002);
  t.ok(d.explain!.indexed);
  // i % 100 == 1 and i % 37 == 1: i = 1 + 3700k, k = 0..2; plus the guard and the catch-all.
  t.equal(d.explain!.candidates, 5);
  t.same(
    d.explain!.rules.map((r) => r.rule),
    ["t/guard", "t/r1", "t/r3701", "t/r7401", "t/catch-all"],
    "deny candidates first, then allow candidates, each in load order",
  );
  const unknown = access(ev, { principal: {}, action: "nope", resource: { type: "type1" } }, true);
  t.equal(unknown.explain!.candidates, 1, "an unknown action meets only the catch-all");
  const full = access(ev, { principal: {}, action: 5, resource: { type: "type1" } }, true);
  t.equal(full.explain!.candidates, 10_002, "a non-string action scans every rule");
  t.notOk(full.explain!.indexed);
});

t.test("candidates keep load order across buckets", async (t) => {
  const ev = evaluator(`
allow "a" { when true require principal.x == 1 else "a" }
allow "b" { when action == "go" require principal.x == 2 else "b" }
allow "c" { when resource.type == "t" require principal.x == 3 else "c" }
allow "d" { when action == "go" and resource.type == "t" require principal.x == 4 else "d" }
allow "e" { when true require principal.x == 5 else "e" }
`);
  const d = access(ev, { principal: { x: 0 }, action: "go", resource: { type: "t" } });
  t.same(d.reasons.map((r) => r.message), ["a", "b", "c", "d", "e"]);
  t.equal(d.rule, "t/a");
});

t.test("the candidate caches stay within their budget when requests bring ever new combinations of roles", async (t) => {
  // 2,000 rules, 50 for each of 40 roles: a combination of k roles has 50k candidates.
  const rules: string[] = [];
  for (let i = 0; i < 2000; i++) rules.push(`allow "a${i}" { when action == "read" and principal.roles contains "r${i % 40}" and resource.owner == "o${i}" }`);
  const { index } = compilePolicySet([parseOk(rules.join("\n"))]);
  let most = 0;
  for (let i = 1; i <= 3000; i++) {
    // Every role but those of i's bits (i < 2^13): a new combination each time, ~34 roles.
    const roles: string[] = [];
    for (let k = 0; k < 40; k++) if (k >= 13 || ((i >> k) & 1) === 0) roles.push(`r${k}`);
    const c = index.candidates("read", "doc", roles);
    if (c.allow.length !== 50 * roles.length) t.fail(`request ${i}: ${c.allow.length} candidates for ${roles.length} roles`);
    most = Math.max(most, index.cacheStats.cost);
  }
  // Held at most: the budget, plus the entry that crossed it (2,000 rules at most) and a role split.
  t.ok(most <= CANDIDATE_CACHE_BUDGET + 5000, `at most ${most} rule references held`);
  const { entries, resets } = index.cacheStats;
  t.ok(resets >= 1, `emptied ${resets} times`);
  // Each entry held ~1,700 rules: about 1,200 fit the budget. Capped at 50,000 entries, these 3,000 were all kept (515 MB at 50,000).
  t.ok(entries < 1500, `${entries} entries kept of 3,000 combinations`);
  // Emptied, the caches answer as before.
  const again = index.candidates("read", "doc", ["r0", "r39"]);
  t.same(
    again.allow.map((r) => r.order),
    Array.from({ length: 2000 }, (_, i) => i).filter((i) => i % 40 === 0 || i % 40 === 39),
  );
});
