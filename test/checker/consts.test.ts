/**
 * Consts: folding at check time (the values the evaluator reuses), cycles
 * (SP2004, once, with the cycle spelled out), duplicates (SP2005) across the
 * files of a package.
 */
import t from "tap";
import { checkText, runCases, where } from "./helpers.js";
import { DurationValue, IpValue } from "../../src/checker/values.js";
import { compile } from "../../src/index.js";

t.test("consts fold to JSON values, durations and IPs", async (t) => {
  const r = checkText(
    `package p\n` +
      `const n = 2 + 3 * 4\nconst m = -n / 2\nconst s = upper("ab") \nconst l = ["a", n, true]\n` +
      `const o = { a: 1, "x-y": [1, 2], __proto__: "kept" }\nconst d = 1h30m\nconst net = ip("10.0.0.0/8")\n` +
      `const nets = [net, ip("fd00::/8")]\nconst k = o["x-y"][1] + size(l)\nconst w = weekday("2026-03-10T10:00:00Z")\n` +
      `const h = hour(1773136800)\nconst later = m\nconst inside = ip("10.1.2.3") in nets and "10.2.0.1" in net\n` +
      `const g = "admin-1" like "adm*" and not ("x" like "\\\\*")\nconst b = later < 0 and d >= 90m and not (d > 90m)\n` +
      `const types = [type("a"), type(1), type(true), type(l), type(o), type(d), type(net)]\n`,
    { lint: false },
  );
  t.same(r.diagnostics.map(where), []);
  const p = r.consts.get("p")!;
  t.equal(p.get("n"), 14);
  t.equal(p.get("m"), -7);
  t.equal(p.get("later"), -7, "a const may use a const defined after it");
  t.equal(p.get("s"), "AB");
  t.same(p.get("l"), ["a", 14, true]);
  const o = p.get("o") as Record<string, unknown>;
  t.same(Object.keys(o), ["a", "x-y", "__proto__"], "__proto__ is an own key, not a prototype");
  t.equal(Object.getPrototypeOf(o), Object.prototype);
  const d = p.get("d");
  t.ok(d instanceof DurationValue && d.ms === 5_400_000, "1h30m folds to 5400000 ms");
  t.same(JSON.parse(JSON.stringify(d)), { $duration: 5_400_000 });
  const net = p.get("net");
  t.ok(net instanceof IpValue && net.prefix === 8 && net.version === 4);
  t.same(JSON.parse(JSON.stringify(p.get("nets"))), [{ $ip: "10.0.0.0/8" }, { $ip: "fd00::/8" }]);
  t.equal(p.get("k"), 5);
  t.equal(p.get("w"), "tuesday");
  t.equal(p.get("h"), 10, "epoch seconds, UTC");
  t.equal(p.get("inside"), true);
  t.equal(p.get("g"), true);
  t.same(p.get("types"), ["string", "number", "boolean", "list", "object", "duration", "ip"], "type() folds to the evaluator's names");
  t.equal(p.get("b"), true);
});

t.test("a const that does not fold is left out of the table", async (t) => {
  const r = checkText(`package p\nconst a = principal.id\nconst b = [a]\nconst c = 1 / 0\nconst ok = 1\n`, { lint: false });
  t.same([...r.consts.get("p")!.keys()], ["ok"]);
});

runCases(t, [
  {
    name: "SP2004 a two-const cycle is reported once, at the first definition",
    text: `const a = b + 1\nconst b = a * 2\nallow "r" {\n  when principal.n == a\n}\n`,
    want: [{ at: "SP2004@1:7-1:8", message: "const `a` depends on itself: a -> b -> a" }],
  },
  {
    name: "SP2004 a self-reference",
    text: `const a = [a]\nallow "r" {\n  when principal.n in a\n}\n`,
    want: [{ at: "SP2004@1:7-1:8", message: "a -> a" }],
  },
  {
    name: "SP2004 a longer cycle with a tail: only the cycle is listed",
    text: `const top = x\nconst x = y\nconst y = z\nconst z = x\nallow "r" {\n  when principal.n == top\n}\n`,
    want: [{ at: "SP2004@2:7-2:8", message: "x -> y -> z -> x" }],
  },
  {
    name: "SP2005 duplicate const, related span at the first",
    text: `const a = 1\nconst a = 2\nallow "r" {\n  when principal.n == a\n}\n`,
    want: [{ at: "SP2005@2:7-2:8", message: "duplicate const `a`", hint: "package `t`" }],
  },
  {
    name: "SP2005 across two files of one package",
    text: { "x.policy": `package p\nconst a = 1\n`, "y.policy": `package p\nconst a = 2\n` },
    want: ["SP2005@2:7-2:8"],
  },
]);

t.test("SP2005 points back at the first definition", async (t) => {
  const r = checkText(`const a = 1\nconst a = 2\n`, { lint: false });
  t.equal(r.diagnostics.length, 1);
  t.same(r.diagnostics[0]!.related?.map((x) => `${x.span.line}:${x.span.column}`), ["1:7"]);
});

t.test("a chain of 3,000 consts folds without overflowing", async (t) => {
  let text = "package p\nconst c0 = 1\n";
  for (let i = 1; i < 3000; i++) text += `const c${i} = c${i - 1} + 1\n`;
  const r = checkText(text, { lint: false });
  t.same(r.failures, []);
  t.same(r.diagnostics.map(where), []);
  t.equal(r.consts.get("p")!.get("c2999"), 3000);
});

t.test("the compiler folds a chain of 5,000 consts too: loading never throws", async (t) => {
  // The checker's fold was iterative; the compiler's recursed through the chain and overflowed the
  // stack, so compile() threw a RangeError instead of returning an engine.
  let text = "package p\nconst c0 = 1\n";
  for (let i = 1; i < 5000; i++) text += `const c${i} = c${i - 1} + 1\n`;
  const engine = compile(text + 'allow "a" {\n  when principal.n == c4999\n}\n');
  t.same(engine.diagnostics, []);
  t.match(engine.evaluate({ principal: { n: 5000 }, action: "x", resource: {} }), { decision: "allow" });
  t.match(engine.evaluate({ principal: { n: 4999 }, action: "x", resource: {} }), { decision: "deny" });
});

t.test("a cycle through 5,000 consts: SP2004 names its ends in one line, and the engine denies", async (t) => {
  let text = "package p\nconst c0 = c4999 + 1\n";
  for (let i = 1; i < 5000; i++) text += `const c${i} = c${i - 1} + 1\n`;
  const engine = compile(text + 'allow "a" {\n  when principal.n == c10\n}\n');
  t.same(
    engine.diagnostics.map((d) => [d.code, d.message]),
    [["SP2004", "const `c0` depends on itself: c0 -> c4999 -> c4998 -> c4997 -> c4996 -> c4995 -> c4994 -> c4993 -> c4992 -> c4991 -> ... (4990 more) -> c0"]],
  );
  t.match(engine.evaluate({ principal: { n: 11 }, action: "x", resource: {} }), { decision: "deny" });
});
