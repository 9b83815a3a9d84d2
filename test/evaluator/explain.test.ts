/**
 * Explain: the cheap, always-on part (deciding rule; for each candidate rule
 * that did not apply, the first clause that failed, as shared precomputed
 * objects) and `explain: true` (every rule considered, every clause's value
 * or error, with spans).
 */
import t from "tap";
import { access, evaluator } from "./helpers.js";

const POLICY = `package p
deny "no-prod-delete" {
  when action == "delete"
  when resource.env == "prod"
}
allow "readers" {
  when action == "read"
  when principal.roles contains "reader"
  unless resource.secret ?? false
}
allow "owners" {
  when resource.owner == principal.id
  require principal.level >= 2 else "level 2 needed"
  require mfa within 10m
}
`;
const ev = evaluator(POLICY);

t.test("always on: the first failing clause of each candidate that did not apply", async (t) => {
  const d = access(ev, { principal: { id: "u", roles: ["reader"] }, action: "read", resource: { type: "doc", secret: true, owner: "v" } });
  t.equal(d.decision, "deny");
  t.same(d.notApplied, [
    { rule: "p/readers", clause: "unless", span: { file: "t.policy", line: 9, column: 3 } },
    { rule: "p/owners", clause: "when", span: { file: "t.policy", line: 12, column: 3 } },
  ]);
  t.notOk("explain" in d, "no full trace unless asked");
  const again = access(ev, { principal: { id: "u", roles: ["reader"] }, action: "read", resource: { type: "doc", secret: true, owner: "v" } });
  t.equal(again.notApplied[0], d.notApplied[0], "precomputed objects, shared across decisions");
  // The index kept no-prod-delete out: it cannot apply to "read", so it is not a candidate.
  t.notOk(d.notApplied.some((n) => n.rule === "p/no-prod-delete"));
});

t.test("explain: every rule considered, every clause reached, values, errors, spans", async (t) => {
  const d = access(ev, { principal: { id: "u", roles: [] }, action: "delete", resource: { type: "doc", owner: "u" }, time: "2026-01-01T00:00:00Z" }, true);
  t.equal(d.decision, "deny", "the deny rule errors on resource.env and fails closed");
  t.same(d.explain, {
    rules: [
      {
        rule: "p/no-prod-delete",
        effect: "deny",
        outcome: "errored",
        clauses: [
          { clause: "when", span: { file: "t.policy", line: 3, column: 3 }, value: true },
          { clause: "when", span: { file: "t.policy", line: 4, column: 3 }, error: "missing attribute `resource.env`" },
        ],
      },
    ],
    total: 3,
    candidates: 2,
    indexed: true,
  });
  const a = access(ev, { principal: { id: "u", roles: [], level: 1 }, action: "edit", resource: { type: "doc", owner: "u" } }, true);
  t.same(a.explain!.rules, [
    {
      rule: "p/owners",
      effect: "allow",
      outcome: "unmet",
      clauses: [
        { clause: "when", span: { file: "t.policy", line: 12, column: 3 }, value: true },
        { clause: "require", span: { file: "t.policy", line: 13, column: 3 }, value: false },
        { clause: "require mfa", span: { file: "t.policy", line: 14, column: 3 }, value: false },
      ],
    },
  ]);
  t.same(a.reasons.map((r) => r.message), ["level 2 needed", "MFA within 10m required"]);
});

t.test("explain does not change the decision", async (t) => {
  const inputs = [
    { principal: { id: "u", roles: ["reader"] }, action: "read", resource: {} },
    { principal: { id: "u", level: 3 }, action: "x", resource: { owner: "u" }, context: { mfa: { verified_at: 1 } } },
    { principal: { id: "u" }, action: "delete", resource: { env: "prod" } },
    { principal: {}, action: 7, resource: {} },
  ];
  for (const input of inputs) {
    const { explain, ...withExplain } = access(ev, input, true);
    t.ok(explain);
    t.same(withExplain, access(ev, input));
  }
});
