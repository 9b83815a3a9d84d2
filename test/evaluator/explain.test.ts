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
  const explained = access(ev, { principal: { id: "u", roles: ["reader"] }, action: "read", resource: { type: "doc", secret: true, owner: "v" } }, true);
  t.same(explained.notApplied, d.notApplied, "explain: true names the same clauses");
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
    // Candidates that do not apply: a `when` that fails, an `unless` that holds (notApplied names the clause).
    { principal: { id: "u", roles: [] }, action: "read", resource: { owner: "v" } },
    { principal: { id: "u", roles: ["reader"] }, action: "read", resource: { secret: true, owner: "v" } },
  ];
  for (const input of inputs) {
    const { explain, ...withExplain } = access(ev, input, true);
    t.ok(explain);
    t.same(withExplain, access(ev, input));
  }
});

// JSON.parse reads any depth; JSON.stringify overflows the stack some thousands of levels down. A clause
// whose value was such an input attribute made the explained decision unwritable: the service answered
// `?explain=true` with 500 internal_error, and `swarm-policy eval --explain` ended with an internal error.
t.test("explain: a clause value nested too deep to write is replaced, so the decision serialises", async (t) => {
  const ev = evaluator(`allow "flag" {\n  when principal.is_admin\n}\nencryption "e" {\n  when data.x\n}\nmesh "m" {\n  network "10.0.0.0/8"\n  when node.x\n}\n`);
  const deep = JSON.parse('{"a":'.repeat(100_000) + "1" + "}".repeat(100_000)) as unknown;
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic["self"] = cyclic;
  for (const x of [deep, cyclic]) {
    const inputs = [
      { principal: { is_admin: x }, action: "a", resource: {} },
      { kind: "encryption", data: { x } },
      { kind: "mesh", node: { id: "n1", public_key: Buffer.alloc(32, 7).toString("base64"), tags: [], x } },
    ];
    for (const input of inputs) {
      const d = ev.evaluate(input, { explain: true });
      t.doesNotThrow(() => JSON.stringify(d), `${(input as { kind?: string }).kind ?? "access"} decision serialises`);
      const values = d.explain!.rules.flatMap((r) => r.clauses.map((c) => c.value));
      t.ok(values.includes("[nested deeper than 256 levels]"), "the value is named, not written");
    }
  }
  const shallow = { a: { b: [1, 2, { c: "x" }] } };
  const d = access(ev, { principal: { is_admin: shallow }, action: "a", resource: {} }, true);
  t.same(d.explain!.rules[0]!.clauses[0]!.value, shallow, "a value of ordinary depth is reported as it is");
});
