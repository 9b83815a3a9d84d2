/**
 * Layout does not matter: every policy in the repository, with the
 * whitespace between its tokens replaced by (seeded) random spaces, tabs,
 * newlines and CRLFs, formats to exactly the same text as the original.
 * Only what the layout keeps on purpose is held fixed: blank lines, and
 * whether a comment starts its line.
 */
import t from "tap";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { IToken } from "chevrotain";
import { format } from "../../src/format/format.js";
import { parse } from "../../src/parser/parse.js";
import { policyLexer } from "../../src/parser/tokens.js";
import { hasErrors } from "../../src/diagnostics/diagnostic.js";
import { prng as random } from "../support/prng.js";
import { policyFiles } from "../support/policy-files.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");


/** Tokens that can touch their neighbours without merging into one token. */
const SELF_DELIMITING = new Set(["(", ")", "[", "]", "{", "}", ",", ":"]);

function scramble(text: string, seed: number): string {
  const lexed = policyLexer.tokenize(text);
  const all: IToken[] = [...lexed.tokens, ...((lexed.groups["comments"] as IToken[] | undefined) ?? [])].sort(
    (a, b) => a.startOffset - b.startOffset,
  );
  const rnd = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  let out = "";
  let prevEnd = 0;
  let prev: IToken | null = null;
  for (const tok of all) {
    const gap = text.slice(prevEnd, tok.startOffset);
    const blank = /\n[ \t\r]*\n/.test(gap.replace(/\r\n?/g, "\n"));
    const newline = /[\n\r]/.test(gap);
    const isComment = tok.image.startsWith("#");
    const afterComment = prev !== null && prev.image.startsWith("#");
    if (prev === null) out += newline ? pick(["", "\n", "\r\n  "]) : "";
    else if (blank) out += pick(["\n\n", "\r\n\r\n", "\n \t\n   ", "\n\n\t"]);
    else if (afterComment || (isComment && newline)) out += pick(["\n", "\r\n", "\n\t\t", "\n      "]);
    else if (isComment) out += pick([" ", "\t", "    "]);
    else if (SELF_DELIMITING.has(tok.image) || SELF_DELIMITING.has(prev.image)) out += pick(["", " ", "\n", "\t", "\r\n   "]);
    else out += pick([" ", "  ", "\t", "\n", "\r\n", "\n\t "]);
    out += tok.image;
    prevEnd = tok.startOffset + tok.image.length;
    prev = tok;
  }
  return out + pick(["", "\n", "\r\n", "\n\n\n", "  "]);
}

const files = [...policyFiles(path.join(root, "policies")), ...policyFiles(path.join(root, "test/corpus"))].filter(
  (f) => !hasErrors(parse(readFileSync(f, "utf8"), f).diagnostics),
);

for (const file of files) {
  const rel = path.relative(root, file);
  t.test(rel, async (t) => {
    const text = readFileSync(file, "utf8");
    const expected = format(text, rel).output;
    for (let seed = 1; seed <= 3; seed++) {
      const messy = scramble(text, seed * 104729 + rel.length);
      const got = format(messy, rel);
      t.same(got.diagnostics, [], `seed ${seed}: scrambled text parses`);
      if (!t.equal(got.output, expected, `seed ${seed}: same output as the original`)) t.comment(messy);
    }
  });
}
