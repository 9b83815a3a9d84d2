/**
 * auditInventory: per-object compliance from evaluate({kind:"encryption"}),
 * totals, per-rule and per-tag groups, invalid records with their line and
 * failing field, fail-closed attribution, and details bounded however many
 * records go through.
 */
import t from "tap";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { compile, loadPolicies } from "../../../src/index.js";
import { auditInventory, encryptionRuleTags, type AuditReport } from "../../../src/runtime/audit/audit.js";
import { recordsOf } from "../../../src/runtime/audit/inventory.js";
import { MAX_DETAIL_ATTRIBUTES } from "../../../src/runtime/audit/detail.js";
import type { ScannedRecord } from "../../../src/runtime/audit/record-scanner.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const NOW = Date.parse("2026-03-01T00:00:00Z");

const POLICY = `package audit
encryption default {
  require cipher "aes-256-gcm"
}
encryption "phi" {
  tags ["HIPAA:164.312(a)(2)(iv)", "GDPR:Art.32"]
  when data.classification == "phi"
  require key_age within 90d
  require tee
  require aad ["tenant_id"]
}
encryption "pii" {
  tags ["GDPR:Art.32", "ISO27001:A.8.24"]
  when data.classification == "pii"
  require key_age within 30d
}
`;

const good = { cipher: "aes-256-gcm", key_created_at: "2026-02-01T00:00:00Z", tee: true, aad: ["tenant_id"] };
const rec = (id: string, classification: string | undefined, encryption: object) => ({ id, ...(classification ? { classification } : {}), encryption });

async function audit(records: unknown[], options = {}, policy = POLICY): Promise<AuditReport> {
  return auditInventory(compile(policy), recordsOf(records), { now: NOW, ...options });
}

t.test("each object judged by the encryption rules; totals, rules and groups add up", async (t) => {
  const report = await audit([
    rec("phi-ok", "phi", good),
    rec("phi-no-tee", "phi", { ...good, tee: false }),
    rec("pii-old-key", "pii", { ...good, key_created_at: "2025-12-01T00:00:00Z" }),
    rec("plain-ok", "internal", { cipher: "aes-256-gcm" }),
    rec("plain-siv", "internal", { cipher: "aes-256-gcm-siv" }),
  ]);
  t.same(report.totals, { records: 5, compliant: 2, nonCompliant: 3, invalid: 0, violations: 3 });
  t.equal(report.compliant, false);
  t.equal(report.now, "2026-03-01T00:00:00.000Z");
  t.same(
    report.objects.map((o) => [o.id, o.status, o.violations.map((v) => v.rule)]),
    [
      ["phi-no-tee", "non-compliant", ["audit/phi"]],
      ["pii-old-key", "non-compliant", ["audit/pii"]],
      ["plain-siv", "non-compliant", ["audit/default"]],
    ],
    "non-compliant objects listed in inventory order with the rule behind each violation",
  );
  t.match(report.objects[1]!.violations[0]!.message, /key is 90d old, at most 30d allowed/);
  t.same(report.objects[0]!.tags, ["GDPR:Art.32", "HIPAA:164.312(a)(2)(iv)"]);
  t.same(report.objects[0]!.required, { cipher: "aes-256-gcm", maxKeyAge: "90d", tee: true, aad: ["tenant_id"] });
  t.same(report.objects[0]!.violations[0]!.tags, ["HIPAA:164.312(a)(2)(iv)", "GDPR:Art.32"]);

  const groups = Object.fromEntries(report.groups.map((g) => [g.group, [g.objects, g.compliant, g.nonCompliant, g.violations]]));
  t.same(groups, {
    "GDPR:Art.32": [3, 1, 2, 2],
    "HIPAA:164.312(a)(2)(iv)": [2, 1, 1, 1],
    "ISO27001:A.8.24": [1, 0, 1, 1],
    untagged: [5, 4, 1, 1], // only `default` is untagged, and only plain-siv breaks it
  });
  const hipaa = report.groups.find((g) => g.group === "HIPAA:164.312(a)(2)(iv)")!;
  t.same([hipaa.kind, hipaa.framework, hipaa.control, hipaa.rules], ["tag", "HIPAA", "164.312(a)(2)(iv)", ["audit/phi"]]);
  t.same(
    report.frameworks.map((f) => [f.framework, f.objects, f.compliant, f.nonCompliant]),
    [
      ["GDPR", 3, 1, 2],
      ["HIPAA", 2, 1, 1],
      ["ISO27001", 1, 0, 1],
    ],
  );
  t.same(
    report.rules.map((r) => [r.rule, r.objects, r.nonCompliant, r.violations]),
    [
      ["audit/default", 5, 1, 1],
      ["audit/phi", 2, 1, 1],
      ["audit/pii", 1, 1, 1],
    ],
  );
});

