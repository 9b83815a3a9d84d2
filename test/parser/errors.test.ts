/**
 * Syntax diagnostics: every SP1xxx code with its message and span, messages
 * a person can act on, and recovery (one pass reports every error and keeps
 * the good items between them).
 */
import t from "tap";
import { parse } from "../../src/parser/parse.js";
import { PolicyParser } from "../../src/parser/grammar.js";
import type { AccessRule } from "../../src/parser/ast.js";

type Row = [code: string, line: number, column: number, endLine: number, endColumn: number, message: string];

function diags(text: string): Row[] {
  return parse(text, "x.policy").diagnostics.map((d) => [d.code, d.span.line, d.span.column, d.span.endLine, d.span.endColumn, d.message]);
}

function names(text: string): string[] {
  return parse(text, "x.policy").ast.items.map((i) => ("name" in i && typeof i.name === "string" ? i.name : i.kind));
}

t.test("SP1001-SP1004 reach parse() and the item still parses", async (t) => {
  t.same(diags('allow "a" { when x == 1 $ }'), [["SP1001", 1, 25, 1, 26, "unexpected character `$`"]]);
  t.same(names('allow "a" { when x == 1 $ }'), ["a"]);
  t.same(diags('allow "a" { when x == "b }'), [["SP1002", 1, 23, 1, 27, "unterminated string"], ["SP1005", 1, 27, 1, 27, "expected a clause or `}`, found end of file"]]);
  t.same(diags('allow "a" { when x == "\\x" }'), [["SP1003", 1, 24, 1, 26, "invalid escape `\\x` in string"]]);
  t.same(diags('allow "a" { when x == 1 require mfa within 1h30 }'), [["SP1004", 1, 44, 1, 48, "malformed number or duration `1h30`"]]);
  t.same(names('allow "a" { when x == 1 require mfa within 1h30 }'), ["a"], "the malformed duration does not cost the rule");
});

t.test("SP1005: expected X, found Y, on the offending token", async (t) => {
  t.same(diags('allow foo { when x }'), [["SP1005", 1, 7, 1, 10, "expected a rule name in quotes after `allow`, found identifier `foo`"]]);
  t.same(diags('allow "a" when x }'), [["SP1005", 1, 11, 1, 15, "expected `{` after the rule name, found `when`"]]);
  t.same(diags("const = 1"), [["SP1005", 1, 7, 1, 8, "expected a name after `const`, found `=`"]]);
  t.same(diags("const a 1"), [["SP1005", 1, 9, 1, 10, "expected `=` after the const name, found number `1`"]]);
  t.same(diags('allow "a" { when }'), [["SP1005", 1, 18, 1, 19, "expected an expression, found `}`"]]);
  t.same(diags('allow "a" { require }'), [["SP1005", 1, 21, 1, 22, "expected `mfa`, `cipher`, `key_age`, `tee`, `aad` or a condition after `require`, found `}`"]]);
  t.same(diags('mesh "m" { connect "a" => "b" }'), [["SP1005", 1, 24, 1, 25, "expected `->` or `<->`, found `=`"]]);
  t.same(diags('allow "a" { foo }'), [["SP1005", 1, 13, 1, 16, "expected a clause or `}`, found identifier `foo`"]]);
  t.same(diags('detect "d" { by a within 1m having median > 1 }'), [["SP1005", 1, 36, 1, 42, "expected `count` or `distinct` after `having`, found identifier `median`"]]);
  t.same(diags('test "t" { access { a: 1 } expect maybe_not }'), [], "`expect EXPR` takes any expression");
  t.same(diags('test "t" { access { a: 1 } expect }'), [["SP1005", 1, 35, 1, 36, "expected `allow`, `deny`, `challenge`, `admit`, `reject`, `alert`, `no alert` or a condition after `expect`, found `}`"]]);
  t.same(diags('const x = [1, 2'), [["SP1005", 1, 16, 1, 16, "expected `,` or `]`, found end of file"]]);
});

t.test("SP1005 at end of file is a zero-width span at the end of the text", async (t) => {
  const text = 'allow "a" {\n  when x ==\n';
  const d = parse(text, "x.policy").diagnostics;
  t.same(d.map((x) => [x.code, x.span.start, x.span.end, x.span.line, x.span.column]), [["SP1005", text.length, text.length, 3, 1]]);
  t.match(d[0]!.message, /found end of file/);
});

