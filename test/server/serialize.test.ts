/**
 * The evaluate routes' serializer writes exactly what `JSON.stringify`
 * writes, for every decision shape: allow, deny by rule, challenge with its
 * obligation, unmet requirements, errors, bad input, explain, encryption,
 * mesh, a batch of them, and the whole bench workload; and again when the
 * shared (frozen) parts come from its cache.
 */
import t from "tap";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { compile, loadPolicies, type Decision } from "../../src/index.js";
import { serializeBatch, serializeDecision } from "../../src/server/serialize.js";
import { loadWorkload } from "../../bench/workload.js";
import { toPolicyText } from "../../bench/peers/swarm-policy.js";
import { specRestart } from "../support/spec-inputs.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const POLICY = `package swarm.access

allow "ops-restart-nodes" {
  when action in ["node.restart", "node.drain"] and resource.type == "node"
  when principal.roles contains "ops"
  unless resource.env == "prod"
  require mfa within 15m
  require context.device.compliant ?? false else "device is not \\"compliant\\"\\n(see the runbook)"
}

deny "no-prod-delete" {
  when action == "delete" and resource.env == "prod"
  unless principal.roles contains "admin"
}

deny "levels-are-numbers" {
  when (principal.level ?? 0) > 3
}

allow "admins-delete" {
  when action == "delete"
  when principal.roles contains "admin"
}
`;

const restart = specRestart;

function same(t: { equal(found: unknown, wanted: unknown, message: string): unknown }, d: Decision, what: string): void {
  t.equal(serializeDecision(d), JSON.stringify(d), what);
  t.equal(serializeDecision(d), JSON.stringify(d), `${what}, again (cached parts)`);
}

t.test("access decisions of every shape", async (t) => {
  const engine = compile(POLICY, { file: "ops/α.policy" });
  const cases: [string, Record<string, unknown>][] = [
    ["allow", restart],
    ["challenge with an obligation", { ...restart, time: "2026-01-01T00:15:01Z" }],
    ["unmet requirement with an escaped message", { ...restart, context: { mfa: { verified_at: "2026-01-01T00:00:00Z" } } }],
    ["deny by rule", { principal: { id: "bob", roles: [] }, action: "delete", resource: { type: "node", env: "prod" } }],
    ["deny rule that errored", { principal: { id: "bob", roles: [], level: "high" }, action: "delete", resource: { type: "node", env: "dev" } }],
    ["no rule allows", { principal: { id: "bob", roles: [] }, action: "read", resource: { type: "doc" } }],
    ["bad input", { action: "read" }],
  ];
  const seen = new Set<string>();
  for (const [what, input] of cases) {
    const d = engine.evaluate(input) as Decision & { decision: string; obligations: unknown[]; errors: unknown[] };
    seen.add(d.decision);
    if (d.obligations.length > 0) seen.add("obligations");
    if (d.errors.length > 0) seen.add("errors");
    same(t, d, what);
    same(t, engine.evaluate(input, { explain: true }), `${what}, explained`);
  }
  t.same([...seen].sort(), ["allow", "challenge", "deny", "errors", "obligations"], "the cases cover every decision, obligations and errors");
});

t.test("encryption and mesh decisions, and a batch of every kind", async (t) => {
  const engine = await loadPolicies(path.join(repoRoot, "policies"));
  const inputs = [
    { kind: "encryption", data: { id: "ds-mystery", type: "dataset" }, time: "2026-03-10T10:00:00Z" },
    { kind: "mesh", node: { id: "worker-eu-01", tags: ["worker"], attested: true }, time: "2026-03-10T10:00:00Z" },
    { kind: "access", principal: { id: "lee", roles: ["researcher"], department: "research" }, action: "dataset.read", resource: { id: "ds-1", type: "dataset" } },
  ];
  const decisions = engine.evaluateBatch(inputs);
  for (const d of decisions) same(t, d, "example policies");
  t.equal(serializeBatch(engine.version, decisions), JSON.stringify({ version: engine.version, decisions }));
  t.equal(serializeBatch(engine.version, []), JSON.stringify({ version: engine.version, decisions: [] }));
});

t.test("the bench workload, every request", async (t) => {
  const w = loadWorkload(100);
  const engine = compile(toPolicyText(w.policies), { file: "bench.policy" });
  let mismatches = 0;
  for (let pass = 0; pass < 2; pass++) {
    for (const r of w.requests) {
      const d = engine.evaluate({ kind: "access", principal: r.principal, action: r.action, resource: r.resource, context: r.context });
      if (serializeDecision(d) !== JSON.stringify(d)) mismatches++;
    }
  }
  t.equal(mismatches, 0);
});
