/**
 * Golden formatting: test/corpus/valid/<case>.fmt.policy is the formatted
 * form of test/corpus/valid/<case>.policy (hand-written for the messy fmt-*
 * cases, recorded and reviewed for the others), and is itself already
 * formatted. A valid case without a golden must already be canonical: it is
 * its own snapshot. Every valid case has one or the other.
 */
import t from "tap";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { format } from "../../src/format/format.js";

const valid = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../corpus/valid");
const goldens = existsSync(valid) ? readdirSync(valid).filter((f) => f.endsWith(".fmt.policy")).sort() : [];

t.test("there are golden cases", async (t) => {
  t.ok(goldens.length >= 4, `at least 4 .fmt.policy goldens (have ${goldens.length})`);
});

for (const golden of goldens) {
  const source = golden.replace(/\.fmt\.policy$/, ".policy");
  t.test(golden, async (t) => {
    t.ok(existsSync(path.join(valid, source)), `${source} exists`);
    if (!existsSync(path.join(valid, source))) return;
    const input = readFileSync(path.join(valid, source), "utf8");
    const expected = readFileSync(path.join(valid, golden), "utf8");
    const got = format(input, source);
    t.same(got.diagnostics, [], "source parses");
    t.equal(got.output, expected, `format(${source}) equals ${golden}`);
    t.not(input, expected, "the case exercises a change");
    t.equal(format(expected, golden).output, expected, "the golden is a fixed point");
  });
}

t.test("every valid case has a fmt snapshot: a golden, or itself when canonical", async (t) => {
  const cases = existsSync(valid) ? readdirSync(valid).filter((f) => f.endsWith(".policy") && !f.endsWith(".fmt.policy")).sort() : [];
  t.ok(cases.length > 0, "there are valid cases");
  for (const source of cases) {
    if (goldens.includes(source.replace(/\.policy$/, ".fmt.policy"))) continue;
    const input = readFileSync(path.join(valid, source), "utf8");
    t.equal(format(input, source).output, input, `${source} is canonical (its own snapshot), or needs a .fmt.policy golden`);
  }
});
