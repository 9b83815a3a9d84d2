/**
 * Sigma `re` values (PCRE) to `matches` patterns (ECMAScript, `u` flag):
 * the written form, and matching behaviour as PCRE defines it, checked with
 * the pattern the engine will compile (on lowercased input when folded).
 */
import t from "tap";
import { translateRegex } from "../../../src/import/sigma/regex.js";
import { Unconvertible } from "../../../src/import/sigma/model.js";
import { lowerText } from "../../../src/checker/values.js";

function matches(pattern: string, flags: { i?: boolean; m?: boolean; s?: boolean }, input: string): boolean {
  const r = translateRegex(pattern, flags);
  // lowerText is what the engine's lower(F) does to the event's field.
  return new RegExp(r.pattern, "u").test(r.fold ? lowerText(input) : input);
}

t.test("written form: PCRE literals become what strict ECMAScript accepts", async (t) => {
  const rows: [string, string][] = [
    [String.raw`\-\"\'\ \#\%\@\:\,\=\!\<\>\&\~`, `-"' #%@:,=!<>&~`],
    [String.raw`a{b}c]`, String.raw`a\{b\}c\]`],
    [String.raw`x{2,}y{,3}z{1}`, "x{2,}y{0,3}z{1}"],
    [String.raw`(?P<n>a)(?P=n)`, String.raw`(?<n>a)\k<n>`],
    [String.raw`\Aabc\z`, "^abc$"],
    [String.raw`\Qa.b*\E`, String.raw`a\.b\*`],
    [String.raw`[]a-]`, String.raw`[\]a\-]`],
    [String.raw`[[:digit:][:upper:]]`, "[0-9A-Z]"],
    [String.raw`\x41\x{263A}\101\t`, "A\u263aA\\t"],
    ["a(?#comment)b", "ab"],
    [String.raw`\/path\/`, "/path/"],
  ];
  for (const [pcre, js] of rows) t.equal(translateRegex(pcre).pattern, js, pcre);
});

t.test("matching follows PCRE", async (t) => {
  type Row = [pattern: string, flags: { i?: boolean; m?: boolean; s?: boolean }, input: string, want: boolean];
  const rows: Row[] = [
    [String.raw`\s-[FTd]\s`, {}, "ls -F x", true],
    [String.raw`\s-[FTd]\s`, {}, "ls -f x", false],
    ["^Get-[A-Z]+$", { i: true }, "get-item", true],
    ["^Get-[A-Z]+$", { i: true }, "GET-ITEM", true],
    ["^Get-[A-Z]+$", {}, "get-item", false],
    ["(?i)ipfs\\.io", {}, "IPFS.IO", true],
    ["[^a-z]x", { i: true }, "Ax", false],
    ["[^a-z]x", { i: true }, "1x", true],
    ["[^a-z]x", {}, "Ax", true],
    ["[A-F]{2}", { i: true }, "ef", true],
    ["[A-F]{2}", { i: true }, "eg", false],
    [String.raw`\x41`, { i: true }, "a", true],
    [String.raw`[\x41-\x43]`, { i: true }, "b", true],
    [String.raw`\bfoo\b`, {}, "a foo b", true],
    [String.raw`\bfoo\b`, {}, "afoob", false],
    ["a.b", {}, "a\nb", false],
    ["a.b", { s: true }, "a\nb", true],
    ["(?s)a.b", {}, "a\nb", true],
    ["^x$", {}, "w\nx", false],
    ["^x$", { m: true }, "w\nx\ny", true],
    ["(?m)^x$", {}, "wx\ny", false],
    ["(a|b)\\1", {}, "aa", true],
    ["(a|b)\\1", {}, "ab", false],
    ["(.){200,}", {}, "x".repeat(200), true],
    ["(.){200,}", {}, "x".repeat(199), false],
    ["a{,2}b", {}, "aab", true],
    [String.raw`\p{Lu}\d`, {}, "É1", true],
    [String.raw`\p{Lu}\d`, {}, "é1", false],
    ["ΟΔΟΣ", { i: true }, "οδος", true], // PCRE folds Σ, σ and ς together
    ["ΟΔΟΣ", { i: true }, "ΟΔΟΣΚΑΛΗ", true],
    ["οδος$", { i: true }, "ΟΔΟΣ", true],
    ["[ς]", { i: true }, "Σ", true],
    ["[^ς]", { i: true }, "σ", false],
    ["Straße", { i: true }, "STRASSE", false], // a documented difference: PCRE folds too, not to "ss"
  ];
  for (const [pattern, flags, input, want] of rows) t.equal(matches(pattern, flags, input), want, `${pattern} ${JSON.stringify(flags)} on ${JSON.stringify(input)}`);
});

t.test("constructs without an equivalent are reported, never approximated", async (t) => {
  const rows: [string, RegExp][] = [
    ["a(?i)b", /inline flags/],
    ["(?x) a b", /inline flag `x`/],
    ["(?>ab)", /group `\(\?>a` has no equivalent/],
    ["a*+", /possessive/],
    [String.raw`\Ga`, /`\\G` has no equivalent/],
    [String.raw`\K`, /`\\K` has no equivalent/],
    [String.raw`\R`, /`\\R` has no equivalent/],
    [String.raw`\h`, /`\\h` has no equivalent/],
    [String.raw`\p{Greek}`, /not a general category/],
    [String.raw`\p{Lu}`, /case property under case-insensitive/],
    ["[[:punct:]]", /POSIX class/],
    ["*a", /nothing to repeat/],
    ["(a", /missing `\)`/],
    ["a)", /unbalanced/],
    ["[a", /missing `\]`/],
    [String.raw`\2(a)`, /backreference/],
    ["[z-a]", /out of order/],
    ["(?<n>a)(?<n>b)", /regular expression: /],
  ];
  for (const [pattern, reason] of rows) {
    const flags = pattern === String.raw`\p{Lu}` ? { i: true } : {};
    t.throws(() => translateRegex(pattern, flags), Unconvertible, pattern);
    try {
      translateRegex(pattern, flags);
    } catch (err) {
      t.match((err as Error).message, reason, pattern);
    }
  }
});
