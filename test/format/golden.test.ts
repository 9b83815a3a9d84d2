/**
 * Golden formatting: test/corpus/valid/<case>.fmt.policy is the formatted
 * form of test/corpus/valid/<case>.policy, written by hand, and is itself
 * already formatted.
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
