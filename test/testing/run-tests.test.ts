/** The `test` block runner (src/testing/run-tests.ts): a test evaluates exactly the input it writes. */
import t from "tap";
import { compile, loadPolicies } from "../../src/engine.js";
import { runPolicyTests } from "../../src/testing/run-tests.js";

t.test('a "__proto__" key in a test input stays an own key, as in JSON', async (t) => {
  // Copied by assignment it became the object's prototype, `resource.type` read "node" through it,
  // and the test passed `expect allow` for an input that, sent as JSON, is denied.
  const e = compile(
    `allow "a" {\n  when resource.type == "node"\n}\ntest "proto" {\n  access { principal: {}, action: "a", resource: { "__proto__": { type: "node" } } }\n  expect deny\n  expect result.errors[0].message == "missing attribute \`resource.type\`"\n}\n`,
  );
  t.same(e.diagnostics, []);
  const run = runPolicyTests(e.files, e);
  t.same(run.results.map((r) => [r.name, r.status, r.failures]), [["proto", "passed", []]]);
  t.equal(e.evaluateAccess(JSON.parse('{"principal":{},"action":"a","resource":{"__proto__":{"type":"node"}}}')).decision, "deny", "the same input as JSON");
});

t.test("a test input the engine refuses (its schema, its shape, its time, no such mesh): marked refused; with strict it fails, whatever it expects", async (t) => {
  // The refusal is a deny (reject, required encryption) with no rule behind it, so `expect deny`
  // passes: a test of a deny rule whose input is malformed keeps passing after the rule is deleted.
  // By the spec the test checks the decision, which is that deny; `refused` says why, and strict fails it.
  const schema = {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    properties: { principal: { type: "object", properties: { id: { type: "string" } }, required: ["id"] } },
  };
  const dir = t.testdir({
    "schemas": { "access.schema.json": JSON.stringify(schema) },
    "a.policy": `package p
schema access "schemas/access.schema.json"
deny "no-delete" {
  when action == "delete"
}
allow "read" {
  when action == "read"
}
mesh "swarm" {
  network "100.64.0.0/10"
  when node.tags contains "worker"
}
test "schema refuses it" {
  access { principal: { id: 5 }, action: "delete", resource: {} }
  expect deny
}
test "no resource" {
  access { principal: { id: "a" }, action: "delete" }
  expect deny
  expect result.reasons[0].message == "invalid input"
}
test "a time that is no time" {
  access { principal: { id: "a" }, action: "delete", resource: {}, time: "yesterday" }
  expect deny
}
test "encryption without data" {
  encryption { time: "2026-01-01T00:00:00Z" }
  expect result.required
}
test "a mesh that is not loaded" {
  mesh { mesh: "other", node: { id: "n1", public_key: "", tags: ["worker"] } }
  expect reject
}
test "a valid input still runs" {
  access { principal: { id: "a" }, action: "delete", resource: {} }
  expect deny
  expect result.rule == "p/no-delete"
}
test "a malformed key is a rejection by admission, not a refused input" {
  mesh { node: { id: "n1", public_key: "not base64", tags: ["worker"] } }
  expect reject
}
`,
  });
  const e = await loadPolicies(dir);
  t.same(e.diagnostics.filter((d) => d.severity === "error"), []);
  const lenient = Object.fromEntries(runPolicyTests(e.files, e).results.map((r) => [r.name, r]));
  const run = runPolicyTests(e.files, e, { strict: true });
  const byName = Object.fromEntries(run.results.map((r) => [r.name, r]));
  for (const [name, why] of [
    ["schema refuses it", /input does not match the access schema: \/principal\/id must be string/],
    ["no resource", /input is missing `resource`/],
    ["a time that is no time", /not an RFC 3339 time/],
    ["encryption without data", /data/],
    ["a mesh that is not loaded", /no mesh named "other"/],
  ] as const) {
    t.equal(byName[name]!.status, "failed", name);
    t.match(byName[name]!.failures.map((f) => f.message).join("\n"), /^test input refused before any rule ran: /, name);
    t.match(byName[name]!.failures[0]!.message, why, name);
    t.match(lenient[name]!.refused?.join("\n"), why, `${name}: refused, without strict`);
    t.same(byName[name]!.refused, lenient[name]!.refused);
  }
  // Without strict, the expectations are checked against the refusal (a deny, a reject, the strictest encryption).
  for (const name of ["schema refuses it", "no resource", "a time that is no time", "encryption without data", "a mesh that is not loaded"]) {
    t.equal(lenient[name]!.status, "passed", `${name}: passes on the refusal without strict`);
  }
  for (const r of Object.values(lenient)) if (r.name.startsWith("a ") && !r.name.includes("no time") && !r.name.includes("not loaded")) t.equal(r.refused, undefined, `${r.name}: rules decided`);
  t.equal(byName["a valid input still runs"]!.status, "passed", JSON.stringify(byName["a valid input still runs"]!.failures));
  t.equal(byName["a malformed key is a rejection by admission, not a refused input"]!.status, "passed");
});

t.test("a target whose policy set has errors fails every test instead of passing those that expect deny", async (t) => {
  const e = compile(`allow "a" {\n  when pricipal.id == "x"\n}\ntest "denied" {\n  access { principal: {}, action: "a", resource: {} }\n  expect deny\n}\n`);
  t.ok(e.diagnostics.some((d) => d.severity === "error"));
  const run = runPolicyTests(e.files, e);
  t.same(run.results.map((r) => [r.status, r.failures.map((f) => f.message)]), [["failed", ["test input refused before any rule ran: policy set has errors"]]]);
});
