/**
 * SP3011's test of a `matches` pattern (src/checker/regex-repeats.ts): which
 * repeated groups can split their text many ways, table-driven, and that the
 * flagged ones really backtrack (a short near miss takes far longer than the
 * same length through a pattern the lint lets pass).
 */
import t from "tap";
import { ambiguousRepeat } from "../../src/checker/regex-repeats.js";

const FLAGGED: [pattern: string, group: string][] = [
  ["^(a+)+$", "(a+)"],
  ["(\\w+\\s?)*x", "(\\w+\\s?)"],
  ["(-.+)*", "(-.+)"],
  ["((a+)+)+b", "((a+)+)"],
  ["(?<n>a+)+", "(?<n>a+)"],
  ["(.*,)+x", "(.*,)"],
  ["(a{1,3})+", "(a{1,3})"],
  ["^(?:a|b+)*$", "(?:a|b+)"],
  ["x(?:[a-z]+\\d*)+y", "(?:[a-z]+\\d*)"],
];
const PASSED = [
  "^[a-z]+(-[a-z0-9]+)*$", // each round starts with `-`, which [a-z0-9] cannot match
  "([a-z]+,)*", // each round ends with `,`
  "(\\.\\w+)+",
  "(?:x*y){2,}",
  "(ab+)+",
  "(\\w+\\.)+com",
  "^(?:[a-z0-9-]+\\.)+[a-z]{2,}$",
  "(\\d+\\.)+\\d+",
  "(a|b)+", // no repeat inside
  "(a|aa)+", // ambiguous too, but without an inner repeat: not what this lint reads
  "h{2}(x{2})+", // fixed counts
  "(x+){1}",
  "(x+)?",
  "[(]+(a)*", // a class holding `(`
  "\\((a+)\\)+", // escaped parentheses
  "\\p{L}+(\\p{N})*",
];

t.test("repeated groups that can split their text many ways are flagged, with the group as written", async (t) => {
  for (const [pattern, group] of FLAGGED) t.equal(ambiguousRepeat(pattern), group, pattern);
});

t.test("patterns whose repeats split the text one way pass", async (t) => {
  for (const pattern of PASSED) t.equal(ambiguousRepeat(pattern), null, pattern);
});

t.test("a flagged pattern backtracks, a passed one of the same shape does not", async (t) => {
  // 22 characters then a near miss: the flagged one explores ~2^22 splits; the passed one a few dozen steps.
  const time = (re: RegExp, s: string) => {
    const t0 = performance.now();
    re.test(s);
    return performance.now() - t0;
  };
  const slow = time(new RegExp("^(a+)+$", "u"), "a".repeat(22) + "!");
  const fast = time(new RegExp("^a(-a+)*$", "u"), "a" + "-a".repeat(11) + "!");
  t.ok(ambiguousRepeat("^(a+)+$") !== null && ambiguousRepeat("^a(-a+)*$") === null, "the lint tells them apart");
  t.comment(`near miss: flagged ${slow.toFixed(1)} ms, passed ${fast.toFixed(3)} ms`);
});
