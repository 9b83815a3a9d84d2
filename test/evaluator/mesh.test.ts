/**
 * Mesh admission of one node (spec/LANGUAGE.md section 6), including key
 * format, key age, quarantine through the store, and which mesh.
 */
import t from "tap";
import { evaluator, mesh } from "./helpers.js";
import { MemoryRiskStore } from "../../src/evaluator/stores.js";
import { isWireGuardKey } from "../../src/evaluator/mesh.js";

const POLICY = `package swarm.mesh
mesh "swarm" {
  network "100.64.0.0/10"
  listen_port 51820
  keepalive 25s
  when node.attested
  when node.tags contains_any ["worker", "scheduler", "gateway"]
  unless quarantined(node.id)
  require key_age within 30d else "WireGuard key older than 30 days"
  require not (node.tags contains "worker") or (node.tee ?? false) else "workers need a TEE"
  connect "worker" -> "scheduler" ports [7000, 7001]
}
`;
const KEY = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
const store = new MemoryRiskStore();
const NOW = Date.parse("2026-01-01T00:00:00Z");
store.quarantine("bad-node", NOW - 1000, 3600_000);
const ev = evaluator(POLICY, { risk: store, clock: () => NOW });
const node = { id: "n1", public_key: KEY, tags: ["scheduler"], attested: true, key_created_at: "2025-12-15T00:00:00Z" };

t.test("a good node is admitted", async (t) => {
  const d = mesh(ev, { kind: "mesh", node });
  t.same(d, { decision: "admit", mesh: "swarm", rule: "swarm.mesh/swarm", version: "test", reasons: [], errors: [], notApplied: [] });
});