t.test("SP1006: unexpected tokens between items", async (t) => {
  const d = parse('allow "a" { when x } ) foo\nallow "b" { when y }', "x.policy").diagnostics;
  t.same(d.map((x) => [x.code, x.span.line, x.span.column, x.span.endColumn, x.message]), [["SP1006", 1, 22, 23, "unexpected `)`"]]);
  t.match(d[0]!.hint, /a policy file holds `package`/);
  t.same(names('allow "a" { when x } ) foo\nallow "b" { when y }'), ["a", "b"]);
});

t.test("SP1007 and SP1009 keep the item", async (t) => {
  t.same(diags('allow "a" { when a < b < c }').map((r) => [r[0], r[2], r[4]]), [["SP1007", 24, 25]]);
  t.same(names('allow "a" { when a < b < c }'), ["a"]);
  t.same(diags('const o = { k: 1, k: 2 }').map((r) => [r[0], r[2], r[4], r[5]]), [["SP1009", 19, 20, "duplicate key `k` in object"]]);
});

t.test("SP1008: package first and once", async (t) => {
  const late = parse('const a = 1\npackage p.q', "x.policy");
  t.same(late.diagnostics.map((d) => [d.code, d.span.line, d.span.column, d.span.endColumn, d.hint]), [["SP1008", 2, 1, 12, "move `package` above everything else"]]);
  t.equal(late.ast.package?.name, "p.q", "a late package still names the file's rules");
  const twice = parse("# header\npackage a\npackage b", "x.policy");
  t.same(twice.diagnostics.map((d) => [d.code, d.span.line, d.hint]), [["SP1008", 3, "remove the second `package` line"]]);
  t.equal(twice.ast.package?.name, "a");
  t.same(parse("# comments may come first\npackage a\nconst b = 1", "x.policy").diagnostics, []);
});

t.test("SP1010: a clause the block does not take, with where it belongs", async (t) => {
  const cases: [string, string, string, string][] = [
    ['deny "d" { when x require y }', "`require` is not allowed in a `deny` rule", "requirements belong in `allow` rules", "require"],
    ['deny "d" { when x require mfa }', "`require mfa` is not allowed in a `deny` rule", "requirements belong in `allow` rules", "require mfa"],
    ['allow "a" { where x }', "`where` is not allowed in an `allow` rule", "use `when`", "where"],
    ['detect "d" { when x }', "`when` is not allowed in a `detect` rule", "use `where`", "when"],
    ['detect "d" { unless x }', "`unless` is not allowed in a `detect` rule", "use `where not (...)`", "unless"],
    ['allow "a" { when x require cipher "aes-256-gcm" }', "`require cipher` is not allowed in an `allow` rule", "belongs in an `encryption` block", "require cipher"],
    ['encryption "e" { require mfa }', "`require mfa` is not allowed in an `encryption` block", "belongs in an `allow` rule", "require mfa"],
    ['encryption "e" { require data.x }', "`require` is not allowed in an `encryption` block", "takes `require cipher`", "require"],
    ['allow "a" { when x network "10.0.0.0/8" }', "`network` is not allowed in an `allow` rule", "belongs in a `mesh` block", "network"],
    ['mesh "m" { severity high }', "`severity` is not allowed in a `mesh` block", "belongs in a `detect` rule", "severity"],
    ['allow "a" { when x then risk u + 1 }', "`then risk` is not allowed in an `allow` rule", "belongs in a `detect` rule", "then risk"],
    ['mesh "m" { require tee }', "`require tee` is not allowed in a `mesh` block", "belongs in an `encryption` block", "require tee"],
    ['allow "a" { when x require key_age within 1d }', "`require key_age` is not allowed in an `allow` rule", "`encryption` or `mesh` block", "require key_age"],
  ];
  for (const [text, message, hint, keyword] of cases) {
    const r = parse(text, "x.policy");
    t.equal(r.diagnostics.length, 1, text);
    const d = r.diagnostics[0]!;
    t.equal(d.code, "SP1010", text);
    t.equal(d.message, message, text);
    t.match(d.hint, hint, text);
    t.equal(text.slice(d.span.start, d.span.end), keyword, `${text}: span is the clause keyword`);
    t.equal(r.ast.items.length, 1, `${text}: the rule stays`);
  }
  const r = parse('deny "d" { when x require mfa unless y }', "x.policy");
  t.same((r.ast.items[0] as AccessRule).clauses.map((c) => c.kind), ["When", "Unless"], "the misplaced clause is dropped");
});

