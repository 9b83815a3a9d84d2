/**
 * Validating an input against its kind's schema (evaluator/input.ts): only
 * a validator that answers `true` lets an input through.
 */
import t from "tap";
import { checkInput, type SchemaValidator } from "../../src/evaluator/input.js";

const INPUT = { principal: { id: "alice" }, action: "read", resource: {} };

t.test("a validator that answers anything but true fails the input closed", async (t) => {
  for (const answer of [Promise.resolve(INPUT), 1, "yes", {}]) {
    const validate = (() => answer) as unknown as SchemaValidator;
    const r = checkInput(INPUT, new Map([["access", validate]]));
    t.ok("messages" in r, `answer ${typeof answer}`);
    if ("messages" in r) t.same(r.messages, ["input does not match the access schema"]);
  }
  const ok = checkInput(INPUT, new Map([["access", (() => true) as SchemaValidator]]));
  t.notOk("messages" in ok);
});

t.test("a rejected promise from a validator is not left unhandled", async (t) => {
  const unhandled: unknown[] = [];
  const on = (e: unknown) => unhandled.push(e);
  process.on("unhandledRejection", on);
  t.teardown(() => void process.off("unhandledRejection", on));
  const validate = (() => Promise.reject(new Error("validation failed"))) as unknown as SchemaValidator;
  const r = checkInput(INPUT, new Map([["access", validate]]));
  t.ok("messages" in r);
  await new Promise((resolve) => setImmediate(resolve));
  t.same(unhandled, []);
});

t.test("schema failures are listed, at most the first 10", async (t) => {
  const failing = (n: number) => {
    const validate = (() => false) as SchemaValidator;
    validate.errors = Array.from({ length: n }, (_, i) => ({ instancePath: `/principal/f${i}`, message: "must be string" }));
    return checkInput(INPUT, new Map([["access", validate]]));
  };
  const ten = Array.from({ length: 10 }, (_, i) => `input does not match the access schema: /principal/f${i} must be string`);
  for (const n of [10, 11, 12]) t.same(failing(n), { kind: "access", messages: ten }, `${n} failures`);
  t.same(failing(9), { kind: "access", messages: ten.slice(0, 9) });
});
