/**
 * Odd but possible input: every policy in the repository with (seeded)
 * random tokens dropped or doubled. What still parses must format
 * idempotently to the same AST with every comment; what does not parse must
 * come back unchanged with the parser's diagnostics. Nothing may throw.
 */
import t from "tap";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { format } from "../../src/format/format.js";
import { parse } from "../../src/parser/parse.js";
import { policyLexer } from "../../src/parser/tokens.js";
import { hasErrors } from "../../src/diagnostics/diagnostic.js";
import { stripSpans, commentTexts } from "./strip-spans.js";
import { prng as random } from "../support/prng.js";
import { policyFiles } from "../support/policy-files.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");


function mutate(text: string, seed: number): string {
  const tokens = policyLexer.tokenize(text).tokens;
  if (tokens.length === 0) return text;
  const rnd = random(seed);
  const tok = tokens[Math.floor(rnd() * tokens.length)]!;
  const end = tok.startOffset + tok.image.length;
  return rnd() < 0.5 ? text.slice(0, tok.startOffset) + text.slice(end) : text.slice(0, end) + " " + tok.image + text.slice(end);
}

const files = [...policyFiles(path.join(root, "policies")), ...policyFiles(path.join(root, "test/corpus"))];

for (const file of files) {
  const rel = path.relative(root, file);
  t.test(rel, async (t) => {
    const base = readFileSync(file, "utf8");
    let parsed = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const text = mutate(base, seed * 65537 + rel.length);
      const before = parse(text, rel);
      const first = format(text, rel);
      if (!t.equal(first.internalError, undefined, `seed ${seed}: no internal error`)) continue;
      if (hasErrors(before.diagnostics)) {
        t.ok(first.output === text && !first.changed, `seed ${seed}: text with syntax errors unchanged`);
        continue;
      }
      parsed++;
      const after = parse(first.output, rel);
      const ok =
        t.same(after.diagnostics, [], `seed ${seed}: output parses`) &&
        t.same(stripSpans(after.ast), stripSpans(before.ast), `seed ${seed}: same AST`) &&
        t.same(commentTexts(after.ast), commentTexts(before.ast), `seed ${seed}: same comments`) &&
        t.equal(format(first.output, rel).output, first.output, `seed ${seed}: idempotent`);
      if (!ok) t.comment(text);
    }
    t.comment(`${parsed} of 12 mutants parsed`);
  });
}
