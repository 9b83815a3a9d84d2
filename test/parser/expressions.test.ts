/**
 * Expressions (spec/LANGUAGE.md section 3): precedence and associativity
 * table-driven, every form's node shape, spans, and the expression-level
 * diagnostics (SP1007 chained comparison, SP1009 duplicate key).
 */
import t from "tap";
import { parse } from "../../src/parser/parse.js";
import type { ConstDecl, Expr } from "../../src/parser/ast.js";

/** Parse `const x = SRC` and return the value with the diagnostics. */
function expr(src: string): { e: Expr; codes: string[] } {
  const r = parse(`const x = ${src}`, "x.policy");
  const item = r.ast.items[0] as ConstDecl | undefined;
  if (!item) throw new Error(`no item for ${src}: ${JSON.stringify(r.diagnostics)}`);
  return { e: item.value, codes: r.diagnostics.map((d) => d.code) };
}

/** A fully parenthesised rendering that shows the tree's shape. */
function show(e: Expr): string {
  switch (e.kind) {
    case "String":
      return JSON.stringify(e.value);
    case "Number":
      return e.raw;
    case "Duration":
      return `${e.raw}=${e.ms}ms`;
    case "Bool":
      return String(e.value);
    case "Name":
      return e.name;
    case "List":
      return `[${e.items.map(show).join(", ")}]`;
    case "Object":
      return `{${e.entries.map((en) => `${en.quoted ? JSON.stringify(en.key) : en.key}: ${show(en.value)}`).join(", ")}}`;
    case "Member":
      return `${show(e.object)}.${e.property}`;
    case "Index":
      return `${show(e.object)}[${show(e.index)}]`;
    case "Call":
      return `${e.callee}(${e.args.map(show).join(", ")})`;
    case "Unary":
      return `(${e.op} ${show(e.operand)})`;
    case "Binary":
      return `(${show(e.left)} ${e.op} ${show(e.right)})`;
    case "Has":
      return `(${show(e.object)} has ${e.name})`;
    case "Paren":
      return `<${show(e.expr)}>`;
  }
}

const PRECEDENCE: [string, string][] = [
  ["a or b and c", "(a or (b and c))"],
  ["a and b or c", "((a and b) or c)"],
  ["a or b or c", "((a or b) or c)"],
  ["not a and b", "((not a) and b)"],
  ["not a == b", "(not (a == b))"],
  ["not not a", "(not (not a))"],
  ["a and not b or c", "((a and (not b)) or c)"],
  ["a == b and c != d", "((a == b) and (c != d))"],
  ["a ?? b == c", "((a ?? b) == c)"],
  ["a ?? b ?? c", "((a ?? b) ?? c)"],
  ["a + b ?? c", "((a + b) ?? c)"],
  ["a + b * c", "(a + (b * c))"],
  ["a * b + c", "((a * b) + c)"],
  ["a - b - c", "((a - b) - c)"],
  ["a / b * c", "((a / b) * c)"],
  ["-a * b", "((- a) * b)"],
  ["-a.b", "(- a.b)"],
  ["- -a", "(- (- a))"],
  ["a - -3", "(a - -3)"],
  ["-3", "-3"],
  ["--3", "(- -3)"],
  ["-1h", "(- 1h=3600000ms)"],
  ["a.b.c", "a.b.c"],
  ['a["x-y"].z', 'a["x-y"].z'],
  ["a[0][1]", "a[0][1]"],
  ["f(a, b)[0].c", "f(a, b)[0].c"],
  ["(a or b) and c", "(<(a or b)> and c)"],
  ["a in [1, 2,]", "(a in [1, 2])"],
  ["a contains b", "(a contains b)"],
  ["a contains_any b or a contains_all c", "((a contains_any b) or (a contains_all c))"],
  ['s like "adm*"', '(s like "adm*")'],
  ['s starts_with "x" and s ends_with "y"', '((s starts_with "x") and (s ends_with "y"))'],
  ['s matches "re"', '(s matches "re")'],
  ["e has geo and e.geo == 1", "((e has geo) and (e.geo == 1))"],
  ['e has "x-y"', "(e has x-y)"],
  ["e has when", "(e has when)"],
  ["not e has geo", "(not (e has geo))"],
  ["a + 1 < b * 2", "((a + 1) < (b * 2))"],
  ["age(t) <= 15m", "(age(t) <= 15m=900000ms)"],
  ['ip("10.0.0.1") in ip("10.0.0.0/8")', '(ip("10.0.0.1") in ip("10.0.0.0/8"))'],
  ["size([]) == 0", "(size([]) == 0)"],
  ['{ a: 1, "q-k": [true, false], when: {} }', '{a: 1, "q-k": [true, false], when: {}}'],
  ["network.protocol == tags", "(network.protocol == tags)"],
  ["event.action", "event.action"],
  ["x.test.allow", "x.test.allow"],
  ["risk(user.name) > 50", "(risk(user.name) > 50)"],
  ["0.5 + 500ms", "(0.5 + 500ms=500ms)"],
];

