import t from "tap";
import { SourceText } from "../../src/parser/span.js";
import { diagnostic } from "../../src/diagnostics/diagnostic.js";
import { renderText, renderDiagnostic, shouldColor, summaryLine } from "../../src/diagnostics/render-text.js";

const text = 'package demo\nallow "x" {\n  when pricipal.roles contains "ops"\n}\n';
const src = new SourceText("/repo/policies/demo.policy", text);
const sources = new Map([[src.file, src]]);
const at = (needle: string, from = 0) => {
  const start = text.indexOf(needle, from);
  return src.span(start, start + needle.length);
};

t.test("frame, caret under the span, help line, summary", async (t) => {
  const d = diagnostic("SP2001", at("pricipal"), { name: "pricipal" }, { hint: "did you mean `principal`?" });
  const out = renderText([d], sources, { cwd: "/repo" });
  t.equal(
    out,
    [
      "error[SP2001]: unknown name `pricipal`",
      " --> policies/demo.policy:3:8",
      "  |",
      '3 |   when pricipal.roles contains "ops"',
      "  |        ^^^^^^^^",
      "  |",
      "  = help: did you mean `principal`?",
      "",
      "1 error, 0 warnings",
      "",
    ].join("\n"),
  );
});

t.test("warnings, several diagnostics and the summary count", async (t) => {
  const w = diagnostic("SP3001", at("allow"), { name: "x" });
  const e = diagnostic("SP2001", at("pricipal"), { name: "pricipal" });
  const out = renderText([w, e, w], sources, { cwd: "/repo" });
  t.match(out, /^warning\[SP3001\]: allow rule `x` has no `when`: it applies to every request\n/);
  t.match(out, /= help: add a `when` clause that narrows it/, "catalogue help is shown");
  t.match(out, /\n\nerror\[SP2001\]/, "a blank line between diagnostics");
  t.ok(out.endsWith("\n1 error, 2 warnings\n"));
  t.equal(summaryLine([]), "0 errors, 0 warnings");
  t.equal(renderText([], sources), "0 errors, 0 warnings\n", "no diagnostics: the summary alone");
});

t.test("a span over several lines is underlined to the end of its first line", async (t) => {
  const start = text.indexOf("allow");
  const d = diagnostic("SP3001", src.span(start, text.indexOf("}") + 1), { name: "x" });
  const lines = renderDiagnostic(d, sources).split("\n");
  t.equal(lines[3], '2 | allow "x" {');
  t.equal(lines[4], "  | ^^^^^^^^^^^");
});

t.test("an empty span at the end of the file still gets one caret", async (t) => {
  const d = diagnostic("SP1005", src.span(text.length, text.length), { expected: "`}`", found: "end of file" });
  const lines = renderDiagnostic(d, sources, { cwd: "/repo" }).split("\n");
  t.equal(lines[1], " --> policies/demo.policy:5:1");
  t.equal(lines[3], "5 |", "the empty last line, no trailing space");
  t.equal(lines[4], "  | ^");
});

t.test("tabs are expanded so the carets stay under the text", async (t) => {
  const tabbed = new SourceText("t.policy", 'allow "x" {\n\twhen\tfoo\n}\n');
  const start = tabbed.text.indexOf("foo");
  const d = diagnostic("SP2001", tabbed.span(start, start + 3), { name: "foo" });
  const lines = renderDiagnostic(d, new Map([[tabbed.file, tabbed]])).split("\n");
  t.equal(lines[3], "2 |     when    foo");
  t.equal(lines[4], "  |             ^^^");
});

t.test("the gutter widens with the line number; related spans become notes", async (t) => {
  const body = Array.from({ length: 12 }, (_, i) => `const c${i} = ${i}`).join("\n") + "\nconst c0 = 99\n";
  const many = new SourceText("m.policy", body);
  const first = many.span(6, 8);
  const dupStart = body.lastIndexOf("c0");
  const d = diagnostic("SP2005", many.span(dupStart, dupStart + 2), { name: "c0" }, {
    related: [{ message: "first defined here", span: first }],
  });
  t.equal(
    renderDiagnostic(d, new Map([[many.file, many]])),
    [
      "error[SP2005]: duplicate const `c0`",
      "  --> m.policy:13:7",
      "   |",
      "13 | const c0 = 99",
      "   |       ^^",
      "note: first defined here",
      "  --> m.policy:1:7",
      "   |",
      " 1 | const c0 = 0",
      "   |       ^^",
    ].join("\n"),
  );
});