t.test("SP1011: a clause that may appear once, repeated", async (t) => {
  const cases: [string, string][] = [
    ['detect "d" { severity high where x severity low }', "duplicate `severity` in a `detect` rule"],
    ['detect "d" { where x by a within 1m by b within 2m }', "duplicate `by` in a `detect` rule"],
    ['detect "d" { by a within 1m sequence { s: x } all { t: y } }', "duplicate `all` in a `detect` rule"],
    ['mesh "m" { network "a" network "b" }', "duplicate `network` in a `mesh` block"],
    ['mesh "m" { listen_port 1 listen_port 2 }', "duplicate `listen_port` in a `mesh` block"],
    ['mesh "m" { keepalive 1s keepalive 2s }', "duplicate `keepalive` in a `mesh` block"],
    ['encryption "e" { require cipher "a" require cipher "b" }', "duplicate `require cipher` in an `encryption` block"],
    ['allow "a" { when x require mfa require mfa within 1m }', "duplicate `require mfa` in an `allow` rule"],
  ];
  for (const [text, message] of cases) {
    const d = parse(text, "x.policy").diagnostics;
    t.same(d.map((x) => [x.code, x.message]), [["SP1011", message]], text);
    t.ok(d[0]!.related?.length === 1, `${text}: points at the first`);
  }
  const r = parse('mesh "m" { network "a" network "b" }', "x.policy");
  t.same(r.diagnostics.map((d) => [d.span.column, d.span.endColumn]), [[24, 31]]);
  t.match(r.ast.items[0], { clauses: [{ kind: "Network", cidr: { value: "a" } }] }, "the first is kept");
  t.same(parse('allow "a" { when x when y unless z unless w tags [] tags [] require a require b }', "x.policy").diagnostics, [], "when, unless, tags, require repeat freely");
});

t.test("SP1012: a test without input; SP1011 for a second input", async (t) => {
  const d = parse('test "t" {\n  expect allow\n}', "x.policy").diagnostics;
  t.same(d.map((x) => [x.code, x.message, x.span.line, x.span.column, x.span.endColumn]), [["SP1012", 'missing `input` in test "t"', 1, 1, 9]]);
  t.match(d[0]!.hint, /access \{ \.\.\. \}/);
  const two = parse('test "t" { access {} events "e.jsonl" expect allow }', "x.policy");
  t.same(two.diagnostics.map((x) => [x.code, x.span.column]), [["SP1011", 22]]);
  t.match(two.ast.items[0], { kind: "Test", input: { inputKind: "access" } });
});

t.test("SP1013: nesting too deep is a diagnostic, never a stack overflow", async (t) => {
  const deep = parse(`const x = ${"(".repeat(5000)}1${")".repeat(5000)}\nconst y = 2`, "x.policy");
  t.equal(deep.diagnostics[0]?.code, "SP1013");
  t.match(deep.diagnostics[0]!.message, "nesting deeper than 200 levels");
  t.same(names(`const x = ${"(".repeat(5000)}1${")".repeat(5000)}\nconst y = 2`), ["y"]);
  for (const [label, text] of [
    ["not", `const x = ${"not ".repeat(20000)}true`],
    ["minus", `const x = ${"-".repeat(20000)}1`],
    ["chain", `const x = 1${" + 1".repeat(20000)}`],
    ["members", `const x = a${".b".repeat(20000)}`],
    ["index", `const x = a${"[0]".repeat(20000)}`],
  ] as const) {
    const r = parse(text, "x.policy");
    t.same(r.diagnostics.map((d) => d.code), ["SP1013"], label);
    t.equal(r.ast.items.length, 0, `${label}: the too-deep item is dropped`);
  }
  t.same(parse(`const x = ${"(".repeat(200)}1${")".repeat(200)}`, "x.policy").diagnostics, [], "200 levels are fine");
  t.same(parse(`const x = 1${" + 1".repeat(900)}`, "x.policy").diagnostics, [], "a long but sane chain is fine");
});

