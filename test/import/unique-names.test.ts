/**
 * Rule names made unique by the importers (src/import/unique-names.ts): the
 * names are NAME, NAME-2, NAME-3, ... as before, and the search for a free
 * one resumes where it stopped, so n rules of one title cost about 2n
 * look-ups (the loop that started at 2 every time made n^2 / 2).
 */
import t from "tap";
import { UniqueNames } from "../../src/import/unique-names.js";
import { convertJsonRulesEngine } from "../../src/index.js";
import { convert } from "./sigma/helpers.js";

class CountingSet extends Set<string> {
  lookups = 0;
  override has(value: string): boolean {
    this.lookups++;
    return super.has(value);
  }
}

t.test("the names are the first free ones, as before", async (t) => {
  const names = new UniqueNames();
  const got = ["a", "a", "a-2", "b", "a", "a-3", "a-2", "a"].map((n) => names.take(n));
  t.same(got, ["a", "a-2", "a-2-2", "b", "a-3", "a-3-2", "a-2-3", "a-4"]);
  const taken = new UniqueNames(new Set(["x-2", "x-3", "x-5"]));
  t.same([taken.take("x"), taken.take("x"), taken.take("x"), taken.take("x")], ["x", "x-4", "x-6", "x-7"]);
});

t.test("n names of one title cost a linear number of look-ups", async (t) => {
  const used = new CountingSet();
  const names = new UniqueNames(used);
  const n = 4000;
  for (let i = 0; i < n; i++) names.take("same");
  t.equal(used.size, n);
  t.ok(used.lookups <= 2 * n, `${used.lookups} look-ups for ${n} names (about 8 million before)`);
});

t.test("both importers number repeated names", async (t) => {
  const sigma = convert([1, 2, 3].map((i) => `title: Same\nlogsource:\n  product: test\ndetection:\n  sel:\n    F: v${i}\n  condition: sel\n`));
  t.same([...sigma.policy.matchAll(/^detect "([^"]+)"/gm)].map((m) => m[1]), ["Same", "Same-2", "Same-3"]);
  const leaf = { fact: "principal", path: "$.level", operator: "equal", value: 1 };
  const jre = convertJsonRulesEngine([{ name: "r.json", doc: [1, 2, 3].map(() => ({ name: "same", conditions: { all: [leaf] }, event: { type: "allow" } })) }]);
  t.same([...jre.policy.matchAll(/^allow "([^"]+)"/gm)].map((m) => m[1]), ["same", "same-2", "same-3"]);
});
