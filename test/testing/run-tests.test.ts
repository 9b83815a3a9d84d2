/** The `test` block runner (src/testing/run-tests.ts): a test evaluates exactly the input it writes. */
import t from "tap";
import { compile } from "../../src/engine.js";
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