t.test("precedence and associativity", async (t) => {
  for (const [src, want] of PRECEDENCE) {
    const { e, codes } = expr(src);
    t.equal(show(e), want, src);
    t.same(codes, [], `${src}: no diagnostics`);
  }
});

t.test("literal values", async (t) => {
  const { e } = expr('[42, 0.5, -3, "a\\tb", true, false, 1h30m, 2w]');
  t.match(e, {
    kind: "List",
    items: [
      { kind: "Number", value: 42, raw: "42" },
      { kind: "Number", value: 0.5, raw: "0.5" },
      { kind: "Number", value: -3, raw: "-3" },
      { kind: "String", value: "a\tb" },
      { kind: "Bool", value: true },
      { kind: "Bool", value: false },
      { kind: "Duration", ms: 5_400_000, raw: "1h30m" },
      { kind: "Duration", ms: 1_209_600_000, raw: "2w" },
    ],
  });
});

t.test("spans of expression nodes", async (t) => {
  // const x = a.b + f(1)
  // 1234567890123456789012
  const { e } = expr("a.b + f(1)");
  if (e.kind !== "Binary") throw new Error("not binary");
  t.match(e.span, { line: 1, column: 11, endColumn: 21, start: 10, end: 20 });
  t.match(e.opSpan, { column: 15, endColumn: 16 });
  t.match(e.left, { kind: "Member", propertySpan: { column: 13, endColumn: 14 }, span: { column: 11, endColumn: 14 } });
  t.match(e.right, { kind: "Call", callee: "f", calleeSpan: { column: 17, endColumn: 18 }, span: { column: 17, endColumn: 21 } });
  const neg = expr("-3").e;
  t.match(neg, { kind: "Number", raw: "-3", span: { column: 11, endColumn: 13 } });
  const obj = expr('{ a: 1, "b": 2 }').e;
  t.match(obj, {
    kind: "Object",
    span: { column: 11, endColumn: 27 },
    entries: [
      { key: "a", quoted: false, keySpan: { column: 13, endColumn: 14 }, span: { column: 13, endColumn: 17 } },
      { key: "b", quoted: true, keySpan: { column: 19, endColumn: 22 } },
    ],
  });
  const has = expr('e has "k"').e;
  t.match(has, { kind: "Has", name: "k", nameSpan: { column: 17, endColumn: 20 }, span: { column: 11, endColumn: 20 } });
  const paren = expr("(a)").e;
  t.match(paren, { kind: "Paren", span: { column: 11, endColumn: 14 }, expr: { kind: "Name", span: { column: 12 } } });
});

t.test("SP1007: comparisons do not chain, reported at the second operator", async (t) => {
  for (const src of ["a < b < c", "a == b != c", "a in b contains c", "a has b == c"]) {
    const r = parse(`const x = ${src}`, "x.policy");
    t.same(r.diagnostics.map((d) => d.code), ["SP1007"], src);
  }
  const r = parse("const x = a < b < c", "x.policy");
  t.match(r.diagnostics[0], { message: "comparison operators do not chain", span: { column: 17, endColumn: 18 } });
  t.same(parse("const x = a < b and b < c", "x.policy").diagnostics, [], "`and` between comparisons is fine");
});

t.test("SP1009: duplicate object key, at the second key", async (t) => {
  const r = parse('const x = { a: 1, "a": 2, b: { a: 3 } }', "x.policy");
  t.same(r.diagnostics.map((d) => [d.code, d.message, d.span.column, d.span.endColumn]), [["SP1009", "duplicate key `a` in object", 19, 22]]);
  t.match(r.diagnostics[0]!.related, [{ span: { column: 13 } }]);
});

t.test("`not` as the operand of a comparison needs parentheses", async (t) => {
  const r = parse("const x = a == not b", "x.policy");
  t.same(r.diagnostics.map((d) => [d.code, d.message, d.span.column]), [["SP1005", "expected an expression, found `not`", 16]]);
  t.same(parse("const x = a == (not b)", "x.policy").diagnostics, []);
});

t.test("calls only on bare names", async (t) => {
  const r = parse('allow "r" { when a.b(1) }', "x.policy");
  t.equal(r.diagnostics[0]?.code, "SP1005");
  t.equal(r.ast.items.length, 0, "the broken rule is dropped");
});
