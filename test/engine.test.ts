/**
 * The engine (src/engine.ts): loading from text and paths, diagnostics,
 * failing closed on policy errors and unreadable paths, the policy-set
 * version, input schemas, batch.
 */
import t from "tap";
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { compile, loadPolicies, policyVersion, POLICY_SET_ERRORS } from "../src/engine.js";
import type { AccessDecision, EncryptionResult, MeshDecision } from "../src/evaluator/decision.js";

const GOOD = `package app
allow "read" { when action == "read" }
encryption default { require cipher "aes-256-gcm" }
mesh "m" {
  network "10.0.0.0/8"
  when node.tags contains "w"
}
`;
const KEY = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";

t.test("compile: decisions carry the version; ruleIds in load order", async (t) => {
  const e = compile(GOOD, { file: "app.policy" });
  t.same(e.diagnostics, []);
  t.same(e.ruleIds, ["app/read", "app/default", "app/m"]);
  t.match(e.version, /^[0-9a-f]{64}$/);
  const d = e.evaluate({ principal: {}, action: "read", resource: {} }) as AccessDecision;
  t.equal(d.decision, "allow");
  t.equal(d.version, e.version);
  t.equal((e.evaluate({ kind: "encryption", data: {} }) as EncryptionResult).cipher, "aes-256-gcm");
  t.equal((e.evaluate({ kind: "mesh", node: { id: "a", public_key: KEY, tags: ["w"] } }) as MeshDecision).decision, "admit");
  t.equal(e.evaluateAccess({ kind: "mesh", principal: {}, action: "read", resource: {} }).decision, "allow");
});

t.test("evaluateAccess never throws: a hostile getter or proxy is a deny, as with evaluate", async (t) => {
  const e = compile(GOOD, { file: "app.policy" });
  const hostile = {
    get principal(): object {
      throw new Error("boom");
    },
    action: "read",
    resource: {},
  };
  const proxy = new Proxy({}, { ownKeys: () => { throw new Error("keys"); } });
  for (const input of [hostile, proxy]) {
    const d = e.evaluateAccess(input);
    t.equal(d.decision, "deny");
    t.same(d.reasons, [{ rule: null, effect: "deny", message: "evaluation error; failing closed" }]);
    t.match(d.errors[0]!.message, /^internal error: /);
  }
});

t.test("version: sha256 of the sorted (file, text) pairs", async (t) => {
  const a = { file: "a.policy", text: "x" };
  const b = { file: "b.policy", text: "y" };
  t.equal(policyVersion([a, b]), policyVersion([b, a]), "order of reading does not matter");
  t.not(policyVersion([a, b]), policyVersion([a, { ...b, text: "y " }]), "text matters");
  t.not(policyVersion([a]), policyVersion([{ ...a, file: "c.policy" }]), "file names matter");
  t.not(policyVersion([{ file: "a", text: "bc" }]), policyVersion([{ file: "ab", text: "c" }]), "no ambiguity between name and text");
  t.equal(compile(GOOD, { file: "app.policy" }).version, policyVersion([{ file: "app.policy", text: GOOD }]));
});

t.test("a policy set with errors fails closed for every kind", async (t) => {
  const e = compile(`allow "x" { when principal.rolez contains "a" }\nallow "x" { when true }\n`, { file: "bad.policy" });
  t.ok(e.diagnostics.some((d) => d.severity === "error"));
  t.ok(e.diagnostics.some((d) => d.code === "SP2003"), "duplicate rule id reported");
  const d = e.evaluate({ principal: {}, action: "read", resource: {} }) as AccessDecision;
  t.equal(d.decision, "deny");
  t.same(d.errors.map((x) => x.message), [POLICY_SET_ERRORS]);
  t.same(d.reasons, [{ rule: null, effect: "deny", message: POLICY_SET_ERRORS }]);
  t.equal((e.evaluate({ kind: "mesh", node: { id: "a", public_key: KEY, tags: [] } }) as MeshDecision).decision, "reject");
  const enc = e.evaluate({ kind: "encryption", data: {} }) as EncryptionResult;
  t.equal(enc.required, true);
  t.same(enc.errors.map((x) => x.message), [POLICY_SET_ERRORS]);
  const syntax = compile(`allow "x" { when `, { file: "s.policy" });
  t.ok(syntax.diagnostics.some((d) => d.code.startsWith("SP1")));
  t.equal((syntax.evaluate({ principal: {}, action: "a", resource: {} }) as AccessDecision).decision, "deny");
});

