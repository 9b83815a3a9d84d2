/**
 * Hand-picked cases where a converted rule used to decide differently from
 * json-rules-engine (run as docs/cli.md says), or where hostile input
 * crashed the import. Each case runs the real engine on the same facts, or
 * checks that the rule is reported instead of converted.
 */
import t, { type Test } from "tap";
import { Engine as JreEngine } from "json-rules-engine";
import { compile, convertJsonRulesEngine } from "../../src/index.js";

type Input = { principal: Record<string, unknown>; action: string; resource: Record<string, unknown>; context: Record<string, unknown> };

const input = (o: Partial<Input>): Input => ({ principal: {}, action: "read", resource: {}, context: {}, ...o });

async function jreDecision(rules: unknown[], facts: Input): Promise<"allow" | "deny"> {
  const engine = new JreEngine(structuredClone(rules) as never);
  const { events } = await engine.run(structuredClone(facts));
  if (events.some((e) => e.type === "deny" || e.type === "forbid")) return "deny";
  return events.length > 0 ? "allow" : "deny";
}

/** The converted policy decides as json-rules-engine does on every input. */
async function sameDecisions(t: Test, rules: unknown[], inputs: Input[]): Promise<void> {
  const imported = convertJsonRulesEngine([{ name: "rules.json", doc: rules }]);
  t.same(imported.problems, [], "converts completely");
  const engine = compile(imported.policy, { file: "imported.policy" });
  t.same(engine.diagnostics, []);
  for (const facts of inputs) {
    t.equal(engine.evaluateAccess(facts).decision, await jreDecision(rules, facts), JSON.stringify(facts), { policy: imported.policy });
  }
}

/** The rule is left out and reported, and the import does not throw. */
function reported(t: Test, rules: unknown[], why: RegExp): void {
  const imported = convertJsonRulesEngine([{ name: "rules.json", doc: rules }]);
  t.equal(imported.converted, rules.length - 1, "the other rules still convert");
  t.equal(imported.problems.length, 1);
  t.match(imported.problems[0]?.reason ?? "", why);
  t.same(compile(imported.policy, { file: "imported.policy" }).diagnostics, []);
}

const allowAll = { name: "base", conditions: { all: [] }, event: { type: "allow" } };
const ref = (fact: string, path: string) => ({ fact, path });

t.test("a fact reference compares lists and objects by reference, as json-rules-engine does", async (t) => {
  const lists = [
    input({ principal: { g: [1] }, resource: { g: [1] } }),
    input({ principal: { g: { a: 1 } }, resource: { g: { a: 1 } } }),
    input({ principal: { g: "x" }, resource: { g: "x" } }),
    input({ principal: { g: "x" }, resource: { g: "y" } }),
    input({ principal: {}, resource: {} }),
    input({ principal: { g: 1 }, resource: {} }),
  ];
  await sameDecisions(t, [{ conditions: { all: [{ ...ref("principal", "$.g"), operator: "equal", value: ref("resource", "$.g") }] }, event: { type: "allow" } }], lists);
  await sameDecisions(
    t,
    [allowAll, { conditions: { all: [{ ...ref("principal", "$.g"), operator: "notEqual", value: ref("resource", "$.g") }] }, event: { type: "deny" } }],
    lists,
  );
  const nested = [
    input({ principal: { g: [1] }, resource: { g: [[1]] } }),
    input({ principal: { g: { a: 1 } }, resource: { g: [{ a: 1 }] } }),
    input({ principal: { g: 1 }, resource: { g: [1] } }),
    input({ principal: { g: 2 }, resource: { g: [1] } }),
    input({ principal: {}, resource: { g: [1] } }),
  ];
  await sameDecisions(t, [{ conditions: { all: [{ ...ref("principal", "$.g"), operator: "in", value: ref("resource", "$.g") }] }, event: { type: "allow" } }], nested);
  await sameDecisions(
    t,
    [allowAll, { conditions: { all: [{ ...ref("principal", "$.g"), operator: "notIn", value: ref("resource", "$.g") }] }, event: { type: "deny" } }],
    nested,
  );
  const contained = nested.map((i) => input({ principal: i.resource, resource: i.principal }));
  await sameDecisions(t, [{ conditions: { all: [{ ...ref("principal", "$.g"), operator: "contains", value: ref("resource", "$.g") }] }, event: { type: "allow" } }], contained);
  await sameDecisions(
    t,
    [allowAll, { conditions: { all: [{ ...ref("principal", "$.g"), operator: "doesNotContain", value: ref("resource", "$.g") }] }, event: { type: "deny" } }],
    contained,
  );
});

t.test("a fact compared with itself is always equal, as json-rules-engine has it (same reference)", async (t) => {
  const rules = [{ conditions: { all: [{ ...ref("principal", "$.g"), operator: "equal", value: ref("principal", "$.g") }] }, event: { type: "allow" } }];
  await sameDecisions(t, rules, [input({ principal: { g: [1] } }), input({ principal: {} }), input({ principal: { g: "x" } })]);
});

t.test("a number with no exact literal is reported per rule, not a crash", (t) => {
  for (const n of [9007199254740993, 1e20, -9007199254740993]) {
    reported(t, [allowAll, { name: "big", conditions: { all: [{ fact: "principal", path: "$.n", operator: "lessThan", value: n }] }, event: { type: "deny" } }], /2\^53/);
    reported(t, [allowAll, { name: "big", conditions: { all: [{ fact: "principal", path: "$.n", operator: "in", value: [1, n] }] }, event: { type: "deny" } }], /2\^53/);
  }
  t.end();
});

