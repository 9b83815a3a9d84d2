/**
 * Properties of the formatter over every policy in the repository (the
 * directories are read at test time, so new policies are covered as they
 * land): formatting is idempotent, keeps the meaning (same AST without
 * spans, same comments in the same order) and gives canonical text; text
 * with syntax errors is left alone.
 */
import t from "tap";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { format } from "../../src/format/format.js";
import { parse } from "../../src/parser/parse.js";
import { hasErrors } from "../../src/diagnostics/diagnostic.js";
import { stripSpans, commentTexts, layoutProblems } from "./strip-spans.js";
import { policyFiles } from "../support/policy-files.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const files = [...policyFiles(path.join(root, "policies")), ...policyFiles(path.join(root, "test/corpus"))];

t.test("there are policies to format", async (t) => {
  t.ok(files.some((f) => path.basename(f).startsWith("fmt-")), "the formatter's own messy cases are among them");
});

for (const file of files) {
  const rel = path.relative(root, file);
  t.test(rel, async (t) => {
    const text = readFileSync(file, "utf8");
    const first = format(text, rel);
    t.equal(first.internalError, undefined, "no internal error");
    const before = parse(text, rel);
    if (hasErrors(before.diagnostics)) {
      t.equal(first.output, text, "syntax errors: text unchanged");
      t.equal(first.changed, false, "syntax errors: not changed");
      t.same(first.diagnostics, before.diagnostics, "syntax errors: the parser's diagnostics");
      return;
    }
    const second = format(first.output, rel);
    t.equal(second.output, first.output, "idempotent");
    t.equal(second.changed, false, "formatted text is unchanged by formatting");

    const after = parse(first.output, rel);
    t.same(after.diagnostics, [], "output parses cleanly");
    t.same(stripSpans(after.ast), stripSpans(before.ast), "same AST without spans");
    t.same(commentTexts(after.ast), commentTexts(before.ast), "same comments in the same order");
    t.same(layoutProblems(first.output), [], "canonical whitespace");
  });
}