t.test("lint warnings are reported with `lint` and do not break the set", async (t) => {
  const e = compile(`allow "everyone" { require true }`, { file: "w.policy", lint: true });
  t.ok(e.diagnostics.some((d) => d.code === "SP3001"));
  t.equal((e.evaluate({ principal: {}, action: "a", resource: {} }) as AccessDecision).decision, "allow");
  t.same(compile(`allow "everyone" { require true }`, { file: "w.policy" }).diagnostics, [], "no lint by default");
});

t.test("loadPolicies: directories, unreadable paths", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "sp-engine-"));
  mkdirSync(path.join(dir, "sub"));
  writeFileSync(path.join(dir, "a.policy"), `package a\nallow "one" { when action == "one" }\n`);
  writeFileSync(path.join(dir, "sub", "b.policy"), `package b\ndeny "two" { when action == "one" }\n`);
  writeFileSync(path.join(dir, "notes.txt"), "not a policy");
  const e = await loadPolicies(dir);
  t.same(e.diagnostics, []);
  t.same(e.ruleIds, ["a/one", "b/two"]);
  const d = e.evaluate({ principal: {}, action: "one", resource: {} }) as AccessDecision;
  t.equal(d.decision, "deny");
  t.equal(d.rule, "b/two");
  const missing = await loadPolicies([dir, path.join(dir, "nope")]);
  t.same(missing.loadErrors.map((x) => x.message), ["no such file or directory"]);
  t.same((missing.evaluate({ principal: {}, action: "one", resource: {} }) as AccessDecision).errors.map((x) => x.message), [POLICY_SET_ERRORS]);
  const empty = await loadPolicies(path.join(dir, "sub", "none"));
  t.equal((empty.evaluate({}) as AccessDecision).decision, "deny");
});

t.test("input schemas: validated by default, a violation is a clear error", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "sp-schema-"));
  writeFileSync(
    path.join(dir, "access.schema.json"),
    JSON.stringify({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      required: ["principal", "action", "resource"],
      properties: {
        principal: { type: "object", properties: { id: { type: "string" } }, required: ["id"] },
        action: { type: "string" },
        resource: { type: "object", properties: { type: { type: "string" } } },
        context: { type: "object" },
        time: {},
      },
      additionalProperties: false,
    }),
  );
  const file = path.join(dir, "p.policy");
  writeFileSync(file, `schema access "access.schema.json"\nallow "r" { when principal.id == "alice" }\n`);
  const e = await loadPolicies(file);
  t.same(e.diagnostics, []);
  t.equal((e.evaluate({ kind: "access", principal: { id: "alice" }, action: "read", resource: {} }) as AccessDecision).decision, "allow", "kind is not validated");
  const bad = e.evaluate({ principal: { id: 7 }, action: "read", resource: {} }) as AccessDecision;
  t.equal(bad.decision, "deny");
  t.same(bad.errors.map((x) => x.message), ["input does not match the access schema: /principal/id must be string"]);
  const extra = e.evaluate({ principal: { id: "alice" }, action: "read", resource: {}, extra: 1 }) as AccessDecision;
  t.match(extra.errors[0]!.message, "must NOT have additional properties");
  const off = await loadPolicies(file, { validateInput: false });
  t.equal((off.evaluate({ principal: { id: "alice" }, action: "read", resource: {}, extra: 1 }) as AccessDecision).decision, "allow");
});

