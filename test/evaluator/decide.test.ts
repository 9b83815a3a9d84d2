/**
 * Decision combining, spec/LANGUAGE.md section 4, all four steps, with the
 * deciding rule, reasons, obligations and errors (with spans).
 */
import t from "tap";
import { access, evaluator } from "./helpers.js";
import { specRestart } from "../support/spec-inputs.js";

const POLICY = `package swarm.access
const admin_roles = ["admin", "sre"]

allow "ops-restart-nodes" {
  tags ["ISO27001:A.8.2"]
  when action in ["node.restart", "node.drain"] and resource.type == "node"
  when principal.roles contains "ops"
  unless resource.env == "prod"
  require mfa within 15m
  require context.device.compliant ?? false else "device is not compliant"
}

deny "no-prod-delete" {
  when action == "delete" and resource.env == "prod"
  unless principal.roles contains_any admin_roles
}

allow "admins-delete" {
  when action == "delete"
  when principal.roles contains_any admin_roles
}
`;

const ev = evaluator(POLICY);
const restart = specRestart;

t.test("step 2: an applicable allow rule with every require met allows", async (t) => {
  const d = access(ev, restart);
  t.equal(d.decision, "allow");
  t.equal(d.rule, "swarm.access/ops-restart-nodes");
  t.same(d.reasons, [{ rule: "swarm.access/ops-restart-nodes", effect: "allow", message: "allow rule applies" }]);
  t.same(d.obligations, []);
  t.same(d.errors, []);
  t.equal(d.version, "test");
});

t.test("step 3: MFA-only shortfall is a challenge with the obligation as written", async (t) => {
  const d = access(ev, { ...restart, time: "2026-01-01T00:15:01Z" });
  t.equal(d.decision, "challenge");
  t.equal(d.rule, "swarm.access/ops-restart-nodes");
  t.same(d.obligations, [{ mfa: { maxAge: "15m" } }]);
  t.same(d.reasons, [{ rule: "swarm.access/ops-restart-nodes", effect: "allow", message: "MFA within 15m required" }]);
  // Exactly 15 minutes old still counts (inclusive).
  t.equal(access(ev, { ...restart, time: "2026-01-01T00:15:00Z" }).decision, "allow");
  // No MFA at all: unmet, not an error.
  const none = access(ev, { ...restart, context: { device: { compliant: true } } });
  t.equal(none.decision, "challenge");
  t.same(none.errors, []);
  t.equal(access(ev, { ...restart, context: { mfa: { verified_at: null }, device: { compliant: true } } }).decision, "challenge");
});

t.test("step 4: unmet requirements other than MFA deny with their messages", async (t) => {
  const d = access(ev, { ...restart, context: { mfa: { verified_at: "2026-01-01T00:00:00Z" }, device: { compliant: false } } });
  t.equal(d.decision, "deny");
  t.equal(d.rule, "swarm.access/ops-restart-nodes");
  t.same(d.reasons, [{ rule: "swarm.access/ops-restart-nodes", effect: "allow", message: "device is not compliant" }]);
  // Stale MFA and a non-compliant device: a fresh MFA would not help, so deny, both reasons.
  const both = access(ev, { ...restart, time: "2026-01-02T00:00:00Z", context: { mfa: { verified_at: "2026-01-01T00:00:00Z" } } });
  t.equal(both.decision, "deny");
  t.same(
    both.reasons.map((r) => r.message),
    ["MFA within 15m required", "device is not compliant"],
  );
  t.same(both.obligations, []);
});

t.test("step 4: nothing applicable denies with 'no rule allows'", async (t) => {
  const d = access(ev, { ...restart, resource: { type: "node", env: "prod" } });
  t.equal(d.decision, "deny");
  t.equal(d.rule, null);
  t.same(d.reasons, [{ rule: null, effect: "deny", message: "no rule allows" }]);
  t.same(d.notApplied, [{ rule: "swarm.access/ops-restart-nodes", clause: "unless", span: { file: "t.policy", line: 8, column: 3 } }]);
});

