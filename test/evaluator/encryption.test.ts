/**
 * Encryption requirements (spec/LANGUAGE.md section 5): merging, conflicts,
 * errors (fail closed), and the audit fields when `data.encryption` is given.
 */
import t from "tap";
import { encryption, evaluator } from "./helpers.js";

const POLICY = `package swarm.encryption
encryption default {
  require cipher "aes-256-gcm"
  require key_age within 365d
}
encryption "phi" {
  tags ["HIPAA:164.312(a)(2)(iv)"]
  when data.classification in ["phi", "pii"]
  require cipher "aes-256-gcm"
  require key_age within 90d
  require tee
  require aad ["tenant_id", "record_id"]
}
encryption "tenant" {
  when data has tenant
  require aad ["tenant_id", "region"]
  require key_age within 180d else "tenant keys rotate every 180 days"
}
`;
const ev = evaluator(POLICY);
const NOW = "2026-01-01T00:00:00Z";

t.test("every applicable rule contributes; merged strictest-first; default last", async (t) => {
  const r = encryption(ev, { kind: "encryption", data: { classification: "phi", tenant: "t1" }, time: NOW });
  t.same(
    { required: r.required, cipher: r.cipher, maxKeyAge: r.maxKeyAge, tee: r.tee, aad: r.aad, rules: r.rules, errors: r.errors },
    {
      required: true,
      cipher: "aes-256-gcm",
      maxKeyAge: "90d",
      tee: true,
      aad: ["tenant_id", "record_id", "region"],
      rules: ["swarm.encryption/phi", "swarm.encryption/tenant", "swarm.encryption/default"],
      errors: [],
    },
  );
  t.equal(r.version, "test");
  t.notOk("compliant" in r, "no audit fields without data.encryption");
});

t.test("only the default applies to unclassified data; non-applicable rules explained", async (t) => {
  const r = encryption(ev, { kind: "encryption", data: { classification: "public" } });
  t.same(r.rules, ["swarm.encryption/default"]);
  t.equal(r.maxKeyAge, "365d");
  t.equal(r.tee, false);
  t.same(r.aad, []);
  t.same(r.notApplied, [
    { rule: "swarm.encryption/phi", clause: "when", span: { file: "t.policy", line: 8, column: 3 } },
    { rule: "swarm.encryption/tenant", clause: "when", span: { file: "t.policy", line: 15, column: 3 } },
  ]);
});

t.test("a rule whose condition errors contributes anyway (fail closed) and reports the error", async (t) => {
  const r = encryption(ev, { kind: "encryption", data: {} });
  t.same(r.rules, ["swarm.encryption/phi", "swarm.encryption/default"]);
  t.equal(r.tee, true);
  t.same(r.errors, [{ rule: "swarm.encryption/phi", message: "missing attribute `data.classification`", span: { file: "t.policy", line: 8, column: 8 } }]);
});

t.test("different ciphers are a conflict reported as an error", async (t) => {
  const p = evaluator(`
encryption default { require cipher "aes-256-gcm" }
encryption "siv" { when data.kind == "log" require cipher "aes-256-gcm-siv" }
encryption "siv2" { when data.kind == "log" require cipher "aes-256-gcm-siv" }
`);
  const r = encryption(p, { kind: "encryption", data: { kind: "log" } });
  t.equal(r.cipher, "aes-256-gcm-siv", "the first contributing rule's cipher");
  t.same(r.errors.map((e) => e.message), ["conflicting ciphers: `t/siv` requires aes-256-gcm-siv, `t/default` requires aes-256-gcm"]);
  t.same(r.errors[0]!.span, { file: "t.policy", line: 2, column: 37 });
  const audit = encryption(p, { kind: "encryption", data: { kind: "log", encryption: { cipher: "aes-256-gcm-siv" } } });
  t.equal(audit.compliant, false, "a conflict is never compliant");
});

t.test("no rule at all: nothing required", async (t) => {
  const p = evaluator(`encryption "x" { when data.kind == "a" require tee }`);
  const r = encryption(p, { kind: "encryption", data: { kind: "b" } });
  t.same({ required: r.required, cipher: r.cipher, maxKeyAge: r.maxKeyAge, tee: r.tee, aad: r.aad, rules: r.rules }, { required: false, cipher: null, maxKeyAge: null, tee: false, aad: [], rules: [] });
});