t.test("deeply nested conditions are reported per rule, not a crash", (t) => {
  let deep: unknown = { fact: "principal", path: "$.a", operator: "equal", value: 1 };
  for (let i = 0; i < 5000; i++) deep = { not: deep };
  reported(t, [allowAll, { name: "deep", conditions: { all: [deep] }, event: { type: "deny" } }], /nested/);
  let wide: unknown = { fact: "principal", path: "$.a", operator: "equal", value: 1 };
  for (let i = 0; i < 300; i++) wide = { any: [{ all: [{ fact: "principal", path: "$.b", operator: "equal", value: i }, wide] }] };
  reported(t, [allowAll, { name: "wide", conditions: { all: [wide] }, event: { type: "deny" } }], /nested/);
  t.end();
});

t.test("JSONPath keys are read as jsonpath-plus reads them, or the rule is reported", async (t) => {
  // jsonpath-plus keeps a backslash in a quoted key: $['a\'b'] reads the key a\'b.
  for (const path of ["$['a\\'b']", '$["a\\"b"]', "$['a,b']", "$['a;b']", "$['a^b']", "$['`a']", "$['a]b']", "$['(x)']", "$['~']", "$.$", "$['#0']", "$['a%@%b']", "$['a[b']", "$[\"a'b\"]"]) {
    reported(t, [allowAll, { name: "odd", conditions: { all: [{ fact: "principal", path, operator: "notEqual", value: 1 }] }, event: { type: "deny" } }], /path/);
  }
  // Lists and strings have a length and numbered elements in JSONPath.
  for (const path of ["$.roles.length", "$['length']", "$.roles['0']"]) {
    reported(t, [allowAll, { name: "len", conditions: { all: [{ fact: "principal", path, operator: "greaterThan", value: 1 }] }, event: { type: "deny" } }], /length|element/);
  }
  // What is still accepted reads the same key as jsonpath-plus.
  await sameDecisions(
    t,
    [{ conditions: { all: [{ fact: "principal", path: "$['a b'].c-d[\"e.f\"]", operator: "equal", value: 1 }] }, event: { type: "allow" } }],
    [input({ principal: { "a b": { "c-d": { "e.f": 1 } } } }), input({ principal: { "a b": { "c-d": { e: { f: 1 } } } } })],
  );
});

t.test("a dotted fact read with a path is reported: json-rules-engine reads a non-object fact itself", (t) => {
  reported(t, [allowAll, { name: "dp", conditions: { all: [{ fact: "principal.a", path: "$.b", operator: "equal", value: "x" }] }, event: { type: "deny" } }], /path/);
  t.end();
});

t.test("in/notIn with a referenced list that is missing or not a list: json-rules-engine throws, ours never allows", (t) => {
  const notOwner = { name: "not-owner", conditions: { all: [{ ...ref("principal", "$.id"), operator: "notIn", value: ref("resource", "$.owners") }] }, event: { type: "deny" } };
  const owner = { name: "owner", conditions: { all: [{ ...ref("principal", "$.id"), operator: "in", value: ref("resource", "$.owners") }] }, event: { type: "allow" } };
  const imported = convertJsonRulesEngine([{ name: "rules.json", doc: [allowAll, notOwner] }]);
  const engine = compile(imported.policy, { file: "imported.policy" });
  for (const resource of [{}, { owners: null }, { owners: 5 }, { owners: { u1: true } }]) {
    t.equal(engine.evaluateAccess(input({ principal: { id: "u1" }, resource })).decision, "deny", JSON.stringify(resource));
    t.equal(engine.evaluateAccess(input({ principal: {}, resource })).decision, "deny", `no id, ${JSON.stringify(resource)}`);
  }
  t.equal(engine.evaluateAccess(input({ principal: { id: "u1" }, resource: { owners: ["u1"] } })).decision, "allow");
  const allowOwner = compile(convertJsonRulesEngine([{ name: "rules.json", doc: [{ ...owner, conditions: { not: { ...notOwner.conditions } } }] }]).policy, { file: "o.policy" });
  t.equal(allowOwner.evaluateAccess(input({ principal: {}, resource: {} })).decision, "deny");
  t.equal(allowOwner.evaluateAccess(input({ principal: { id: "u1" }, resource: { owners: ["u1"] } })).decision, "allow");
  // The throw stops the whole run: another rule (or branch) that holds does not allow either.
  const admin = { name: "admin", conditions: { all: [{ fact: "principal", path: "$.admin", operator: "equal", value: true }] }, event: { type: "allow" } };
  const adminOrOwner = { name: "admin-or-owner", conditions: { any: [admin.conditions.all[0], owner.conditions.all[0]] }, event: { type: "allow" } };
  for (const rules of [[admin, owner], [adminOrOwner]]) {
    const both = compile(convertJsonRulesEngine([{ name: "rules.json", doc: rules }]).policy, { file: "b.policy" });
    t.equal(both.evaluateAccess(input({ principal: { admin: true }, resource: {} })).decision, "deny", "owners missing: json-rules-engine throws");
    t.equal(both.evaluateAccess(input({ principal: { admin: true }, resource: { owners: [] } })).decision, "allow");
  }
  t.end();
});
