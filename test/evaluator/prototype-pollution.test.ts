/**
 * Prototype pollution elsewhere in the process (`x.__proto__.is_admin = true`
 * through some library's bug) must not grant anything: compiled reads of
 * names Object.prototype lacked at compile time skip the own-property check,
 * so while Object.prototype has an enumerable property every evaluation fails
 * closed (src/evaluator/values.ts prototypePolluted).
 */
import t from "tap";
import { access, encryption, evaluator, mesh } from "./helpers.js";
import { prototypePolluted } from "../../src/evaluator/values.js";

const POLICY = `allow "admins" { when principal.is_admin == true }
encryption default { require cipher "aes-256-gcm" }
encryption "phi" {
  when data.classification == "phi"
  require tee
}
mesh "m" {
  network "100.64.0.0/10"
  when node.trusted == true
}`;

/** Runs `body` with Object.prototype[key] = value (assigned, as a polluting bug would), then removes it. */
function polluted<T>(key: string, value: unknown, body: () => T): T {
  (Object.prototype as Record<string, unknown>)[key] = value;
  try {
    return body();
  } finally {
    delete (Object.prototype as Record<string, unknown>)[key];
  }
}

t.test("a polluted Object.prototype never turns a missing attribute into an allow", async (t) => {
  const ev = evaluator(POLICY);
  const input = { principal: { id: "mallory" }, action: "read", resource: { type: "doc" } };
  // Warm the compiled code on ordinary requests first, so the check is of the optimised path.
  for (let i = 0; i < 2000; i++) access(ev, { ...input, principal: { id: "u", is_admin: i % 2 === 0 } });
  t.equal(access(ev, input).decision, "deny", "not an admin");
  t.equal(access(ev, { ...input, principal: { id: "a", is_admin: true } }).decision, "allow");
  const d = polluted("is_admin", true, () => access(ev, input));
  t.equal(d.decision, "deny");
  t.match(d.errors, [{ message: /prototype pollution/ }]);
  t.equal(polluted("is_admin", true, () => access(ev, { ...input, principal: { id: "a", is_admin: true } })).decision, "deny", "nothing is decided while polluted");
  t.notOk(prototypePolluted(), "cleaned up");
  t.equal(access(ev, { ...input, principal: { id: "a", is_admin: true } }).decision, "allow", "and decisions resume");
});

t.test("encryption and mesh fail closed too", async (t) => {
  const ev = evaluator(POLICY);
  const e = polluted("classification", "phi", () => encryption(ev, { kind: "encryption", data: { id: "x" } }));
  t.equal(e.required, true);
  t.equal(e.compliant, false);
  t.match(e.errors, [{ message: /prototype pollution/ }]);
  const m = polluted("trusted", true, () => mesh(ev, { kind: "mesh", node: { id: "n1" } }));
  t.equal(m.decision, "reject");
  t.match(m.errors, [{ message: /prototype pollution/ }]);
});

t.test("only enumerable properties count: Object.prototype as the platform ships it is clean", async (t) => {
  t.notOk(prototypePolluted());
  Object.defineProperty(Object.prototype, "hidden_helper", { value: 1, enumerable: false, configurable: true, writable: true });
  try {
    t.notOk(prototypePolluted(), "a non-enumerable addition (how polyfills add methods) is not pollution");
  } finally {
    delete (Object.prototype as Record<string, unknown>).hidden_helper;
  }
  t.ok(polluted("x", 1, () => prototypePolluted()));
});
