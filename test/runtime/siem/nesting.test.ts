/**
 * Values the engine cannot follow all the way down (src/runtime/siem/nesting.ts)
 * and values equal to the language but written differently: grouping and
 * distinct counting must agree with `==`, and no event, however deep, may end
 * the stream or make an alert unwritable.
 */
import t from "tap";
import { MAX_DEPTH, TOO_DEEP, pruneDeep, pruneEvents } from "../../../src/runtime/siem/nesting.js";
import { canonicalJson, singleKey } from "../../../src/runtime/siem/group-table.js";
import { detector, ev, run } from "./helpers.js";

/** A list nested `n` levels deep around 1, as JSON.parse builds it (no recursion in the builder). */
function nested(n: number): unknown {
  return JSON.parse("[".repeat(n) + "1" + "]".repeat(n));
}

t.test("grouping by an object value does not depend on its key order", async (t) => {
  const d = detector(`detect "r" { where event.action == "x" by user.who within 10m having count >= 2 }`);
  const x = (ms: number, who: unknown) => ev(ms, { event: { action: "x" }, user: { who } });
  const alerts = run(d, [x(0, { a: 1, b: { c: 2, d: 3 } }), x(1, { b: { d: 3, c: 2 }, a: 1 })]);
  t.same(alerts.map((a) => a.at), [1], "one group: the two values are equal");
  t.same(alerts[0]!.group, { "user.who": { a: 1, b: { c: 2, d: 3 } } });
  t.same(run(detector(`detect "r" { where event.action == "x" by user.who within 10m having count >= 2 }`), [x(0, { a: 1 }), x(1, { a: 2 })]), [], "different values stay apart");
});

t.test("several by fields holding objects are keyed without regard to key order", async (t) => {
  const d = detector(`detect "r" { where event.action == "x" by user.who, host within 10m having count >= 2 }`);
  const x = (ms: number, who: unknown) => ev(ms, { event: { action: "x" }, user: { who }, host: "h1" });
  t.same(run(d, [x(0, { a: 1, b: 2 }), x(1, { b: 2, a: 1 })]).map((a) => a.at), [1]);
});

t.test("distinct counts objects equal up to key order once", async (t) => {
  const d = detector(`detect "r" { where event.action == "x" by host within 10m having distinct user.who >= 2 }`);
  const x = (ms: number, who: unknown) => ev(ms, { event: { action: "x" }, host: "h1", user: { who } });
  t.same(run(d, [x(0, { a: 1, b: 2 }), x(1, { b: 2, a: 1 }), x(2, [{ b: 2, a: 1 }])]), [], "one distinct value");
  t.same(run(detector(`detect "r" { where event.action == "x" by host within 10m having distinct user.who >= 2 }`), [x(0, { a: 1, b: 2 }), x(1, { a: 1, b: 3 })]).map((a) => a.at), [1]);
});

t.test("canonicalJson: JSON.stringify's text with sorted keys, refusing what is too deep", async (t) => {
  const cases: unknown[] = ["s", 1, -0, true, null, [1, "a", null], { b: 1, a: [{ d: 1, c: 2 }] }, [undefined, () => 1], { u: undefined, a: 1 }, { "\u2028": 1, __proto__x: 2 }];
  // (Messages name the case by number: a raw U+2028 in a message would break the TAP stream.)
  cases.forEach((v, i) => t.same(JSON.parse(canonicalJson(v, 0)!), JSON.parse(JSON.stringify(v) ?? "null"), `case ${i}: the same value as JSON.stringify gives`));
  t.equal(canonicalJson({ b: 1, a: 2 }, 0), '{"a":2,"b":1}');
  t.equal(canonicalJson(nested(MAX_DEPTH), 0), JSON.stringify(nested(MAX_DEPTH)), "MAX_DEPTH levels are keyed");
  t.equal(canonicalJson(nested(MAX_DEPTH + 1), 0), undefined, "one more is refused");
  t.equal(singleKey(nested(100_000)), undefined);
  t.not(singleKey({ a: 1 }), singleKey('{"a":1}'), "an object and its JSON text as a string are different keys");
});

