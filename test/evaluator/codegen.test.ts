/**
 * The generated rule functions (codegen.ts), case by case: each test pins a
 * branch of the generator that the random oracles rarely reach. valueOf runs
 * the expression both as generated code and as closures (explain) and fails
 * when they disagree; the expected value pins both to the spec.
 */
import t from "tap";
import { valueOf } from "./helpers.js";

t.test("unary minus of a duration from the input is a duration", async (t) => {
  // age() of a past time is positive; its negation is below zero.
  t.same(valueOf(`-age(resource.t) < 0s`, { resource: { t: "2026-01-01T11:00:00Z" } }), { value: true });
  t.same(valueOf(`-age(resource.t) == -1h`, { resource: { t: "2026-01-01T11:00:00Z" } }), { value: true });
});

t.test("an attribute of a list element: null is missing, a number a type error, an absent key missing", async (t) => {
  // `xs[0]` is not a plain path, so `.name` of it is read by the generic member code.
  const expr = `(resource.xs[0].name ?? "none") == "none"`;
  t.same(valueOf(expr, { resource: { xs: [null] } }), { value: true }, "null element: missing, so ?? takes the default");
  t.same(valueOf(expr, { resource: { xs: [{}] } }), { value: true }, "no such key: missing, so ?? takes the default");
  t.same(valueOf(expr, { resource: { xs: [{ name: "a" }] } }), { value: false });
  const five = valueOf(expr, { resource: { xs: [5] } });
  t.ok("error" in five, "a number element: a type error, which ?? does not catch");
});

t.test("a time equals its RFC 3339 text, in a literal list too (in, contains)", async (t) => {
  // The test clock is 2026-01-01T12:00:00Z. A time on the left of `in` takes the general
  // path; in `contains`, an element that is a time is compared as one.
  t.same(valueOf(`now in ["2026-01-01T12:00:00Z", "x"]`), { value: true });
  t.same(valueOf(`now in ["2026-01-01T12:00:01Z", "x"]`), { value: false });
  t.same(valueOf(`[now, resource.x] contains "2026-01-01T12:00:00Z"`, { resource: { x: 1 } }), { value: true });
  t.same(valueOf(`[now, resource.x] contains "2026-01-01T11:00:00Z"`, { resource: { x: 1 } }), { value: false });
});

t.test("an object literal with attribute values is built from them", async (t) => {
  const input = { resource: { x: 1, o: { a: 1, b: "s" } } };
  t.same(valueOf(`{"a": resource.x, "b": "s"} == resource.o`, input), { value: true });
  t.same(valueOf(`resource.o == {"a": resource.x}`, input), { value: false });
  t.same(valueOf(`{"a": resource.x}["a"] == 1`, input), { value: true });
});

t.test("in a literal list of more than eight values (looked up in a set)", async (t) => {
  const expr = `resource.x in ["a", "b", "c", "d", "e", "f", "g", "h", "i", 10]`;
  t.same(valueOf(expr, { resource: { x: "i" } }), { value: true });
  t.same(valueOf(expr, { resource: { x: 10 } }), { value: true });
  t.same(valueOf(expr, { resource: { x: "j" } }), { value: false });
  t.same(valueOf(expr, { resource: { x: "10" } }), { value: false });
});

t.test("an inherited name read off a list element is missing, not the prototype's", async (t) => {
  const expr = `(resource.xs[0].constructor ?? "none") == "none"`;
  t.same(valueOf(expr, { resource: { xs: [{}] } }), { value: true });
  t.same(valueOf(`(resource.xs[0].toString ?? "none") == "none"`, { resource: { xs: [{ a: 1 }] } }), { value: true });
});