t.test("recovery: three separate errors are all reported, good rules kept", async (t) => {
  const text = `package p
allow "one" {
  when action == "read"
}
allow "broken-1" {
  when action ==
}
deny "two" {
  when resource.env == "prod"
}
allow broken-2 {
  when x
}
allow "three" {
  when principal.id == "alice"
  require mfa within 15m
}
detect "broken-3" {
  where event.action == "x" and
  severity high
}
deny "four" {
  when action == "delete"
}
`;
  const r = parse(text, "x.policy");
  t.same(
    r.diagnostics.map((d) => [d.code, d.span.line, d.span.column, d.message]),
    [
      ["SP1005", 7, 1, "expected an expression, found `}`"],
      ["SP1005", 11, 7, "expected a rule name in quotes after `allow`, found identifier `broken`"],
      // `severity` is a soft keyword, so after `and` it reads as a name;
      // the error lands on `high`, with a hint that says why.
      ["SP1005", 20, 12, "expected a clause or `}`, found identifier `high`"],
    ],
  );
  t.match(r.diagnostics[2]!.hint, "`severity` was read as a name");
  t.same(names(text), ["one", "two", "three", "four"]);
  t.equal(r.ast.package?.name, "p");
});

t.test("recovery: a missing closing brace is invented, the rule kept", async (t) => {
  const text = 'allow "a" {\n  when x == 1\nallow "b" { when y }\n';
  t.same(diags(text), [["SP1005", 3, 1, 3, 6, "expected a clause or `}`, found `allow`"]]);
  t.same(names(text), ["a", "b"]);
  t.same(diags('allow "a" { when (x == 1 unless y }'), [["SP1005", 1, 26, 1, 32, "expected `)`, found `unless`"]]);
  t.match(parse('allow "a" { when (x == 1 unless y }', "x.policy").ast.items[0], { clauses: [{ kind: "When", expr: { kind: "Paren" } }, { kind: "Unless" }] });
});

t.test("recovery drops a rule that lost a condition, never keeps it weaker", async (t) => {
  const r = parse('allow "a" {\n  when x == 1\n  unless y ==\n}\n', "x.policy");
  t.equal(r.diagnostics.length, 1);
  t.same(r.ast.items, [], "an allow without its `unless` would grant more");
  const junk = parse('allow "a" { wen x == 1 when y }', "x.policy");
  t.same(junk.ast.items, [], "skipped tokens may have been a condition");
});

t.test("restart after a broken item waits for an item keyword at the start of a line", async (t) => {
  // `mesh {` inside a test is an input, not a mesh block to restart at.
  const text = 'test broken {\n  mesh { node: { id: "a" } }\n  expect admit\n}\nconst ok = 1\n';
  t.same(diags(text).map((r) => [r[0], r[1]]), [["SP1005", 1]]);
  t.same(names(text), ["ok"]);
});

t.test("an item word before `.` or `[` is a path, not an item to restart at", async (t) => {
  // A detect rule reads ECS `package.name`; the spec reserves keywords only where the grammar needs them.
  const ok = parse('detect "d" {\n  severity low\n  where test["x"] == 1\n    and package.name == "y"\n}\n', "x.policy");
  t.same(ok.diagnostics, []);
  t.match(ok.ast.items[0], {
    clauses: [{}, { kind: "Where", expr: { left: { left: { kind: "Index", object: { kind: "Name", name: "test" } } }, right: { left: { kind: "Member", object: { kind: "Name", name: "package" }, property: "name" } } } }],
  });
  // After an error, a continuation line opening with `package.name` is not a new `package` item.
  const text = 'detect "d" {\n  severity low\n  where (x == 1\n    package.name == "y")\n}\nconst ok = 1\n';
  t.same(diags(text).map((r) => [r[0], r[1], r[5]]), [["SP1005", 4, "expected `)`, found `package`"]]);
  t.same(names(text), ["ok"]);
  // Where a name or an expression must stand alone, the words stay reserved.
  t.same(diags('detect "d" {\n  severity low\n  where package == "y"\n}\n').map((r) => r.slice(0, 3).concat(r[5])), [["SP1005", 3, 9, "expected an expression, found `package`"]]);
  t.same(diags("const test = 1").map((r) => r[0]), ["SP1005"]);
});

