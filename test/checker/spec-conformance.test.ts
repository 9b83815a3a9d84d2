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
    text:
      `const limit = "12h"\n` +
      rule(`context.session_age > "12h"`, `"tomorrow" <= resource.expires`, `principal.level < limit`, `resource.expires < "2026-01-01T00:00:00Z"`, `principal.clearance >= "3"`),
    want: [
      { at: "SP2012@3:30-3:35", message: "`>` needs a number, a duration or an RFC 3339 time, found string", hint: "a duration is written without quotes: 12h" },
      { at: "SP2012@4:8-4:18", message: "`<=` needs a number, a duration or an RFC 3339 time, found string", hint: '"tomorrow" is not an RFC 3339 time' },
      { at: "SP2012@5:26-5:31", hint: "a duration is written without quotes: 12h" },
      { at: "SP2012@7:31-7:34", hint: "did you mean `3`?" },
    ],
  },
  {
    // The checker must read times exactly as the evaluator does: a date the calendar does not
    // have passed the checker and then errored on every request.
    name: "SP2013 / SP2012 a time literal the calendar does not have, or with more than 9 fraction digits",
    text: rule(
      `now > "2026-02-30T00:00:00Z"`,
      `now > "2025-02-29T00:00:00Z"`,
      `now > "2024-02-29T00:00:00Z"`,
      `now < "2026-01-01T00:00:00.1234567891Z"`,
      `resource.t < "2026-04-31T00:00:00Z"`,
    ),
    want: [
      { at: "SP2013@2:8-2:36", hint: '"2026-02-30T00:00:00Z" is not an RFC 3339 time' },
      "SP2013@3:8-3:36",
      "SP2013@5:8-5:47",
      { at: "SP2012@6:21-6:43", hint: '"2026-04-31T00:00:00Z" is not an RFC 3339 time' },
    ],
  },
  {
    // "const values ... are folded at compile time": a const that cannot be a value is a load-time
    // error, as docs/language.md promises, not an error of every rule that reads it.
    name: "SP2012 age / hour / weekday of a constant that is not a time, in consts and rules",
    text:
      `const h = hour("nope")
` +
      rule(`hour(now) == h`, `weekday("2026-02-30T00:00:00Z") == "monday"`, `age("2026-01-01") > 1h`, `hour(9000000000000) == 1`, `hour(1767225600) == 0`),
    want: [
      { at: "SP2012@1:16-1:22", message: "`hour` needs an RFC 3339 time or epoch seconds, found string", hint: '"nope" is not an RFC 3339 time' },
      { at: "SP2012@4:16-4:38", message: "`weekday` needs an RFC 3339 time or epoch seconds" },
      { at: "SP2012@5:12-5:24", message: "`age` needs an RFC 3339 time or epoch seconds" },
      { at: "SP2012@6:13-6:26", message: "found number", hint: "9000000000000 is not a time in epoch seconds" },
    ],
  },
]);
