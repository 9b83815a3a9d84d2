/**
 * Comments anywhere: every policy in the repository is re-written with
 * comments inserted between tokens at (seeded) random places, on lines of
 * their own or trailing code, and formatting must still keep every comment
 * in order, keep the AST, and be idempotent. This is where comment placement
 * inside expressions, lists and objects gets exercised beyond hand cases.
 */
import t from "tap";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { format } from "../../src/format/format.js";
import { parse } from "../../src/parser/parse.js";
import { policyLexer } from "../../src/parser/tokens.js";
import { hasErrors } from "../../src/diagnostics/diagnostic.js";
import { stripSpans, commentTexts, layoutProblems } from "./strip-spans.js";
import { prng as random } from "../support/prng.js";
import { policyFiles } from "../support/policy-files.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");


/** `text` with `count` comments inserted after random tokens. */
function withComments(text: string, seed: number, count: number): string {
  const ends = policyLexer.tokenize(text).tokens.map((tok) => tok.startOffset + tok.image.length);
  if (ends.length === 0) return text;
  const rnd = random(seed);
  const picks = Array.from({ length: count }, () => ends[Math.floor(rnd() * ends.length)]!).sort((a, b) => b - a);
  let out = text;
  picks.forEach((at, i) => {
    const n = count - i;
    const insert = rnd() < 0.5 ? ` # trailing ${n}\n` : `\n   # own line ${n}\n`;
    out = out.slice(0, at) + insert + out.slice(at);
  });
  return out;
}

const files = [...policyFiles(path.join(root, "policies")), ...policyFiles(path.join(root, "test/corpus"))].filter(
  (f) => !hasErrors(parse(readFileSync(f, "utf8"), f).diagnostics),
);

for (const file of files) {
  const rel = path.relative(root, file);
  t.test(rel, async (t) => {
    const base = readFileSync(file, "utf8");
    for (let seed = 1; seed <= 4; seed++) {
      const text = withComments(base, seed * 7919 + rel.length, 2 + seed * 2);
      const before = parse(text, rel);
      if (hasErrors(before.diagnostics)) {
        t.fail(`seed ${seed}: comments made the text unparsable`);
        continue;
      }
      const first = format(text, rel);
      const after = parse(first.output, rel);
      const ok =
        t.equal(first.internalError, undefined, `seed ${seed}: no internal error`) &&
        t.same(after.diagnostics, [], `seed ${seed}: output parses`) &&
        t.same(commentTexts(after.ast), commentTexts(before.ast), `seed ${seed}: every comment, in order`) &&
        t.same(stripSpans(after.ast), stripSpans(before.ast), `seed ${seed}: same AST`) &&
        t.equal(format(first.output, rel).output, first.output, `seed ${seed}: idempotent`) &&
        t.same(layoutProblems(first.output), [], `seed ${seed}: canonical whitespace`);
      if (!ok) t.comment(`input:\n${text}\noutput:\n${first.output}`);
    }
  });
}