t.test("parse never throws and keeps every span inside the text", async (t) => {
  const inputs = [
    "",
    "{",
    "}",
    '"',
    "allow",
    'allow "',
    "\u0000\u0001\u0002",
    "\ud83d\ude00 allow 💥",
    "((((((((((",
    "]]]]]]]]",
    "package",
    "package .",
    'test "t" { events',
    'detect "d" { sequence { a: } }',
    'mesh "m" { connect "a" -> ports [1,,2] }',
    "const x = -",
    "#",
    "\r\r\n\n",
  ];
  // a few thousand bytes of noise from a fixed seed
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const alphabet = 'allow deny when unless require mfa within 15m "x" {}[]()<>=!?.,:#\\\n\t -> <-> 1 2.5 -3 not and or has \u00e9';
  for (let n = 0; n < 200; n++) {
    let s = "";
    for (let i = Math.floor(rnd() * 200); i > 0; i--) s += alphabet[Math.floor(rnd() * alphabet.length)];
    inputs.push(s);
  }
  let checked = 0;
  for (const text of inputs) {
    const r = parse(text, "x.policy");
    for (const d of r.diagnostics) {
      const s = d.span;
      if (!(s.start >= 0 && s.start <= s.end && s.end <= text.length && s.line >= 1 && s.column >= 1 && s.endLine >= s.line)) {
        t.fail(`span outside ${JSON.stringify(text)}: ${JSON.stringify(d)}`);
      }
      checked++;
    }
    t.equal(r.ast.kind, "File");
  }
  t.ok(checked > 100, `diagnostics were checked (${checked})`);
});

t.test("hints: typos of keywords, reserved words", async (t) => {
  const hintOf = (text: string) => parse(text, "x.policy").diagnostics.map((d) => [d.code, d.hint]);
  t.same(hintOf('alow "x" { when a }'), [["SP1006", "did you mean `allow`?"]]);
  t.same(hintOf('allow "x" { wen a == 1 }'), [["SP1005", "did you mean `when`?"]]);
  t.same(hintOf('test "t" { acess { } expect allow }'), [["SP1005", "did you mean `access`?"]]);
  t.same(hintOf("const test = 1"), [["SP1005", "`test` is a reserved word; choose another name"]]);
});

t.test("re-sync skips whole bracketed groups, so one mistake is one error", async (t) => {
  // Without bracket-aware re-sync the `}` of the stray object closed the
  // test and `expect allow }` became two more errors.
  const text = 'test "t" {\n  acess { principal: { id: "a" } }\n  expect allow\n}\nconst ok = 1\n';
  t.same(diags(text).map((r) => [r[0], r[1], r[2]]), [["SP1005", 2, 3]]);
  t.same(names(text), ["ok"], "the broken test is dropped, the rest parses");
  const clause = 'allow "a" {\n  when f(x, { k: ) })\n  unless y\n}\nconst ok = 1\n';
  t.same(diags(clause).map((r) => [r[0], r[1]]), [["SP1005", 2]]);
  t.same(names(clause), ["ok"]);
});

t.test("a missing comma is reported once and the list parses on", async (t) => {
  t.same(diags('const xs = [1, 2 3]'), [["SP1005", 1, 18, 1, 19, "expected `,` or `]`, found number `3`"]]);
  t.match(parse('const xs = [1, 2 3]', "x.policy").ast.items[0], { value: { items: [{ value: 1 }, { value: 2 }, { value: 3 }] } });
  t.same(diags('const o = { a: 1 b: 2 }').map((r) => [r[0], r[2], r[5]]), [["SP1005", 18, "expected `,` or `}`, found identifier `b`"]]);
  t.same(diags('allow "a" { tags ["x" "y"] when z }').map((r) => [r[0], r[2]]), [["SP1005", 23]]);
  // An unclosed list before the next clause is a missing `]`, not a comma.
  const text = 'allow "a" {\n  when x in [1, 2\n  unless y\n}\n';
  t.same(diags(text).map((r) => [r[0], r[1], r[2], r[5]]), [["SP1005", 3, 3, "expected `,` or `]`, found `unless`"]]);
  t.same(names(text), ["a"], "nothing was lost: the `]` is invented");
});

t.test("a keyword after `require` or `expect` is read as the keyword form", async (t) => {
  t.same(diags('encryption "e" { require key_age 90d }').map((r) => r[5]), ["expected `within` after `key_age`, found duration `90d`"]);
  t.same(diags('test "t" { access {} expect alert result }').map((r) => r[5]), ["expected the detect rule's name in quotes after `alert`, found identifier `result`"]);
});