t.test("version: the schema files a set declares are part of it; a schema change is a new version", async (t) => {
  // Two checkouts of the same tree: policies/ with the schema beside it in schemas/.
  const make = (schemaText: string) => {
    const root = mkdtempSync(path.join(tmpdir(), "sp-version-"));
    mkdirSync(path.join(root, "policies"));
    mkdirSync(path.join(root, "schemas"));
    writeFileSync(path.join(root, "schemas", "access.schema.json"), schemaText);
    writeFileSync(path.join(root, "policies", "a.policy"), `schema access "../schemas/access.schema.json"\nallow "r" { when principal.id == "alice" }\n`);
    writeFileSync(path.join(root, "policies", "b.policy"), `allow "w" { when action == "write" }\n`);
    return path.join(root, "policies");
  };
  const loose = JSON.stringify({ type: "object" });
  const strict = JSON.stringify({ type: "object", properties: { principal: { type: "object", properties: { id: { type: "string" } } } } });
  const [one, two, changed] = await Promise.all([make(loose), make(loose), make(strict)].map((dir) => loadPolicies(dir)));
  for (const e of [one!, two!, changed!]) t.same(e.diagnostics, []);
  t.equal(one!.version, two!.version, "the same files give the same version wherever they are checked out");
  t.not(changed!.version, one!.version, "a changed schema is another version");
  const input = { principal: { id: 7 }, action: "write", resource: {} };
  t.equal((one!.evaluate(input) as AccessDecision).decision, "allow");
  const refused = changed!.evaluate(input) as AccessDecision;
  t.equal(refused.decision, "deny", "the schema decides: so the version must say which one");
  t.equal(refused.version, changed!.version);
  // The formula: sources as before, then ["schema", path relative to the sources' directory, text].
  const sources = [
    { file: "/x/policies/a.policy", text: `schema access "../schemas/access.schema.json"\nallow "r" { when principal.id == "alice" }\n` },
    { file: "/x/policies/b.policy", text: `allow "w" { when action == "write" }\n` },
  ];
  t.equal(one!.version, policyVersion(sources, [{ file: "/x/schemas/access.schema.json", text: loose }]));
  t.not(policyVersion(sources), one!.version, "without the schema the version differs");
  const bare = compile(GOOD, { file: "app.policy" });
  t.equal(bare.version, policyVersion([{ file: "app.policy", text: GOOD }], []), "a set without schemas hashes its sources alone");
});

t.test("options: clock, risk store, closures only", async (t) => {
  const e = compile(`allow "night" { when hour(now) < 6 and risk(principal.id) < 50 }`, {
    clock: () => Date.parse("2026-01-01T03:00:00Z"),
    risk: { risk: (id) => (id === "bob" ? 90 : 0), quarantined: () => false },
  });
  t.equal((e.evaluate({ principal: { id: "alice" }, action: "a", resource: {} }) as AccessDecision).decision, "allow");
  t.equal((e.evaluate({ principal: { id: "bob" }, action: "a", resource: {} }) as AccessDecision).decision, "deny");
  const slow = compile(GOOD, { generate: false });
  t.equal((slow.evaluate({ principal: {}, action: "read", resource: { type: "x" } }) as AccessDecision).decision, "allow");
});

t.test("batch", async (t) => {
  const e = compile(GOOD);
  const inputs = [{ principal: {}, action: "read", resource: {} }, { kind: "encryption", data: {} }, 5];
  t.same(e.evaluateBatch(inputs), inputs.map((i) => e.evaluate(i)));
});

t.test("compile(): a leading byte-order mark shifts no column of line 1", async (t) => {
  const withBom = compile('\ufeffallow "x" { when pricipal.id == "a" }\n');
  const without = compile('allow "x" { when pricipal.id == "a" }\n');
  const at = (e: typeof withBom) => e.diagnostics.filter((d) => d.code === "SP2001").map((d) => [d.span.line, d.span.column, d.span.endColumn]);
  t.same(at(withBom), [[1, 18, 26]]);
  t.same(at(withBom), at(without));
});