t.test("audit: compliant data", async (t) => {
  const r = encryption(ev, {
    kind: "encryption",
    time: NOW,
    data: { classification: "phi", encryption: { cipher: "aes-256-gcm", key_created_at: "2025-12-01T00:00:00Z", tee: true, aad: ["tenant_id", "record_id"] } },
  });
  t.equal(r.compliant, true);
  t.same(r.violations, []);
});

t.test("audit: every unmet requirement of every rule is a violation", async (t) => {
  const r = encryption(ev, {
    kind: "encryption",
    time: NOW,
    data: { classification: "phi", tenant: "t", encryption: { cipher: "aes-128-cbc", key_created_at: "2025-06-01T00:00:00Z", aad: ["tenant_id"] } },
  });
  t.equal(r.compliant, false);
  t.same(r.violations, [
    { rule: "swarm.encryption/phi", message: 'cipher is "aes-128-cbc", required aes-256-gcm' },
    { rule: "swarm.encryption/phi", message: "key is 214d old, at most 90d allowed" },
    { rule: "swarm.encryption/phi", message: "data is not in a trusted execution environment (tee)" },
    { rule: "swarm.encryption/phi", message: 'aad lacks "record_id"' },
    // `tenant` names no cipher, and AES-128-CBC is none the runtime knows: it is not met either.
    { rule: "swarm.encryption/tenant", message: 'cipher is "aes-128-cbc", required aes-256-gcm or aes-256-gcm-siv' },
    { rule: "swarm.encryption/tenant", message: "tenant keys rotate every 180 days" },
    { rule: "swarm.encryption/tenant", message: 'aad lacks "region"' },
    { rule: "swarm.encryption/default", message: 'cipher is "aes-128-cbc", required aes-256-gcm' },
  ]);
});

t.test("audit: missing or unreadable key dates, epoch seconds, bad data.encryption", async (t) => {
  const base = { kind: "encryption", time: NOW };
  const missing = encryption(ev, { ...base, data: { classification: "public", encryption: { cipher: "aes-256-gcm" } } });
  t.same(missing.violations, [
    { rule: "swarm.encryption/default", message: "key age unknown (`data.encryption.key_created_at` is missing), at most 365d allowed" },
  ]);
  const bad = encryption(ev, { ...base, data: { classification: "public", encryption: { cipher: "aes-256-gcm", key_created_at: "last year" } } });
  t.same(bad.violations, [
    { rule: "swarm.encryption/default", message: '`data.encryption.key_created_at` must be an RFC 3339 time or epoch seconds, found "last year"' },
  ]);
  const epoch = encryption(ev, { ...base, data: { classification: "public", encryption: { cipher: "aes-256-gcm", key_created_at: 1735689600 } } });
  t.equal(epoch.compliant, true, "2025-01-01 is exactly 365d before 2026-01-01");
  const notObject = encryption(ev, { ...base, data: { classification: "public", encryption: "yes" } });
  t.equal(notObject.compliant, false);
  t.same(notObject.errors.map((e) => e.message), ["`data.encryption` must be an object, found string"]);
});

t.test("audit: a key date in the future is no proof of a young key", async (t) => {
  const base = { kind: "encryption", time: NOW };
  const at = (key_created_at: unknown) =>
    encryption(ev, { ...base, data: { classification: "public", encryption: { cipher: "aes-256-gcm", key_created_at } } });
  // A far-future date would make the key look fresh for ever: never compliant.
  const far = at("2099-01-01T00:00:00Z");
  t.equal(far.compliant, false);
  t.same(far.violations, [
    {
      rule: "swarm.encryption/default",
      message: "key age unknown (`data.encryption.key_created_at` 2099-01-01T00:00:00Z is after now, 2026-01-01T00:00:00.000Z), at most 365d allowed",
    },
  ]);
  t.equal(at(4102444800).compliant, false, "epoch seconds in 2100 as well");
  // Clocks disagree by a little: a key made within the allowed skew is brand new, not suspect.
  t.equal(at("2026-01-01T00:04:59Z").compliant, true, "within 5 minutes of now: age 0");
  t.equal(at("2026-01-01T00:05:00Z").compliant, true, "exactly the skew allowed");
  t.equal(at("2026-01-01T00:05:01Z").compliant, false, "beyond the skew allowed");
});