t.test("a by value nested too deep to key is the rule's counted error; the stream goes on", async (t) => {
  const d = detector(`detect "r" { where event.action == "x" by user.who within 10m having count >= 2 }`);
  const x = (ms: number, who: unknown) => ev(ms, { event: { action: "x" }, user: { who } });
  const alerts = run(d, [x(0, nested(100_000)), x(1, nested(100_000)), x(2, "a"), x(3, "a")]);
  t.same(alerts.map((a) => a.at), [3]);
  t.equal(d.stats().rules["d/r"]!.errors, 2);
  t.equal(d.stats().rules["d/r"]!.matched, 2);
});

t.test("a distinct value nested too deep is the rule's counted error", async (t) => {
  const d = detector(`detect "r" { where event.action == "x" by host within 10m having distinct user.who >= 2 }`);
  const x = (ms: number, who: unknown) => ev(ms, { event: { action: "x" }, host: "h", user: { who } });
  t.same(run(d, [x(0, nested(100_000)), x(1, [1, nested(MAX_DEPTH + 1)]), x(2, 1), x(3, 2)]).map((a) => a.at), [3]);
  t.equal(d.stats().rules["d/r"]!.errors, 2);
});

t.test("an alert carries its events as given; pruneEvents makes it writable", async (t) => {
  const d = detector(`detect "r" { where event.action == "x" }`);
  const deep = ev(0, { event: { action: "x" }, deep: nested(100_000) });
  const shallow = ev(1, { event: { action: "x" } });
  t.throws(() => JSON.stringify(deep), RangeError, "the event as given cannot be serialised");
  const [a, b] = run(d, [deep, shallow]);
  t.equal(a!.events[0], deep, "push returns the event itself");
  t.equal(pruneEvents(b!.events), b!.events, "nothing too deep: the same array");
  const text = JSON.stringify({ ...a, events: pruneEvents(a!.events) });
  t.ok(text.includes(TOO_DEEP), "the deep part is replaced by the marker");
  const back = JSON.parse(text) as { events: { event: unknown; deep: unknown }[] };
  t.same(back.events[0]!.event, { action: "x" }, "the rest of the event is kept");
  let v: unknown = back.events[0]!.deep;
  let depth = 1; // the event is level 0, `deep` level 1
  while (Array.isArray(v)) (v = v[0]), depth++;
  t.equal(v, TOO_DEEP);
  t.equal(depth, MAX_DEPTH);
});

t.test("pruneDeep copies only what it must", async (t) => {
  const shallow = { a: [1, { b: 2 }], c: "x" };
  t.equal(pruneDeep(shallow), shallow, "within the limit: the same object, no copy");
  const hostile = JSON.parse(`{"__proto__": {"polluted": ${"[".repeat(MAX_DEPTH + 5)}1${"]".repeat(MAX_DEPTH + 5)}}, "keep": 1}`) as Record<string, unknown>;
  const p = pruneDeep(hostile) as Record<string, unknown>;
  t.not(p, hostile);
  t.ok(Object.prototype.hasOwnProperty.call(p, "__proto__"), "__proto__ stays an own key");
  t.equal(Object.getPrototypeOf(p), Object.prototype, "and does not become the prototype");
  t.equal(p.keep, 1);
  t.equal(({} as Record<string, unknown>).polluted, undefined);
  t.ok(JSON.stringify(p).includes(TOO_DEEP));
  t.ok(JSON.stringify(hostile.__proto__).length > 0, "the input is not changed");
});

t.test("a condition that overflows the stack on a deep value is the rule's counted error, not the stream's end", async (t) => {
  const d = detector(`detect "r" { where a == b }`);
  const deep = nested(100_000);
  const alerts = run(d, [ev(0, { a: deep, b: nested(100_000) }), ev(1, { a: 1, b: 1 })]);
  t.same(alerts.map((a) => a.at), [1]);
  t.equal(d.stats().rules["d/r"]!.errors, 1);
});