t.test("without the source text, only the location is shown", async (t) => {
  const d = diagnostic("SP2001", at("pricipal"), { name: "pricipal" }, { hint: "did you mean `principal`?" });
  t.equal(
    renderDiagnostic(d, undefined, { cwd: "/repo" }),
    "error[SP2001]: unknown name `pricipal`\n --> policies/demo.policy:3:8\n  = help: did you mean `principal`?",
  );
});

t.test("colour: ANSI codes only when asked", async (t) => {
  const d = diagnostic("SP2001", at("pricipal"), { name: "pricipal" });
  const plain = renderText([d], sources);
  t.notMatch(plain, /\x1b\[/, "no escape codes by default");
  const coloured = renderText([d], sources, { color: true });
  t.match(coloured, "\x1b[1m\x1b[31merror[SP2001]\x1b[0m", "error header in bold red");
  t.equal(coloured.replace(/\x1b\[[0-9;]*m/g, ""), plain, "same text once the codes are stripped");
});

t.test("shouldColor: a TTY unless NO_COLOR; FORCE_COLOR forces", async (t) => {
  t.equal(shouldColor(false, {}), false, "not a TTY");
  t.equal(shouldColor(undefined, {}), false, "unknown stream");
  t.equal(shouldColor(true, {}), true, "a TTY");
  t.equal(shouldColor(true, { NO_COLOR: "1" }), false, "NO_COLOR");
  t.equal(shouldColor(true, { NO_COLOR: "" }), true, "an empty NO_COLOR counts as unset");
  t.equal(shouldColor(false, { FORCE_COLOR: "1" }), true, "FORCE_COLOR on a pipe");
  t.equal(shouldColor(false, { FORCE_COLOR: "1", NO_COLOR: "1" }), true, "FORCE_COLOR beats NO_COLOR");
  t.equal(shouldColor(true, { FORCE_COLOR: "0" }), true, "FORCE_COLOR=0 forces nothing");
  t.equal(shouldColor(false, { FORCE_COLOR: "false" }), false);
});

t.test("control characters from the policy never reach the terminal raw: shown, with carets still aligned", async (t) => {
  const evil = 'encryption "e\x1b]0;x\x07" {\n  require cipher "a\x1b[2Kb\x9b"\n}\n';
  const s = new SourceText("/repo/e.policy", evil);
  const start = evil.indexOf('"a');
  const d = diagnostic("SP2016", s.span(start, start + 8), { cipher: "a\x1b[2Kb\x9b" }, { hint: "not \x07 this" });
  const rel = { message: "rule \x1b]0;x\x07", span: s.span(11, 20) };
  const out = renderText([{ ...d, related: [rel] }], new Map([[s.file, s]]), { cwd: "/repo" });
  t.notMatch(out, /[\x00-\x08\x0b-\x1f\x7f-\x9f]/, "no control character in the output");
  const lines = out.split("\n");
  t.equal(lines[0], "error[SP2016]: unknown cipher `a\\u001b[2Kb\\u009b`");
  t.equal(lines[3], '2 |   require cipher "a\u241b[2Kb\ufffd"');
  t.equal(lines[4], "  |                  ^^^^^^^^", "one visible character per code unit, so carets line up");
  t.match(out, /= help: not \\u0007 this/);
  t.match(out, /note: rule \\u001b\]0;x\\u0007/);
  t.match(out, /1 \| encryption "e\u241b\]0;x\u2407" \{/);
});

t.test("a very long source line is shown as a window around the span, so output stays proportional to the diagnostics", async (t) => {
  const line = "const a = [" + "1 $, ".repeat(20000) + "1]";
  const s = new SourceText("/repo/long.policy", line + "\n");
  const at = 11 + 5 * 10000 + 2; // the `$` of the 10,001st element
  const d = diagnostic("SP1001", s.span(at, at + 1), { char: "$" });
  const lines = renderDiagnostic(d, new Map([[s.file, s]])).split("\n");
  t.ok(lines[3]!.length <= 140, `the source line is clipped (${lines[3]!.length} characters)`);
  t.match(lines[3], /^1 \| \.\.\.\$, 1 \$, .*\.\.\.$/, "marked as cut at both ends");
  const caret = lines[4]!.indexOf("^");
  t.equal(lines[3]![caret], "$", "the caret is under the character the span starts at");
  t.equal(lines[4]!.slice(caret), "^");
  // Many diagnostics on that line: bounded output (it was the line once per diagnostic, and overflowed a string).
  const many = Array.from({ length: 20000 }, (_, i) => diagnostic("SP1001", s.span(13 + 5 * i, 14 + 5 * i), { char: "$" }));
  const out = renderText(many, new Map([[s.file, s]]));
  t.ok(out.length < 20000 * 400, `output is ${out.length} characters`);
  // The start of a line and a short line are not cut.
  const first = renderDiagnostic(many[0]!, new Map([[s.file, s]])).split("\n")[3]!;
  t.match(first, /^1 \| const a = \[1 \$, .*\.\.\.$/);
});

t.test("bidirectional controls (Trojan Source) are shown, not obeyed: they would reorder the line in a CI log", async (t) => {
  const src = 'const a = "x\u202eb\u2066c" + zz\n';
  const s = new SourceText("/repo/b.policy", src);
  const start = src.indexOf("zz");
  const d = diagnostic("SP2016", s.span(start, start + 2), { cipher: "x\u202eb\u2066c\u200f" });
  const out = renderText([d], new Map([[s.file, s]]), { cwd: "/repo" });
  t.notMatch(out, /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/, "no bidi control in the output");
  const lines = out.split("\n");
  t.equal(lines[0], "error[SP2016]: unknown cipher `x\\u202eb\\u2066c\\u200f`");
  t.equal(lines[3], '1 | const a = "x\ufffdb\ufffdc" + zz');
  t.equal(lines[4], "  | " + " ".repeat(20) + "^^", "one visible character per code unit, so carets line up");
});

t.test("carets go under the characters as a terminal draws them: wide, combining and beyond-BMP text before the span", async (t) => {
  // Columns count UTF-16 code units; the frame's padding counted them too, so the caret sat 4
  // cells left of `zz` after 用户管理 (4 units, 8 cells), 3 right after three e + U+0301
  // (6 units, 3 cells) and 2 right after two 𝐀 (4 units, 2 cells).
  for (const [label, text] of [
    ["wide", "用户管理"],
    ["combining", "e\u0301e\u0301e\u0301"],
    ["beyond the BMP", "\u{1d400}\u{1d400}"],
    ["emoji", "😀x"],
  ] as const) {
    const src = `const a = "${text}" + zz\n`;
    const s = new SourceText("/repo/w.policy", src);
    const start = src.indexOf("zz");
    const lines = renderDiagnostic(diagnostic("SP2001", s.span(start, start + 2), { name: "zz" }), new Map([[s.file, s]])).split("\n");
    const cells = `const a = "`.length + { wide: 8, combining: 3, "beyond the BMP": 2, emoji: 3 }[label] + `" + `.length;
    t.equal(lines[4], "  | " + " ".repeat(cells) + "^^", label);
  }
  // A span over wide text gets a caret per cell.
  const src = 'const a = "用户" + 1\n';
  const s = new SourceText("/repo/w.policy", src);
  const lines = renderDiagnostic(diagnostic("SP2001", s.span(10, 14), { name: "x" }), new Map([[s.file, s]])).split("\n");
  t.equal(lines[4], "  | " + " ".repeat(10) + "^".repeat(6));
});

t.test("zero-width characters and line separators in a source line are shown, so a caret under one points at something", async (t) => {
  const src = 'const a = "root\u200b" + "a\u2028b" + zz\n';
  const s = new SourceText("/repo/z.policy", src);
  const start = src.indexOf("zz");
  const lines = renderDiagnostic(diagnostic("SP2001", s.span(start, start + 2), { name: "zz" }), new Map([[s.file, s]])).split("\n");
  t.equal(lines[3], '1 | const a = "root\ufffd" + "a\ufffdb" + zz');
  t.equal(lines[4], "  | " + " ".repeat(lines[3]!.indexOf("zz") - 4) + "^^");
});
