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