t.test("step 1: deny overrides allow", async (t) => {
  const d = access(ev, { principal: { roles: ["ops"] }, action: "delete", resource: { type: "node", env: "prod" } });
  t.equal(d.decision, "deny");
  t.equal(d.rule, "swarm.access/no-prod-delete");
  t.same(d.reasons, [{ rule: "swarm.access/no-prod-delete", effect: "deny", message: "deny rule applies" }]);
  const admin = access(ev, { principal: { roles: ["admin"] }, action: "delete", resource: { type: "node", env: "prod" } });
  t.equal(admin.decision, "allow");
  t.equal(admin.rule, "swarm.access/admins-delete");
});

t.test("step 1: a deny rule that errors denies (fail closed), with the error's span", async (t) => {
  const d = access(ev, { principal: { roles: ["admin"] }, action: "delete", resource: { type: "node" } });
  t.equal(d.decision, "deny");
  t.equal(d.rule, "swarm.access/no-prod-delete");
  t.same(d.reasons, [{ rule: "swarm.access/no-prod-delete", effect: "deny", message: "deny rule errored; denied to fail closed" }]);
  t.same(d.errors, [
    { rule: "swarm.access/no-prod-delete", message: "missing attribute `resource.env`", span: { file: "t.policy", line: 14, column: 31 } },
  ]);
});

t.test("errors in an allow rule never grant and are reported", async (t) => {
  const d = access(ev, { principal: { id: "x" }, action: "node.restart", resource: { type: "node", env: "dev" } });
  t.equal(d.decision, "deny");
  t.same(d.errors, [
    { rule: "swarm.access/ops-restart-nodes", message: "missing attribute `principal.roles`", span: { file: "t.policy", line: 7, column: 8 } },
  ]);
  t.same(d.reasons, [{ rule: null, effect: "deny", message: "no rule allows" }]);
  // Another allow rule still grants; the error is still listed.
  const two = evaluator(`allow "a" { when principal.missing } allow "b" { when true }`);
  const d2 = access(two, { principal: {}, action: "x", resource: {} });
  t.equal(d2.decision, "allow");
  t.equal(d2.rule, "t/b");
  t.equal(d2.errors.length, 1);
  t.equal(d2.errors[0]!.rule, "t/a");
});

t.test("clauses run in source order and stop when the outcome is known", async (t) => {
  const p = evaluator(`
allow "when-first" {
  when principal has geo
  when principal.geo.country == "NL"
}
allow "require-before-when" {
  require principal.missing == 1
  when false
}
allow "false-when-ends-it" {
  when false
  require principal.missing == 1
}
`);
  const d = access(p, { principal: {}, action: "x", resource: {} });
  t.same(
    d.errors.map((e) => e.rule),
    ["t/require-before-when"],
    "a require reached before a false when errors; a false when stops before its require",
  );
  t.same(
    d.notApplied.map((n) => [n.rule, n.clause, n.span.line]),
    [
      ["t/when-first", "when", 3],
      ["t/false-when-ends-it", "when", 11],
    ],
  );
});

t.test("non-boolean clauses are errors of the rule", async (t) => {
  const p = evaluator(`deny "d" { when principal.level }\nallow "a" { when true require principal.name }`);
  const d = access(p, { principal: { level: 3, name: "x" }, action: "x", resource: {} });
  t.equal(d.decision, "deny");
  t.same(d.errors, [{ rule: "t/d", message: "`when` needs a boolean, found number", span: { file: "t.policy", line: 1, column: 17 } }]);
  const a = evaluator(`allow "a" { when true require principal.name }`);
  t.same(access(a, { principal: { name: "x" }, action: "x", resource: {} }).errors.map((e) => e.message), ["`require` needs a boolean, found string"]);
  const u = evaluator(`allow "a" { unless principal.name }`);
  t.same(access(u, { principal: { name: "x" }, action: "x", resource: {} }).errors.map((e) => e.message), ["`unless` needs a boolean, found string"]);
});

