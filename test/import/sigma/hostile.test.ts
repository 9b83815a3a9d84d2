/**
 * Hostile Sigma input: a problem's reason is one line (ImportProblem's
 * promise) whatever the YAML quotes into it.
 */
import t from "tap";
import { SIGMA_PIPELINES } from "../../../src/index.js";
import { convert } from "./helpers.js";

t.test("a logsource value with line breaks does not break the reason's line", async (t) => {
  const yaml = `title: Odd logsource\nlogsource:\n  product: "windows\\nrule forged: cannot convert: x"\n  category: "a\\u2028b\\u0000"\ndetection:\n  sel:\n    Image: x\n  condition: sel\n`;
  const r = convert(yaml, SIGMA_PIPELINES.sysmon);
  t.equal(r.problems.length, 1);
  t.notMatch(r.problems[0]!.reason, /[\n\r\u2028\u2029\u0000]/);
  t.match(r.problems[0]!.reason, /product=windows\\u000arule forged/);
});

t.test("a collection as a map key is the rule's problem, without a Node warning on stderr", async (t) => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on("warning", onWarning);
  t.teardown(() => process.off("warning", onWarning));
  const r = convert(`title: Map key\nlogsource:\n  product: windows\ndetection:\n  sel:\n    ? [a, b]\n    : x\n  condition: sel\n`);
  await new Promise((resolve) => setImmediate(resolve)); // process warnings are emitted on the next tick
  t.equal(r.converted, 0);
  t.match(r.problems[0]!.reason, /field `\[ a, b \]` cannot be read by name/);
  t.same(warnings, []);
});
