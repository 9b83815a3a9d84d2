/**
 * The peer translations of the access workload decide every request as the
 * workload expects (correctness only, no timing). cedar-wasm runs in a child
 * process with --no-turbo-inline-js-wasm-calls, as `npm run bench` does,
 * because Node 20 can abort in V8's deoptimizer without it.
 */
import t from "tap";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadWorkload } from "../../bench/workload.js";
import { verdictMismatch } from "../../bench/access.js";
import { casbinModel, createCasbinEngine, forbidTerm, permitLine } from "../../bench/peers/casbin.js";
import { createJreEngine, toJreRule } from "../../bench/peers/json-rules-engine.js";
import { toCedarPolicy } from "../../bench/peers/cedar.js";
import { createPlainLoopEngine } from "../../bench/peers/plain-loop.js";
import type { WorkloadPolicy } from "../../bench/workload.js";

const here = path.dirname(fileURLToPath(import.meta.url));

const forbid: WorkloadPolicy = {
  id: "forbid-x",
  effect: "forbid",
  actions: ["delete", "purge"],
  when: [
    { attr: "resource.owner", op: "!=", ref: "principal.id" },
    { attr: "principal.clearance", op: "<", value: 4 },
  ],
  unless: [
    { attr: "principal.roles", op: "contains", value: "admin" },
    { attr: "action", op: "in", value: ["read", "list"] },
  ],
};
const permit: WorkloadPolicy = {
  id: "permit-0001",
  effect: "permit",
  principalRole: "ops",
  actions: ["restart"],
  resourceType: "node",
  when: [
    { attr: "resource.env", op: "==", value: "prod" },
    { attr: "principal.clearance", op: ">=", value: 2 },
    { attr: "context.device_compliant", op: "==", value: true },
    { attr: "context.mfa_age_seconds", op: "<", value: 900 },
  ],
  unless: [],
};

t.test("cedar text of a forbid and a permit", async (t) => {
  t.equal(
    toCedarPolicy(forbid),
    [
      'forbid (principal, action in [Action::"delete", Action::"purge"], resource)',
      "when { resource.owner != principal.id && principal.clearance < 4 }",
      'unless { principal.roles.contains("admin") }',
      'unless { action in [Action::"read", Action::"list"] };',
    ].join("\n"),
  );
  t.equal(
    toCedarPolicy(permit),
    [
      'permit (principal, action == Action::"restart", resource)',
      'when { principal.roles.contains("ops") && resource.type == "node" && resource.env == "prod" && principal.clearance >= 2 && context.device_compliant == true && context.mfa_age_seconds < 900 };',
    ].join("\n"),
  );
});

t.test("casbin: permits are data lines, forbids matcher terms", async (t) => {
  t.same(permitLine(permit), ["permit-0001", "ops", "restart", "node", "prod", "2", "true", "900"]);
  t.equal(
    forbidTerm(forbid),
    '(hasItem(["delete", "purge"], r.act) && r.obj.owner != r.sub.id && r.sub.clearance < 4 && !(hasItem(r.sub.roles, "admin")) && !(hasItem(["read", "list"], r.act)))',
  );
  t.throws(() => permitLine({ ...permit, unless: [{ attr: "resource.env", op: "==", value: "dev" }] }), /does not fit the fixed ABAC matcher/);
  t.match(casbinModel([forbid, permit]), /\nm = hasItem\(r\.sub\.roles, p\.role\) .* && !\(hasItem\(\["delete", "purge"\]/);
});

t.test("json-rules-engine rule of a forbid", async (t) => {
  t.same(toJreRule(forbid), {
    name: "forbid-x",
    conditions: {
      all: [
        { fact: "action", operator: "in", value: ["delete", "purge"] },
        { fact: "resource", path: "owner", operator: "notEqual", value: { fact: "principal", path: "id" } },
        { fact: "principal", path: "clearance", operator: "lessThan", value: 4 },
        { not: { fact: "principal", path: "roles", operator: "contains", value: "admin" } },
        { not: { fact: "action", operator: "in", value: ["read", "list"] } },
      ],
    },
    event: { type: "forbid", params: { id: "forbid-x" } },
  });
});

// json-rules-engine at N=10 only: it makes thousands of promises per decision,
// which tap's async tracking slows tenfold; the bench checks it at every N.
for (const n of [10, 100]) {
  t.test(`casbin${n === 10 ? ", json-rules-engine" : ""} and the plain loop agree with every expected decision at N=${n}`, async (t) => {
    const w = loadWorkload(n);
    const casbin = await createCasbinEngine(w.policies);
    const jre = n === 10 ? createJreEngine(w.policies) : undefined;
    const loop = createPlainLoopEngine(w.policies);
    const bad: string[] = [];
    for (let i = 0; i < w.requests.length; i++) {
      const r = w.requests[i]!;
      const e = w.expected[i]!;
      const c = casbin.read(casbin.run(casbin.prepare(r)));
      const cv = c.rule === undefined ? { decision: c.decision } : { decision: c.decision, rule: c.rule };
      const l = loop(r);
      const checks: [string, string | undefined][] = [
        ["casbin", verdictMismatch(cv, e)],
        ["plain loop", verdictMismatch({ decision: l.decision, rule: l.rule ?? null }, e)],
      ];
      if (jre !== undefined) checks.push(["json-rules-engine", verdictMismatch(jre.read(await jre.run(jre.prepare(r))), e)]);
      for (const [name, why] of checks) if (why !== undefined) bad.push(`${name} ${r.id}: ${why}`);
    }
    t.same(bad, []);
  });
}

t.test("cedar-wasm agrees with every expected decision at N=10 and N=100 (child process)", async (t) => {
  const script = path.join(here, "fixtures", "cedar-agrees.ts");
  const res = spawnSync(process.execPath, ["--no-turbo-inline-js-wasm-calls", "--import", "tsx", script, "10", "100"], {
    encoding: "utf8",
    timeout: 120_000,
  });
  t.equal(res.status, 0, res.stderr);
  t.match(res.stdout, /N=10: 1000 agree\nN=100: 1000 agree/);
});

t.test("the check catches a wrong decision and a wrong deciding rule", async (t) => {
  const e = { decision: "allow" as const, reasons: ["permit-0002", "permit-0300"] };
  t.equal(verdictMismatch({ decision: "allow", rule: "permit-0300" }, e), undefined);
  t.equal(verdictMismatch({ decision: "allow", reasons: ["permit-0300", "permit-0002"] }, e), undefined);
  t.match(verdictMismatch({ decision: "deny" }, e), /expected allow \(permit-0002, permit-0300\), got deny/);
  t.match(verdictMismatch({ decision: "allow", rule: "permit-0001" }, e), /decided by permit-0001/);
  t.match(verdictMismatch({ decision: "allow", rule: null }, e), /decided by no rule/);
  t.match(verdictMismatch({ decision: "allow", reasons: ["permit-0002"] }, e), /decided by \(permit-0002\)/);
  t.match(verdictMismatch({ decision: "allow", rule: "permit-0002", errors: [{ message: "x" }] }, e), /with errors/);
  t.equal(verdictMismatch({ decision: "deny", rule: null }, { decision: "deny", reasons: [] }), undefined);
});