t.test("require without else, require mfa without within", async (t) => {
  const p = evaluator(`allow "a" {\n  when true\n  require principal.level >= 3\n  require mfa\n}`);
  const d = access(p, { principal: { level: 1 }, action: "x", resource: {}, context: { mfa: { verified_at: "2020-01-01T00:00:00Z" } } });
  t.equal(d.decision, "deny");
  t.same(d.reasons, [{ rule: "t/a", effect: "allow", message: "requirement not met: `principal.level >= 3`" }]);
  const c = access(p, { principal: { level: 5 }, action: "x", resource: {} });
  t.equal(c.decision, "challenge");
  t.same(c.obligations, [{ mfa: {} }]);
  t.same(c.reasons.map((r) => r.message), ["MFA required"]);
  t.equal(access(p, { principal: { level: 5 }, action: "x", resource: {}, context: { mfa: { verified_at: 1 } } }).decision, "allow");
});

t.test("MFA: malformed verified_at or context is an error, not a grant", async (t) => {
  const p = evaluator(`allow "a" {\n  when true\n  require mfa within 1h\n}`);
  const base = { principal: {}, action: "x", resource: {}, time: "2026-01-01T00:00:00Z" };
  const bad = access(p, { ...base, context: { mfa: { verified_at: "yesterday" } } });
  t.equal(bad.decision, "deny");
  t.same(bad.errors, [
    { rule: "t/a", message: '`context.mfa.verified_at` must be an RFC 3339 time or epoch seconds, found "yesterday"', span: { file: "t.policy", line: 3, column: 3 } },
  ]);
  t.equal(access(p, { ...base, context: { mfa: "yes" } }).errors[0]?.message, "cannot read `verified_at` of a string (`context.mfa`)");
  t.equal(access(p, { ...base, context: { mfa: { verified_at: 1767222000 } } }).decision, "allow", "epoch seconds (23:00 the day before)");
});

t.test("deciding rule and reasons across several rules and files, load order", async (t) => {
  const p = evaluator([
    `package a\nallow "one" { when true }\ndeny "d1" { when action == "x" }`,
    `package b\nallow "two" { when true }\ndeny "d2" { when action == "x" }\nallow "mfa" { when true require mfa within 5m }`,
  ]);
  const allow = access(p, { principal: {}, action: "y", resource: {} });
  t.equal(allow.rule, "a/one");
  t.same(allow.reasons.map((r) => r.rule), ["a/one", "b/two"], "every granting rule is a reason");
  const deny = access(p, { principal: {}, action: "x", resource: {} });
  t.equal(deny.rule, "a/d1");
  t.same(deny.reasons.map((r) => r.rule), ["a/d1", "b/d2"], "every applicable deny rule is a reason");
  t.same(deny.notApplied, [], "allow rules are not evaluated once a deny applies");
});

t.test("challenge picks the first MFA-only rule; an allow elsewhere wins", async (t) => {
  const p = evaluator(`
allow "strict" { when true require mfa within 5m }
allow "lax" { when true require mfa within 1h }
allow "ops" { when principal.role == "ops" }
`);
  const base = { action: "x", resource: {}, context: { mfa: { verified_at: "2026-01-01T11:30:00Z" } } };
  t.equal(access(p, { ...base, principal: { role: "dev" } }).decision, "allow", "lax is met at 30m");
  const c = access(p, { ...base, principal: { role: "dev" }, context: {} });
  t.equal(c.decision, "challenge");
  t.equal(c.rule, "t/strict");
  t.same(c.obligations, [{ mfa: { maxAge: "5m" } }]);
  t.same(c.reasons.map((r) => r.message), ["MFA within 5m required", "MFA within 1h required"]);
  t.equal(access(p, { ...base, principal: { role: "ops" }, context: {} }).decision, "allow");
});

t.test("a challenge with a non-MFA shortfall elsewhere is still a challenge", async (t) => {
  const p = evaluator(`
allow "needs-level" { when true require principal.level > 5 else "level too low" }
allow "needs-mfa" { when true require mfa within 5m }
`);
  const d = access(p, { principal: { level: 1 }, action: "x", resource: {} });
  t.equal(d.decision, "challenge");
  t.equal(d.rule, "t/needs-mfa");
  t.same(d.reasons.map((r) => r.message), ["level too low", "MFA within 5m required"]);
});

t.test("reason and notApplied objects are shared and frozen", async (t) => {
  const a = access(ev, restart);
  const b = access(ev, restart);
  t.equal(a.reasons[0], b.reasons[0], "the same precomputed object");
  t.ok(Object.isFrozen(a.reasons[0]));
});
