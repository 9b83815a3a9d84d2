/**
 * The lexer: token kinds, soft and hard keywords, comments, and the lexical
 * diagnostics SP1001-SP1004 with their exact spans.
 */
import t from "tap";
import { lex, durationMs, decodeString } from "../../src/parser/lexer.js";
import * as T from "../../src/parser/tokens.js";

const kinds = (text: string) => lex(text, "x.policy").tokens.map((tok) => tok.tokenType.name);

t.test("words: hard keywords, soft keywords and identifiers", async (t) => {
  t.same(kinds("allow deny contains_any contains containsx allowed _x x1"), [
    "kw_allow",
    "kw_deny",
    "kw_contains_any",
    "kw_contains",
    "Identifier",
    "Identifier",
    "Identifier",
    "Identifier",
  ]);
  const [when, network] = lex("when network", "x.policy").tokens;
  t.equal(when!.tokenType, T.When);
  // Soft keywords are identifiers wherever the grammar takes a name.
  t.ok(T.When.CATEGORIES?.includes(T.Identifier), "`when` is in the Identifier category");
  t.equal(network!.tokenType, T.Network);
  t.notOk(T.Allow.CATEGORIES?.includes(T.Identifier), "`allow` is a hard keyword");
});

t.test("punctuation and operators, longest first", async (t) => {
  t.same(kinds("<-> -> <= >= == != < > = ?? + - * / ( ) [ ] { } : , ."), [
    "BiArrow", "Arrow", "Le", "Ge", "Eq", "NotEq", "Lt", "Gt", "Assign", "Coalesce", "Plus", "Minus", "Star", "Slash",
    "LParen", "RParen", "LBracket", "RBracket", "LCurly", "RCurly", "Colon", "Comma", "Dot",
  ]);
});

t.test("numbers and durations", async (t) => {
  t.same(kinds("42 0.5 500ms 25s 15m 1h30m 90d 2w"), ["Number", "Number", "Duration", "Duration", "Duration", "Duration", "Duration", "Duration"]);
  t.equal(durationMs("500ms"), 500);
  t.equal(durationMs("25s"), 25_000);
  t.equal(durationMs("15m"), 900_000);
  t.equal(durationMs("1h30m"), 5_400_000);
  t.equal(durationMs("90d"), 90 * 86_400_000);
  t.equal(durationMs("2w"), 14 * 86_400_000);
  t.equal(durationMs("1h1ms"), 3_600_001, "ms is not read as m then s");
});

t.test("comments are kept in order with the leading #", async (t) => {
  const r = lex('# one\nallow "a" { } # two\n#three', "x.policy");
  t.same(
    r.comments.map((c) => [c.text, c.span.line, c.span.column, c.span.endColumn]),
    [["# one", 1, 1, 6], ["# two", 2, 15, 20], ["#three", 3, 1, 7]],
  );
  t.same(r.diagnostics, []);
});

t.test("string values decode JSON escapes", async (t) => {
  t.equal(decodeString('"a\\"b\\\\c\\/d\\n\\t\\u00e9"', true), 'a"b\\c/d\n\té');
  t.equal(decodeString('"plain"', true), "plain");
  t.equal(decodeString('"open', false), "open");
});

t.test("SP1001 unexpected character, one per run, on its span", async (t) => {
  const r = lex("allow @@ x\n  é", "x.policy");
  t.same(
    r.diagnostics.map((d) => [d.code, d.message, d.span.line, d.span.column, d.span.endColumn]),
    [
      ["SP1001", "unexpected character `@`", 1, 7, 9],
      ["SP1001", "unexpected character `é`", 2, 3, 4],
    ],
  );
  t.same(kinds("allow @@ x"), ["kw_allow", "Identifier"], "the characters are not tokens");
  t.equal(lex("\u0000", "x").diagnostics[0]!.message, "unexpected character `\\u0000`", "control characters are shown escaped");
  // Pasted from a document or a chat: they look like a space, or like nothing at all.
  const invisible = (s: string) => lex(`when${s}x`, "x").diagnostics.map((d) => d.message);
  t.same(invisible("\u00a0"), ["unexpected character `\\u00a0`"], "a no-break space is named, not shown blank");
  t.same(invisible("\u200b"), ["unexpected character `\\u200b`"], "a zero-width space is named");
  t.same(invisible("\u202e"), ["unexpected character `\\u202e`"], "a bidi override is named");
  t.same(invisible("\u3000"), ["unexpected character `\\u3000`"], "an ideographic space is named");
  t.same(invisible("\u{e0041}"), ["unexpected character `\\u{e0041}`"], "an astral format character is named by its code point");
});

