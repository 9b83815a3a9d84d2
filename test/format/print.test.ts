/**
 * Printing trees built by a program (as `swarm-policy import` does): the
 * layout, and the parentheses precedence needs where the tree has no
 * ParenExpr, so the text reads back as the same tree.
 */
import t from "tap";
import type { BinaryOp, Expr, Item, PolicyFile, Span } from "../../src/parser/ast.js";
import { printPolicy } from "../../src/format/print.js";

const sp: Span = { file: "gen.policy", start: 0, end: 0, line: 1, column: 1, endLine: 1, endColumn: 1 };
const name = (n: string): Expr => ({ kind: "Name", name: n, span: sp });
const num = (n: number): Expr => ({ kind: "Number", value: n, raw: String(n), span: sp });
const str = (s: string) => ({ kind: "String" as const, value: s, span: sp });
const bin = (op: BinaryOp, left: Expr, right: Expr): Expr => ({ kind: "Binary", op, opSpan: sp, left, right, span: sp });
const member = (object: Expr, property: string): Expr => ({ kind: "Member", object, property, propertySpan: sp, span: sp });

function file(items: Item[], pkg: string | null = null): PolicyFile {
  return {
    kind: "File",
    file: "gen.policy",
    package: pkg === null ? null : { kind: "Package", name: pkg, span: sp },
    items,
    comments: [],
    span: sp,
  };
}
const constOf = (n: string, value: Expr): Item => ({ kind: "Const", name: n, nameSpan: sp, value, span: sp });
const printed = (e: Expr): string => printPolicy(file([constOf("x", e)])).replace(/^const x = /, "").replace(/\n$/, "");

t.test("parentheses where precedence needs them, none elsewhere", async (t) => {
  const [a, b, c] = [name("a"), name("b"), name("c")];
  t.equal(printed(bin("*", bin("+", a, b), c)), "(a + b) * c");
  t.equal(printed(bin("+", bin("*", a, b), c)), "a * b + c");
  t.equal(printed(bin("-", a, bin("-", b, c))), "a - (b - c)");
  t.equal(printed(bin("-", bin("-", a, b), c)), "a - b - c");
  t.equal(printed(bin("==", bin("<", a, b), c)), "(a < b) == c");
  t.equal(printed(bin("and", bin("or", a, b), c)), "(a or b) and c");
  t.equal(printed(bin("or", bin("and", a, b), c)), "a and b or c");
  t.equal(printed(bin("and", a, bin("and", b, c))), "a and (b and c)");
  t.equal(printed(bin("??", member(a, "x"), num(0))), "a.x ?? 0");
  t.equal(printed(member(bin("??", a, b), "c")), "(a ?? b).c");
  t.equal(printed({ kind: "Unary", op: "not", operand: bin("and", a, b), span: sp }), "not (a and b)");
  t.equal(printed({ kind: "Unary", op: "not", operand: bin("in", a, b), span: sp }), "not a in b");
  t.equal(printed({ kind: "Unary", op: "-", operand: bin("+", a, num(1)), span: sp }), "-(a + 1)");
  t.equal(printed({ kind: "Unary", op: "-", operand: num(3), span: sp }), "-3");
  t.equal(printed({ kind: "Has", object: bin("??", a, b), name: "k", nameSpan: sp, span: sp }), "a ?? b has k");
  t.equal(printed({ kind: "Has", object: bin("==", a, b), name: "k", nameSpan: sp, span: sp }), "(a == b) has k");
});

t.test("keys and has-names bare when identifiers, quoted otherwise; strings minimally escaped", async (t) => {
  const obj: Expr = {
    kind: "Object",
    span: sp,
    entries: [
      { key: "plain", quoted: true, keySpan: sp, value: str('say "hi"\n'), span: sp },
      { key: "x-y", quoted: false, keySpan: sp, value: str("caf\u00e9 \\*"), span: sp },
    ],
  };
  t.equal(printed(obj), '{ plain: "say \\"hi\\"\\n", "x-y": "café \\\\*" }');
  t.equal(printed({ kind: "Has", object: name("e"), name: "in", nameSpan: sp, span: sp }), "e has in");
  t.equal(printed({ kind: "Has", object: name("e"), name: "x-y", nameSpan: sp, span: sp }), 'e has "x-y"');
  t.equal(printed({ kind: "Has", object: name("e"), name: "geo", nameSpan: sp, span: sp }), "e has geo");
  t.equal(printed({ kind: "Index", object: name("a"), index: str("x-y"), span: sp }), 'a["x-y"]');
  t.equal(printed({ kind: "Call", callee: "ip", calleeSpan: sp, args: [str("10.0.0.0/8")], span: sp }), 'ip("10.0.0.0/8")');
  t.equal(printed({ kind: "List", items: [], span: sp }), "[]");
  t.equal(printed({ kind: "Object", entries: [], span: sp }), "{}");
});

t.test("a generated file gets the canonical layout", async (t) => {
  const rule: Item = {
    kind: "AccessRule",
    effect: "deny",
    name: "no-prod-delete",
    nameSpan: sp,
    span: sp,
    clauses: [
      { kind: "When", expr: bin("and", bin("==", name("action"), str("delete")), bin("==", member(name("resource"), "env"), str("prod"))), span: sp },
      { kind: "Unless", expr: bin("contains_any", member(name("principal"), "roles"), name("admins")), span: sp },
    ],
  };
  const empty: Item = { kind: "EncryptionRule", name: null, nameSpan: sp, clauses: [], span: sp };
  const out = printPolicy(
    file([constOf("admins", { kind: "List", items: [str("admin"), str("sre")], span: sp }), constOf("limit", num(5)), rule, empty], "swarm.access"),
  );
  t.equal(
    out,
    [
      "package swarm.access",
      'const admins = ["admin", "sre"]',
      "const limit = 5",
      "",
      'deny "no-prod-delete" {',
      '  when action == "delete" and resource.env == "prod"',
      "  unless principal.roles contains_any admins",
      "}",
      "",
      "encryption default {}",
      "",
    ].join("\n"),
  );
});

t.test("long lists and chains break at 100 columns", async (t) => {
  const items = Array.from({ length: 12 }, (_, i) => str(`element-number-${i}`));
  t.equal(
    printed({ kind: "List", items, span: sp }),
    "[\n" + items.map((s) => `  "${s.value}"`).join(",\n") + "\n]",
  );
  const cmp = (i: number) => bin("==", member(name("resource"), `attribute_${i}`), str(`value-number-${i}`));
  const chain = bin("and", bin("and", cmp(1), cmp(2)), cmp(3));
  t.equal(
    printed(chain),
    [
      'resource.attribute_1 == "value-number-1"',
      '  and resource.attribute_2 == "value-number-2"',
      '  and resource.attribute_3 == "value-number-3"',
    ].join("\n"),
  );
});