t.test("WireGuard key format: 32 bytes of base64", async (t) => {
  t.ok(isWireGuardKey(KEY));
  t.ok(isWireGuardKey("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
  t.notOk(isWireGuardKey("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB="), "non-zero padding bits: not canonical");
  t.notOk(isWireGuardKey(KEY.slice(0, -2) + "=="), "31 bytes");
  t.notOk(isWireGuardKey(KEY.slice(0, -1)), "no padding");
  t.notOk(isWireGuardKey(KEY.replace("x", "-")), "URL-safe alphabet");
  t.notOk(isWireGuardKey(42));
  t.notOk(isWireGuardKey("A" + KEY), "a valid key after something else is not a key");
  t.notOk(isWireGuardKey(`${KEY}\n`), "nor one with a line end");
  for (const bad of ["short", KEY + "A", "AAAA" + KEY, 42, null]) {
    const d = mesh(ev, { kind: "mesh", node: { ...node, public_key: bad } });
    t.equal(d.decision, "reject");
    t.same(d.reasons, [{ rule: "swarm.mesh/swarm", message: "public key is not 32 bytes of base64" }]);
    t.same(d.errors, []);
  }
});

t.test("a false when rejects with that clause as the reason", async (t) => {
  const d = mesh(ev, { kind: "mesh", node: { ...node, attested: false } });
  t.equal(d.decision, "reject");
  t.same(d.reasons, [{ rule: "swarm.mesh/swarm", message: "`when node.attested` does not hold" }]);
  t.same(d.notApplied, [{ rule: "swarm.mesh/swarm", clause: "when", span: { file: "t.policy", line: 6, column: 3 } }]);
  const tags = mesh(ev, { kind: "mesh", node: { ...node, tags: ["laptop"] } });
  t.same(tags.reasons.map((r) => r.message), ['`when node.tags contains_any ["worker", "scheduler", "gateway"]` does not hold']);
});

t.test("quarantine through the store rejects", async (t) => {
  const d = mesh(ev, { kind: "mesh", node: { ...node, id: "bad-node" } });
  t.same(d.reasons.map((r) => r.message), ["`unless quarantined(node.id)` holds"]);
  // The quarantine lapses at 00:59:59; the store is read at the input's time.
  const later = mesh(ev, { kind: "mesh", node: { ...node, id: "bad-node" }, time: "2026-01-01T02:00:00Z" });
  t.equal(later.decision, "admit");
  t.same(later.reasons, []);
});

t.test("key age: too old, missing, unreadable", async (t) => {
  const old = mesh(ev, { kind: "mesh", node: { ...node, key_created_at: "2025-11-01T00:00:00Z" } });
  t.same(old.reasons.map((r) => r.message), ["WireGuard key older than 30 days"]);
  t.same(old.errors, []);
  const { key_created_at: _k, ...noDate } = node;
  const missing = mesh(ev, { kind: "mesh", node: noDate });
  t.equal(missing.decision, "reject");
  t.same(missing.errors.map((e) => e.message), ["missing attribute `node.key_created_at`"]);
  t.same(missing.errors[0]!.span, { file: "t.policy", line: 9, column: 3 });
  const bad = mesh(ev, { kind: "mesh", node: { ...node, key_created_at: "soon" } });
  t.same(bad.errors.map((e) => e.message), ['`node.key_created_at` must be an RFC 3339 time or epoch seconds, found "soon"']);
  const epoch = mesh(ev, { kind: "mesh", node: { ...node, key_created_at: NOW / 1000 - 86400 } });
  t.equal(epoch.decision, "admit");
  // Exactly D old is not older than D.
  const at = (ms: number) => mesh(ev, { kind: "mesh", node: { ...node, key_created_at: new Date(ms).toISOString() } });
  t.equal(at(NOW - 30 * 86_400_000).decision, "admit", "exactly 30 days old");
  t.same(at(NOW - 30 * 86_400_000 - 1).reasons.map((r) => r.message), ["WireGuard key older than 30 days"], "a millisecond more");
});

t.test("key age: a key dated after now (beyond 5 minutes of clock skew) has no known age and rejects", async (t) => {
  for (const at of ["9999-12-31T00:00:00Z", new Date(NOW + 6 * 60_000).toISOString(), NOW / 1000 + 86400 * 365]) {
    const d = mesh(ev, { kind: "mesh", node: { ...node, key_created_at: at } });
    t.equal(d.decision, "reject", String(at));
    t.same(d.errors.map((e) => e.message), [`key age unknown: \`node.key_created_at\` is after now, found ${JSON.stringify(at)}`]);
    t.same(d.reasons.map((r) => r.message), ["evaluation error; rejected to fail closed"]);
  }
  // Within the allowed skew a key is brand new.
  t.equal(mesh(ev, { kind: "mesh", node: { ...node, key_created_at: new Date(NOW + 4 * 60_000).toISOString() } }).decision, "admit");
  t.equal(mesh(ev, { kind: "mesh", node: { ...node, key_created_at: new Date(NOW + 5 * 60_000).toISOString() } }).decision, "admit", "exactly the skew allowed");
  t.equal(mesh(ev, { kind: "mesh", node: { ...node, key_created_at: new Date(NOW + 5 * 60_000 + 1).toISOString() } }).decision, "reject", "a millisecond more");
});

t.test("require with else; errors reject", async (t) => {
  const worker = mesh(ev, { kind: "mesh", node: { ...node, tags: ["worker"] } });
  t.same(worker.reasons.map((r) => r.message), ["workers need a TEE"]);
  t.equal(mesh(ev, { kind: "mesh", node: { ...node, tags: ["worker"], tee: true } }).decision, "admit");
  const err = mesh(ev, { kind: "mesh", node: { ...node, attested: "yes" } });
  t.equal(err.decision, "reject");
  t.same(err.errors.map((e) => e.message), ["`when` needs a boolean, found string"]);
  t.same(err.reasons.map((r) => r.message), ["evaluation error; rejected to fail closed"]);
});

t.test("which mesh: the only one, or the one named", async (t) => {
  const two = evaluator([POLICY, `package other\nmesh "lab" {\n  network "10.0.0.0/8"\n  when true\n}`], { risk: store, clock: () => NOW });
  const unnamed = mesh(two, { kind: "mesh", node });
  t.equal(unnamed.decision, "reject");
  t.match(unnamed.errors[0]!.message, "several meshes are loaded (swarm, lab)");
  t.equal(mesh(two, { kind: "mesh", mesh: "lab", node }).decision, "admit");
  t.equal(mesh(two, { kind: "mesh", mesh: "other/lab", node }).mesh, "lab");
  t.match(mesh(two, { kind: "mesh", mesh: "nope", node }).errors[0]!.message, 'no mesh named "nope" is loaded');
  // Two packages' meshes share a name: the name chooses neither (the first loaded was taken).
  const twins = evaluator([POLICY, `package other\nmesh "lab" {\n  network "10.0.0.0/8"\n  when true\n}`, `package third\nmesh "lab" {\n  network "10.0.0.0/8"\n  when false\n}`], { risk: store, clock: () => NOW });
  const ambiguous = mesh(twins, { kind: "mesh", mesh: "lab", node });
  t.equal(ambiguous.decision, "reject");
  t.match(ambiguous.errors[0]!.message, 'several meshes are named "lab" (other/lab, third/lab); name one by id');
  t.equal(mesh(twins, { kind: "mesh", mesh: "third/lab", node }).decision, "reject", "by id: that block (when false)");
  t.equal(mesh(twins, { kind: "mesh", mesh: "other/lab", node }).decision, "admit");
  const none = evaluator(`allow "x" { when true }`);
  t.match(mesh(none, { kind: "mesh", node }).errors[0]!.message, "no mesh block is loaded");
});

t.test("bad mesh input is a rejection with a clear error", async (t) => {
  t.same(mesh(ev, { kind: "mesh" }).errors.map((e) => e.message), ["input is missing `node`"]);
  t.same(mesh(ev, { kind: "mesh", node: { public_key: KEY } }).errors.map((e) => e.message), ["input is missing `node.id`", "input is missing `node.tags`"]);
  t.same(mesh(ev, { kind: "mesh", node: { id: 1, public_key: KEY, tags: "worker" } }).errors.map((e) => e.message), [
    "input `node.id` must be a string, found number",
    "input `node.tags` must be a list of strings",
  ]);
  t.same(mesh(ev, { kind: "mesh", node: { id: "x", tags: [] } }).errors.map((e) => e.message), ["input is missing `node.public_key`"]);
});

t.test("explain: the key check and each clause reached", async (t) => {
  const d = mesh(ev, { kind: "mesh", node: { ...node, tags: ["worker"] } }, true);
  t.same(
    d.explain!.rules[0]!.clauses.map((c) => [c.clause, c.value ?? c.error]),
    [
      ["public key", true],
      ["when", true],
      ["when", true],
      ["unless", false],
      ["require key_age", true],
      ["require", false],
    ],
  );
  t.equal(d.explain!.rules[0]!.outcome, "unmet");
  const outcome = (n: Record<string, unknown>) => mesh(ev, { kind: "mesh", node: { ...node, ...n } }, true).explain!.rules[0]!.outcome;
  t.equal(outcome({}), "applies", "admitted");
  t.equal(outcome({ public_key: "short" }), "unmet", "a bad key");
  t.equal(outcome({ key_created_at: "soon" }), "errored", "an unreadable key date");
});

t.test("decided: the first failing clause rejects with its one reason; later clauses are not evaluated (docs/language.md section 6)", async (t) => {
  const p = evaluator(`package m
mesh "m" {
  network "100.64.0.0/10"
  require node.tee ?? false else "needs a TEE"
  when node.attested
  require key_age within 30d
}
`, { clock: () => NOW });
  // Unmet first, then a false when, then a key date that would error: only the first is reported.
  const d = mesh(p, { kind: "mesh", node: { ...node, attested: false, key_created_at: "soon" } });
  t.same([d.decision, d.reasons, d.errors], ["reject", [{ rule: "m/m", message: "needs a TEE" }], []]);
  const bad = mesh(p, { kind: "mesh", node: { ...node, public_key: "short", tee: "yes" } });
  t.same([bad.reasons.map((r) => r.message), bad.errors], [["public key is not 32 bytes of base64"], []], "the key is checked before any clause");
  const exact = mesh(p, { kind: "mesh", node: { ...node, tee: true, key_created_at: NOW / 1000 - 30 * 86400 } });
  t.equal(exact.decision, "admit", "a key exactly 30d old is young enough");
});
