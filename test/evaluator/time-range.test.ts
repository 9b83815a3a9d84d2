/**
 * Epoch seconds beyond what a JavaScript Date holds (±8.64e12 s) are not a
 * time. They used to pass as one: `hour()` gave NaN, `weekday()` nothing,
 * `age()` a huge negative duration, so a deny rule testing them did not
 * apply, a key dated 1e300 never aged and an MFA dated 1e300 was always
 * fresh. Each must now be an error, failing closed.
 */
import t from "tap";
import { access, encryption, evaluator, mesh } from "./helpers.js";

const BIG = 1e13; // year ~318,857
const req = (extra: Record<string, unknown>) => ({ principal: {}, action: "a", resource: {}, ...extra });

t.test("hour() and weekday() of an out-of-range time error, so the deny rule denies", async (t) => {
  const ev = evaluator(`deny "weekend" {\n  when weekday(context.t) in ["saturday", "sunday"]\n}\ndeny "night" {\n  when hour(context.t) < 6\n}\nallow "a" {\n  when true\n}\n`);
  for (const v of [BIG, -BIG, 1e300]) {
    const d = access(ev, req({ context: { t: v } }));
    t.equal(d.decision, "deny", `t = ${v}`);
    t.same(d.reasons.map((r) => r.message), ["deny rule errored; denied to fail closed", "deny rule errored; denied to fail closed"]);
    t.match(d.errors[0]!.message, /weekday/);
    const x = access(ev, req({ context: { t: v } }), true);
    t.equal(x.decision, "deny", `t = ${v}, explain`);
  }
  const ok = access(ev, req({ context: { t: Date.parse("2026-01-07T12:00:00Z") / 1000 } }));
  t.equal(ok.decision, "allow", "a Wednesday noon in range still works");
});

t.test("an input `time` out of range is refused, not taken as now", async (t) => {
  const ev = evaluator(`deny "night" {\n  when hour(now) < 6 or hour(now) >= 22\n}\nallow "a" {\n  when true\n}\n`);
  const d = access(ev, req({ time: BIG }));
  t.equal(d.decision, "deny");
  t.same(d.errors.map((e) => e.message), ["input `time` is out of range: 10000000000000 epoch seconds"]);
  t.equal(access(ev, req({ time: Date.parse("2026-01-07T12:00:00Z") / 1000 })).decision, "allow");
});

t.test("an engine clock out of range is no `now`", async (t) => {
  const ev = evaluator(`deny "night" {\n  when hour(now) < 6\n}\nallow "a" {\n  when true\n}\n`, { clock: () => 1e17 });
  t.equal(access(ev, req({})).decision, "deny");
});

t.test("MFA, key ages: an out-of-range timestamp is an error, never fresh", async (t) => {
  const ev = evaluator(`allow "a" {\n  when true\n  require mfa within 15m\n}\n`);
  const d = access(ev, req({ context: { mfa: { verified_at: 1e300 } }, time: "2026-01-01T00:00:00Z" }));
  t.equal(d.decision, "deny");
  t.equal(d.errors.length, 1);
  const enc = evaluator(`encryption default {\n  require cipher "aes-256-gcm"\n  require key_age within 90d\n}\n`);
  const r = encryption(enc, { kind: "encryption", data: { encryption: { cipher: "aes-256-gcm", key_created_at: 1e300 } }, time: "2026-01-01T00:00:00Z" });
  t.equal(r.compliant, false);
  const m = evaluator(`mesh "m" {\n  network "100.64.0.0/10"\n  require key_age within 30d\n}\n`);
  const node = { id: "n", public_key: "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=", tags: [], key_created_at: 1e300 };
  t.equal(mesh(m, { kind: "mesh", node, time: "2026-01-01T00:00:00Z" }).decision, "reject");
});
