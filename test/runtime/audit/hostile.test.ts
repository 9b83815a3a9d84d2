/**
 * Records from JavaScript callers (recordsOf) that no JSON parser makes:
 * Proxies whose traps throw, revoked Proxies, throwing getters. The audit
 * throws only what reading the inventory throws (audit.ts): such a record is
 * invalid, or its unreadable attribute is left out of its detail, and the
 * audit goes on; it never counts as compliant.
 */
import t from "tap";
import { compile } from "../../../src/index.js";
import { auditInventory } from "../../../src/runtime/audit/audit.js";
import { recordsOf } from "../../../src/runtime/audit/inventory.js";

const NOW = Date.parse("2026-03-01T00:00:00Z");
const POLICY = `encryption default {\n  require cipher "aes-256-gcm"\n}\n`;
const boom = (): never => {
  throw new Error("hostile");
};

t.test("an unreadable record is invalid, not the end of the audit", async (t) => {
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  const records: unknown[] = [
    revoked.proxy,
    new Proxy({}, { get: boom, has: boom, ownKeys: boom, getOwnPropertyDescriptor: boom, getPrototypeOf: boom }),
    { id: "getter-enc", get encryption(): unknown { return boom(); } },
    { id: "enc-proxy", encryption: new Proxy({ cipher: "aes-256-gcm" }, { get: boom }) },
    { id: "ok", encryption: { cipher: "aes-256-gcm" } },
  ];
  const report = await auditInventory(compile(POLICY), recordsOf(records), { now: NOW });
  t.match(report.totals, { records: 5, compliant: 1, invalid: 4 });
  t.equal(report.compliant, false);
  t.same(report.invalid.map((i) => i.index), [0, 1, 2, 3]);
  t.same(report.invalid.map((i) => i.id), [null, null, "getter-enc", "enc-proxy"]);
  for (const i of report.invalid) t.match(i.problems, [{ path: "", message: /^cannot be read: / }]);
});

t.test("a record with a `then` is a record, not a promise to wait for", async (t) => {
  const records: unknown[] = [
    { id: "thenable", then: (resolve: (v: unknown) => void) => resolve({ id: "swapped", encryption: { cipher: "aes-256-gcm" } }), encryption: { cipher: null } },
    { id: "throwing-then", get then(): unknown { return boom(); }, encryption: { cipher: "aes-256-gcm" } },
  ];
  const report = await auditInventory(compile(POLICY), recordsOf(records), { now: NOW });
  t.match(report.totals, { records: 2, compliant: 1, nonCompliant: 1 });
  t.same(report.objects.map((o) => o.id), ["thenable"], "judged as given: in the clear");
});

t.test("an attribute whose getter throws is left out of the detail", async (t) => {
  const record = { id: "bad-attr", classification: "pii", get owner(): unknown { return boom(); }, encryption: { cipher: "aes-256-gcm-siv" } };
  const report = await auditInventory(compile(POLICY), recordsOf([record]), { now: NOW });
  t.match(report.totals, { records: 1, nonCompliant: 1, invalid: 0 });
  t.same(report.objects[0]!.attributes, { classification: "pii", owner: "(cannot be read, left out)" });
});