t.test("an all-compliant inventory is compliant; an empty one is not", async (t) => {
  const ok = await audit([rec("a", "phi", good), rec("b", "internal", { cipher: "aes-256-gcm" })]);
  t.equal(ok.compliant, true);
  t.same(ok.objects, [], "compliant objects are not listed by default");
  const listed = await audit([rec("a", "phi", good)], { includeCompliant: true });
  t.same(listed.objects.map((o) => [o.id, o.status]), [["a", "compliant"]]);
  const empty = await audit([]);
  t.equal(empty.compliant, false, "nothing verified is never compliant");
  t.equal(empty.totals.records, 0);
});

t.test("invalid records: reported with line and failing field, never evaluated, never compliant", async (t) => {
  const records: ScannedRecord[] = [
    { line: 1, index: 0, value: rec("ok", "phi", good) },
    { line: 2, index: 1, error: "not JSON: Unexpected token" },
    { line: 4, index: 2, value: { id: "no-enc", classification: "phi" } },
    { line: 5, index: 3, value: rec("typo", "phi", { ...good, AAD: [] }) },
    { line: 6, index: 4, value: rec("bad-time", "phi", { ...good, key_created_at: "yesterday" }) },
    { line: 7, index: 5, value: [1, 2] },
    { line: 8, index: 6, value: { id: "", encryption: { cipher: 5 } } },
  ];
  const report = await auditInventory(compile(POLICY), records, { now: NOW });
  t.same(report.totals, { records: 7, compliant: 1, nonCompliant: 0, invalid: 6, violations: 0 });
  t.equal(report.compliant, false);
  t.same(
    report.invalid.map((r) => [r.line, r.id, r.problems.map((p) => `${p.path} ${p.message}`)]),
    [
      [2, null, [" not JSON: Unexpected token"]],
      [4, "no-enc", [" must have required property 'encryption'"]],
      [5, "typo", ['/encryption must NOT have additional properties: "AAD"']],
      [6, "bad-time", ["/encryption/key_created_at must be an RFC 3339 time, epoch seconds or null"]],
      [7, null, [" must be object"]],
      [8, "", ["/id must NOT have fewer than 1 characters", "/encryption/cipher must be string,null"]],
    ],
  );
  t.same(report.groups.find((g) => g.group === "unattributed"), {
    group: "unattributed",
    kind: "unattributed",
    framework: null,
    control: null,
    rules: [],
    objects: 6,
    compliant: 0,
    nonCompliant: 6,
    violations: 0,
  });
});

t.test("fail closed: errors without a rule count against every group of the object", async (t) => {
  // `when` reads an attribute the record lacks: the rule errors, contributes, and the object is non-compliant there.
  const policy = `package p
encryption "by-region" {
  tags ["GDPR:Art.44"]
  when data.region == "eu"
  require cipher "aes-256-gcm"
}
`;
  const report = await audit([rec("no-region", undefined, { cipher: "aes-256-gcm" })], {}, policy);
  t.equal(report.totals.nonCompliant, 1);
  t.same(report.objects[0]!.errors.map((e) => e.rule), ["p/by-region"]);
  t.same(report.groups.map((g) => [g.group, g.nonCompliant]), [["GDPR:Art.44", 1]]);

  // A policy input schema rejecting the record: no rule applies; the object is unattributed and non-compliant.
  const engine = await loadPolicies(path.join(repoRoot, "policies/encryption"));
  const schemaFail = await auditInventory(engine, recordsOf([rec("weird", "top-secret", good)]), { now: NOW });
  t.equal(schemaFail.totals.nonCompliant, 1);
  t.match(schemaFail.objects[0]!.errors[0]!.message, /does not match the encryption schema/);
  t.same(schemaFail.groups.map((g) => [g.group, g.nonCompliant]), [["unattributed", 1]]);
});

t.test("a null cipher is data in the clear: reported by the rules, under their tags", async (t) => {
  const engine = await loadPolicies(path.join(repoRoot, "policies/encryption"));
  const report = await auditInventory(engine, recordsOf([rec("clear", "phi", { cipher: null, key_created_at: null })]), { now: NOW });
  t.equal(report.totals.nonCompliant, 1);
  const o = report.objects[0]!;
  t.same(o.errors, [], "the policies' schema (cipher: string) does not reject it");
  t.ok(o.violations.some((v) => v.rule === "swarm.encryption/phi" && /cipher is missing/.test(v.message)));
  t.same(o.actual, { cipher: null, key_created_at: null }, "the report shows the record as given");
  t.ok(report.groups.some((g) => g.group === "HIPAA:164.312(a)(2)(iv)" && g.nonCompliant === 1));
});

