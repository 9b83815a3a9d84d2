/**
 * Spec conformance of the checker, written from spec/LANGUAGE.md section 3 as an
 * outside tester reads it: "`<`, `<=`, `>`, `>=` need two numbers, two durations,
 * or two RFC 3339 times; anything else is an error", and "types are checked where
 * they are known (literals, consts, schema) ... a compile error with a span".
 * A string literal that is not an RFC 3339 time can never be ordered, whatever
 * the other side turns out to be, so it is caught at load time rather than
 * erroring on every request (denying every request in a `deny` rule).
 */
import t from "tap";
import { runCases } from "./helpers.js";

const rule = (...whens: string[]) => `allow "a" {\n${whens.map((w) => `  when ${w}\n`).join("")}}\n`;

runCases(t, [
  {
    name: "SP2013 two known strings ordered, one not an RFC 3339 time",
    text: rule(`"a" < "b"`, `upper("a") >= "b"`, `"2026-01-01T00:00:00Z" < "2026-02-01T00:00:00Z"`),
    want: [
      { at: "SP2013@2:8-2:17", message: "cannot compare string with string", hint: '"a" is not an RFC 3339 time' },
      { at: "SP2013@3:8-3:25", message: "cannot compare string with string", hint: '"A" is not an RFC 3339 time' },
    ],
  },
  {
    name: "SP2012 an attribute ordered against a string literal or const that is not a time",
    text: `const limit = "12h"\n` + rule(`context.session_age > "12h"`, `"tomorrow" <= resource.expires`, `principal.level < limit`, `resource.expires < "2026-01-01T00:00:00Z"`),
    want: [
      { at: "SP2012@3:30-3:35", message: "`>` needs a number, a duration or an RFC 3339 time, found string", hint: "a duration is written without quotes: 12h" },
      { at: "SP2012@4:8-4:18", message: "`<=` needs a number, a duration or an RFC 3339 time, found string", hint: '"tomorrow" is not an RFC 3339 time' },
      { at: "SP2012@5:26-5:31", hint: "a duration is written without quotes: 12h" },
    ],
  },
]);