t.test("audit: a clock that gives no valid time leaves a key age unjudged, and the data non-compliant", async (t) => {
  for (const clock of [() => Number.NaN, () => 1e17]) {
    const broken = evaluator(POLICY, { clock });
    const r = encryption(broken, { kind: "encryption", data: { classification: "public", encryption: { cipher: "aes-256-gcm", key_created_at: "2025-12-01T00:00:00Z" } } });
    t.equal(r.compliant, false, String(clock()));
    t.same(r.violations, []);
    t.match(r.errors, [{ rule: "swarm.encryption/default", message: "`now` is not a valid time (check the input's `time` or the engine clock)" }]);
  }
});

t.test("audit: a rule that names no cipher still requires the data to be encrypted", async (t) => {
  // No default: the only rule requires a TEE and AAD, and says nothing of the cipher.
  const noCipher = evaluator(`package p
encryption "phi" {
  tags ["HIPAA:164.312(a)(2)(iv)"]
  when data.classification == "phi"
  require tee
  require aad ["tenant_id"]
  require key_age within 90d
}
`);
  const at = (actual: Record<string, unknown>) =>
    encryption(noCipher, { kind: "encryption", time: NOW, data: { classification: "phi", encryption: { tee: true, aad: ["tenant_id"], key_created_at: "2025-12-01T00:00:00Z", ...actual } } });
  const clear = at({});
  t.equal(clear.required, true);
  t.equal(clear.compliant, false, "data stored in the clear is not protected, whatever else it claims");
  t.same(clear.violations, [{ rule: "p/phi", message: "cipher is missing, required aes-256-gcm or aes-256-gcm-siv" }]);
  t.same(at({ cipher: "none" }).violations, [{ rule: "p/phi", message: 'cipher is "none", required aes-256-gcm or aes-256-gcm-siv' }]);
  t.same(at({ cipher: "AES-128-CBC" }).violations, [{ rule: "p/phi", message: 'cipher is "AES-128-CBC", required aes-256-gcm or aes-256-gcm-siv' }]);
  t.equal(at({ cipher: "aes-256-gcm" }).compliant, true);
  t.equal(at({ cipher: "aes-256-gcm-siv" }).compliant, true);
  const other = encryption(noCipher, { kind: "encryption", time: NOW, data: { classification: "public", encryption: {} } });
  t.same([other.required, other.compliant], [false, true], "no rule applies: nothing is required");
});

t.test("bad encryption input fails closed in the encryption shape", async (t) => {
  const r = encryption(ev, { kind: "encryption" });
  t.equal(r.required, true);
  t.equal(r.cipher, null);
  t.equal(r.compliant, false);
  t.same(r.errors.map((e) => e.message), ["input is missing `data`"]);
});

t.test("explain lists every rule with its clause values", async (t) => {
  const r = encryption(ev, { kind: "encryption", data: { classification: "phi" } }, true);
  t.same(
    r.explain!.rules.map((x) => [x.rule, x.outcome, x.clauses.map((c) => c.value ?? c.error)]),
    [
      ["swarm.encryption/phi", "applies", [true]],
      ["swarm.encryption/tenant", "not-applicable", [false]],
      ["swarm.encryption/default", "applies", []],
    ],
  );
});

t.test("decided: a default's when is a condition; equal key ages keep the first spelling (docs/language.md section 5)", async (t) => {
  const p = evaluator(`
encryption "logs" {
  when data.kind == "log"
  require key_age within 2w
}
encryption default {
  when data.kind != "scratch"
  require cipher "aes-256-gcm"
  require key_age within 14d
}
`);
  const log = encryption(p, { kind: "encryption", data: { kind: "log" } });
  t.same([log.rules, log.maxKeyAge], [["t/logs", "t/default"], "2w"], "2w and 14d are one limit: the first rule's spelling");
  const scratch = encryption(p, { kind: "encryption", data: { kind: "scratch" } });
  t.same([scratch.required, scratch.rules, scratch.cipher], [false, [], null], "where the default's when is false it contributes nothing");
  const unknown = encryption(p, { kind: "encryption", data: {} });
  t.same([unknown.rules, unknown.errors.map((e) => e.rule)], [["t/logs", "t/default"], ["t/logs", "t/default"]], "where it errors it contributes (fail closed)");
});
