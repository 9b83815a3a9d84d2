/**
 * Spec conformance of the correlation engine, written from spec/LANGUAGE.md
 * section 7 as an outside tester reads it, for what detector.test.ts and
 * semantics.test.ts do not already pin down.
 */
import t from "tap";
import { detector, ev, run, SEC } from "./helpers.js";

const count2 = `detect "r" { where event.action == "login" by user.name within 10m having count >= 2 }`;
const login = (ms: number, user: Record<string, unknown>) => ev(ms, { event: { action: "login" }, user });

t.test("a `by` field that is null takes no part: events are never grouped under null", async (t) => {
  // "An event that lacks a `by` field takes no part in that rule (it is counted, not grouped
  // under null)." JSON null is how many log shippers write an absent field; two unrelated
  // events with `user.name: null` must not correlate with each other.
  const d = detector(count2);
  t.same(run(d, [login(0, { name: null }), login(SEC, { name: null })]), [], "no null group");
  t.equal(d.stats().rules["d/r"]!.missingField, 2, "counted as lacking the field");
  t.equal(d.stats().rules["d/r"]!.matched, 0);

  const two = detector(`detect "r" { where event.action == "login" by user.name, host.name within 10m having count >= 2 }`);
  const e = (ms: number, host: unknown) => ev(ms, { event: { action: "login" }, user: { name: "u" }, host: { name: host } });
  t.same(run(two, [e(0, null), e(SEC, null)]), [], "one null among several by fields: no part either");
  t.same(run(two, [e(2 * SEC, "h"), e(3 * SEC, "h")]).map((a) => a.group), [{ "user.name": "u", "host.name": "h" }]);

  const seq = detector(`detect "s" { by user.name within 10m sequence { a: event.action == "fail"  b: event.action == "ok" } }`);
  const s = (ms: number, action: string) => ev(ms, { event: { action }, user: { name: null } });
  t.same(run(seq, [s(0, "fail"), s(SEC, "ok")]), [], "a sequence does not run under null either");

  // A value that is present is grouped whatever it is: false, 0 and "" are values.
  const falsy = detector(count2);
  t.same(run(falsy, [login(0, { name: "" }), login(SEC, { name: "" })]).map((a) => a.group), [{ "user.name": "" }]);
});