t.test("many errors: time grows linearly and the stack does not", async (t) => {
  // Each broken line used to nest one more call (chevrotain re-enters a
  // repetition recursively to recover) or re-scan the rest of the file.
  const cases: [string, string, number][] = [
    ["stray tokens between items", 'allow "a" { when x }}\n'.repeat(6000), 6000],
    ["a broken rule per line", 'deny x\n'.repeat(6000), 6000],
    ["an unclosed bracket per line", 'allow "a" { when == [\n'.repeat(6000), 6000],
    ["junk between clauses", 'allow "a" {\n' + "  foo when x\n".repeat(6000) + "}\n", 17],
  ];
  for (const [label, text, count] of cases) {
    const t0 = performance.now();
    const r = parse(text + "const ok = 1\n", "x.policy");
    const ms = performance.now() - t0;
    t.equal(r.diagnostics.length, count, `${label}: errors reported`);
    t.equal(r.ast.items.at(-1)?.kind, "Const", `${label}: the item after them parses`);
    // A quadratic or exponential recovery would time the test out; the time is reported, not asserted.
    t.comment(`${label}: ${ms.toFixed(0)} ms`);
  }
});

t.test("many items broken inside a clause: the error list is never copied per item", async (t) => {
  // Each item read chevrotain's `errors`, a getter that copies every error
  // so far; a file of n rules each broken inside a clause copied O(n^2)
  // errors (16,000 such rules: 256 million). Count what is copied.
  let proto: object | null = PolicyParser.prototype;
  let desc: PropertyDescriptor | undefined;
  while (proto !== null && (desc = Object.getOwnPropertyDescriptor(proto, "errors")) === undefined) proto = Object.getPrototypeOf(proto);
  t.ok(desc?.get, "chevrotain's errors getter");
  let copied = 0;
  Object.defineProperty(proto!, "errors", {
    ...desc,
    get(this: unknown) {
      const list = desc!.get!.call(this) as unknown[];
      copied += list.length;
      return list;
    },
  });
  t.teardown(() => Object.defineProperty(proto!, "errors", desc!));
  const n = 4000;
  const r = parse(Array.from({ length: n }, (_, i) => `allow "r${i}" { when principal.x == }\n`).join("") + "const ok = 1\n", "x.policy");
  t.equal(r.diagnostics.length, n, "one error per broken rule");
  t.same(r.ast.items.map((i) => i.kind), ["Const"], "the broken rules are dropped, the const after them parses");
  t.ok(copied <= 2 * n, `errors copied: ${copied} (quadratic copying was about ${n * n})`);
});

t.test("a long token is clipped in messages by whole characters: never half an emoji or half an escape", async (t) => {
  const emoji = parse(`allow "a" {\n  when x == 1 "${"a".repeat(27)}\u{1F600}${"b".repeat(16)}"\n}\n`, "x.policy").diagnostics;
  t.equal(emoji.length, 1);
  t.notMatch(emoji[0]!.message, /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/, "no lone surrogate");
  t.match(emoji[0]!.message, /found string `"a{27}\.\.\.`$/);
  const nbsp = parse(`allow "a" {\n  when x == 1 "${"a".repeat(25)}\u00a0${"b".repeat(16)}"\n}\n`, "x.policy").diagnostics;
  t.match(nbsp[0]!.message, /found string `"a{25}\.\.\.`$/, "an escape that does not fit is left out whole");
});

t.test("operators from other languages get a hint: = for ==, && || ! for and or not, single quotes", async (t) => {
  const hints = (text: string) => parse(text, "x.policy").diagnostics.map((d) => `${d.code} ${d.hint ?? ""}`);
  t.same(hints('allow "a" {\n  when action = "x"\n}\n'), ["SP1005 to compare, write `==`"]);
  t.match(hints('allow "a" {\n  when a && b\n}\n')[0], /^SP1001 write `and`/);
  t.match(hints('allow "a" {\n  when a || b\n}\n')[0], /^SP1001 write `or`/);
  t.match(hints('allow "a" {\n  when !a\n}\n')[0], /^SP1001 write `not`/);
  t.match(hints("allow \"a\" {\n  when a == 'x'\n}\n")[0], /^SP1001 strings are in double quotes/);
  t.same(hints('const a = 1\n'), [], "`=` where it belongs");
});