t.test("data in the clear counts against the tags of a rule that names no cipher; a key dated 9999 is not fresh", async (t) => {
  const policy = `package audit
encryption default {
  require cipher "aes-256-gcm"
}
encryption "phi" {
  tags ["HIPAA:164.312(a)(2)(iv)"]
  when data.classification == "phi"
  require key_age within 90d
  require tee
}
`;
  const report = await audit(
    [
      rec("clear", "phi", { cipher: null, key_created_at: "2026-02-01T00:00:00Z", tee: true }),
      rec("sentinel", "phi", { cipher: "aes-256-gcm", key_created_at: "9999-12-31T23:59:59Z", tee: true }),
      rec("ok", "phi", { cipher: "aes-256-gcm", key_created_at: "2026-02-01T00:00:00Z", tee: true }),
    ],
    {},
    policy,
  );
  t.same(report.objects.map((o) => [o.id, o.violations.map((v) => v.rule)]), [
    ["clear", ["audit/phi", "audit/default"]],
    ["sentinel", ["audit/phi"]],
  ]);
  const hipaa = report.groups.find((g) => g.group === "HIPAA:164.312(a)(2)(iv)")!;
  t.same([hipaa.objects, hipaa.compliant, hipaa.nonCompliant], [3, 1, 2], "HIPAA does not count the unencrypted or undated PHI as compliant");
  t.same(report.frameworks.map((f) => [f.framework, f.nonCompliant]), [["HIPAA", 2]]);
});

t.test("key ages are measured at `now`", async (t) => {
  const r = [rec("k", "pii", { ...good, key_created_at: "2026-02-01T00:00:00Z" })];
  t.equal((await audit(r, { now: Date.parse("2026-02-20T00:00:00Z") })).compliant, true);
  t.equal((await audit(r, { now: new Date("2026-03-20T00:00:00Z") })).compliant, false);
  await t.rejects(audit(r, { now: Number.NaN }), RangeError);
  await t.rejects(audit(r, { maxDetails: -1 }), RangeError);
});

t.test("details are bounded: the first maxDetails, then counts; each detail bounded too", async (t) => {
  function* many(n: number) {
    for (let i = 0; i < n; i++) yield i % 3 === 0 ? { broken: i } : rec(`o${i}`, "phi", { cipher: "none" });
  }
  const progress: number[] = [];
  const report = await auditInventory(compile(POLICY), recordsOf(many(3000)), { now: NOW, maxDetails: 10, onProgress: (n) => progress.push(n), progressEvery: 1000 });
  t.equal(report.totals.records, 3000);
  t.equal(report.totals.invalid, 1000);
  t.equal(report.totals.nonCompliant, 2000);
  t.equal(report.objects.length, 10);
  t.equal(report.invalid.length, 10);
  t.same(report.omitted, { objects: 1990, invalid: 990 });
  t.same(report.objects.map((o) => o.id).slice(0, 3), ["o1", "o2", "o4"], "the first ones, in order");
  t.same(progress, [1000, 2000, 3000]);

  const wide: Record<string, unknown> = { id: "wide", encryption: { cipher: "none" }, big: "x".repeat(10_000), __proto__x: 1 };
  for (let i = 0; i < 50; i++) wide[`a${i}`] = i;
  const withProto = JSON.parse('{"id":"proto","__proto__":{"polluted":true},"encryption":{"cipher":"none"}}');
  const r2 = await audit([wide, withProto]);
  const attrs = r2.objects[0]!.attributes;
  t.equal(Object.keys(attrs).length, MAX_DETAIL_ATTRIBUTES + 1, "32 attributes and a note");
  t.equal(attrs["big"], "(10002 characters of JSON, left out)");
  t.equal(attrs["…"], "20 more attributes left out");
  t.ok(JSON.stringify(r2.objects[0]).length < 4096);
  const protoAttrs = r2.objects[1]!.attributes;
  t.same(Object.keys(protoAttrs), ["__proto__"], "a __proto__ key stays a plain key");
  t.equal(({} as Record<string, unknown>)["polluted"], undefined);
});

t.test("the shipped policies: every encryption rule and its tags", async (t) => {
  const engine = await loadPolicies(path.join(repoRoot, "policies/encryption"));
  const tags = encryptionRuleTags(engine);
  t.ok(tags.size >= 2);
  t.ok(tags.get("swarm.encryption/phi")!.some((x) => x.startsWith("HIPAA:")));
  const report = await auditInventory(engine, recordsOf([rec("p", "phi", good)]), { now: NOW, inventory: "inv.jsonl" });
  t.equal(report.inventory, "inv.jsonl");
  t.equal(report.policy.version, engine.version);
  t.same(report.policy.rules.map((r) => r.rule), [...tags.keys()]);
});

t.test("an attribute nested too deep to serialise, or not JSON at all, is left out of its detail; the audit goes on", async (t) => {
  // About 300 KB on one inventory line: JSON.parse takes it, JSON.stringify overflows the stack.
  const deep = JSON.parse(`{"id":"deep","encryption":{"cipher":"none"},"x":${"[".repeat(150_000)}${"]".repeat(150_000)}}`);
  const odd = { id: "odd", encryption: { cipher: "none" }, gone: undefined, big: 10n };
  const report = await audit([deep, odd, rec("after", undefined, { cipher: "none" })]);
  t.equal(report.totals.records, 3);
  t.same(
    report.objects.map((o) => [o.id, o.attributes]),
    [
      ["deep", { x: "(nested too deep to show, left out)" }],
      ["odd", { gone: "(not JSON, left out)", big: "(not JSON, left out)" }],
      ["after", {}],
    ],
  );
});