t.test("SP1002 unterminated string: one error, and still a string to the parser", async (t) => {
  const r = lex('const x = "abc\nconst y = 1', "x.policy");
  t.same(r.diagnostics.map((d) => [d.code, d.span.line, d.span.column, d.span.endLine, d.span.endColumn]), [["SP1002", 1, 11, 1, 15]]);
  const str = r.tokens[3]!;
  t.equal(str.tokenType, T.UnterminatedString);
  t.ok(str.tokenType.CATEGORIES?.includes(T.StringLiteral));
  t.equal(r.tokens[4]!.tokenType, T.Const, "the next line lexes normally");
});

t.test("SP1003 invalid escape: the escape's own span", async (t) => {
  const r = lex('"ok\\n" "bad\\q" "\\u12g4"', "x.policy");
  t.same(
    r.diagnostics.map((d) => [d.code, d.message, d.span.column, d.span.endColumn]),
    [
      ["SP1003", "invalid escape `\\q` in string", 12, 14],
      ["SP1003", "invalid escape `\\u12` in string", 17, 21],
    ],
  );
});

t.test("SP1004 malformed number or duration is one token and one error", async (t) => {
  for (const text of ["12x", "1.5h", "1h30", "1.2.3", "5min", "1_000"]) {
    const r = lex(`x ${text} y`, "x.policy");
    t.same(
      r.diagnostics.map((d) => [d.code, d.message, d.span.column, d.span.endColumn]),
      [["SP1004", `malformed number or duration \`${text}\``, 3, 3 + text.length]],
      text,
    );
    t.same(kinds(`x ${text} y`), ["Identifier", "MalformedNumber", "Identifier"], `${text}: a single token`);
  }
});

t.test("SP1013: brackets nested deeper than the cap are cut out", async (t) => {
  const r = lex(`${"(".repeat(205)}1${")".repeat(205)} x`, "x.policy");
  t.same(r.diagnostics.map((d) => [d.code, d.span.column]), [["SP1013", 201]]);
  t.equal(r.tokens.filter((k) => k.tokenType === T.LParen).length, 200);
  t.equal(r.tokens.filter((k) => k.tokenType === T.RParen).length, 200);
  t.equal(r.tokens.at(-1)!.image, "x", "tokens after the cut part are kept");
});

t.test("an item keyword at the start of a line ends a runaway bracket", async (t) => {
  const r = lex(`const a = ${"(".repeat(300)}\nconst b = (1)`, "x.policy");
  t.equal(r.diagnostics.length, 1);
  t.same(r.tokens.slice(-6).map((k) => k.image), ["const", "b", "=", "(", "1", ")"]);
});

t.test("a byte order mark is whitespace", async (t) => {
  const r = lex('\ufeffpackage p', "x.policy");
  t.same(r.diagnostics, []);
  t.same(r.tokens.map((k) => k.image), ["package", "p"]);
});

t.test("SP1004: a number or duration that cannot hold what is written (Infinity, an integer past 2^53 - 1)", async (t) => {
  const bad: [string, RegExp][] = [
    ["1" + "0".repeat(400), /too large for a number/],
    ["9007199254740993", /past 2\^53 - 1 .* compare such ids as strings/],
    ["18446744073709551615", /past 2\^53 - 1/],
    ["100000000000000000000d", /a duration is at most 2\^53 - 1 milliseconds/],
    ["14892856w", /a duration is at most/],
  ];
  for (const [text, hint] of bad) {
    const r = lex(`x == ${text}`, "x.policy");
    t.same(r.diagnostics.map((d) => [d.code, d.span.column, d.span.endColumn]), [["SP1004", 6, 6 + text.length]], text.slice(0, 24));
    t.match(r.diagnostics[0]?.hint, hint);
  }
  // Exactly representable: no diagnostic.
  for (const text of ["9007199254740991", "0.30000000000000004", "12345678901234567890.5", "1767225600000", "14892855w"]) {
    t.same(lex(`x == ${text}`, "x.policy").diagnostics, [], text);
  }
  t.equal(durationMs("14892855w"), 14892855 * 604_800_000, "the longest whole-week duration");
});

t.test("SP1004 on an unquoted IP address says to quote it", async (t) => {
  const [d] = lex("x == 10.0.0.1", "x.policy").diagnostics;
  t.equal(d?.code, "SP1004");
  t.equal(d?.hint, 'an IP address is a string: `ip("10.0.0.1")`');
  t.match(lex("x == 1h30", "x.policy").diagnostics[0]?.hint, "1h30m", "other malformed numbers keep the duration help");
});
