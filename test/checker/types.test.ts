/**
 * Types where they are known: SP2012 (operator on the wrong type), SP2013
 * (ordering between different types), SP2014 (`matches` outside detect),
 * SP2019 (bad regex), SP2020 (bad ip literal). Attribute paths are unknown,
 * so nothing is reported on them without a schema.
 */
import t from "tap";
import { runCases } from "./helpers.js";

const rule = (...whens: string[]) => `allow "a" {\n${whens.map((w) => `  when ${w}\n`).join("")}}\n`;

runCases(t, [
  {
    name: "SP2012 like / starts_with / ends_with on a non-string literal or const",
    text: `const n = 5\n` + rule(`n like "5*"`, `principal.id starts_with 5`, `true ends_with "e"`),
    want: [
      { at: "SP2012@3:8-3:9", message: "`like` needs a string, found number" },
      { at: "SP2012@4:33-4:34", message: "`starts_with` needs a string, found number" },
      { at: "SP2012@5:8-5:12", message: "`ends_with` needs a string, found bool" },
    ],
  },
  {
    name: "SP2012 arithmetic outside the evaluator's table",
    text: rule(`principal.n - "1" == 2`, `-"x" == 1`, `5m * 2m == 10m`, `true + 1 == 2`),
    want: [
      { at: "SP2012@2:22-2:25", message: "`-` needs two numbers, two durations, a time and a duration or two times, found string" },
      { at: "SP2012@3:9-3:12", message: "`-` needs a number or a duration, found string" },
      { at: "SP2012@4:8-4:15", message: "`*` needs two numbers or a duration and a number, found duration and duration" },
      { at: "SP2012@5:8-5:12", message: "`+` needs two numbers, two strings, two durations or a time and a duration, found bool" },
    ],
  },
  {
    name: "arithmetic the evaluator supports is accepted: strings, durations, times",
    text: rule(`principal.a + "-suffix" == "x"`, `now - 1h < now`, `age(context.t) + 1h > 2h`, `5m * 2 == 10m`, `now - now == 0s`),
    want: [],
  },
  {
    name: "unary minus on a duration is a (negative) duration, as the evaluator computes it",
    text: rule(`age(context.t) < -5m`, `now + -1h > context.t`, `-(2m) == 0s - 2m`, `-d < 0s`) + `const d = 5m\n`,
    want: [],
  },
  {
    name: "SP2012 set tests on known non-lists, `in` on a string",
    text: rule(`"abc" contains "a"`, `principal.roles contains_any "ops"`, `action in "node.restart"`),
    want: [
      { at: "SP2012@2:8-2:13", message: "`contains` needs a list, found string" },
      { at: "SP2012@3:37-3:42", message: "`contains_any` needs a list, found string" },
      { at: "SP2012@4:18-4:32", message: "`in` needs a list or an ip range, found string" },
    ],
  },
  {
    name: "SP2012 `in` an ip range needs an address",
    text: rule(`5 in ip("10.0.0.0/8")`, `context.ip in ip("10.0.0.0/8")`, `"10.1.1.1" in ip("10.0.0.0/8")`),
    want: [{ at: "SP2012@2:8-2:9", message: "`in` needs an ip address, found number" }],
  },
  {
    name: "SP2012 builtin arguments of a known wrong type",
    text: rule(`lower(5) == "5"`, `size(true) > 0`, `hour(5m) > 3`, `risk(principal.id) > 50 and quarantined(principal.id)`),
    want: [
      { at: "SP2012@2:14-2:15", message: "`lower` needs a string, found number" },
      { at: "SP2012@3:13-3:17", message: "`size` needs a list, string or object, found bool" },
      { at: "SP2012@4:13-4:15", message: "`hour` needs a time, string or number, found duration" },
    ],
  },
  {
    name: "SP2012 not / and / or on non-booleans",
    text: rule(`not "x"`, `principal.ok and 1`),
    want: [
      { at: "SP2012@2:12-2:15", message: "`not` needs a bool, found string" },
      { at: "SP2012@3:25-3:26", message: "`and` needs a bool, found number" },
    ],
  },
  {
    name: "SP2013 ordering between different known types, span is the comparison",
    text: rule(`15m < "abc"`, `age(context.t) < 5`, `size(principal.roles) >= 1m`, `true < false`),
    want: [
      { at: "SP2013@2:8-2:19", message: "cannot compare duration with string", hint: "two numbers, two durations or two RFC 3339 times" },
      { at: "SP2013@3:8-3:26", message: "cannot compare duration with number" },
      { at: "SP2013@4:8-4:35", message: "cannot compare number with duration" },
      { at: "SP2013@5:8-5:20", message: "cannot compare bool with bool" },
    ],
  },
  {
    name: "SP2013 a time compared with a string that is not RFC 3339",
    text: rule(`now > "2026-01-01T00:00:00Z"`, `now < "tomorrow"`, `now > 5m`),
    want: [
      { at: "SP2013@3:8-3:24", message: "cannot compare time with string", hint: "\"tomorrow\" is not an RFC 3339 time" },
      { at: "SP2013@4:8-4:16", message: "cannot compare time with duration" },
    ],
  },
  {
    name: "SP2013 a time compared with epoch seconds is fine (as the evaluator does), unless the number is not a time",
    text: rule(`now >= 1767225600`, `1767225600.5 > now`, `now < 9000000000000`),
    want: [{ at: "SP2013@4:8-4:27", message: "cannot compare time with number", hint: "9000000000000 is not a time in epoch seconds" }],
  },
  {
    name: "unknown types are never reported",
    text: rule(`principal.clearance < context.level`, `resource.size + principal.quota > 3`, `principal.name like "a*"`, `(context.v ?? 1) < 2`),
    want: [],
  },
  {
    name: "SP2014 matches outside detect, span is the operator",
    text: rule(`principal.id matches "^a"`) + `const m = "x" matches "x"\n`,
    want: [
      { at: "SP2014@2:21-2:28", hint: "use `like`, `starts_with` or `ends_with`" },
      "SP2014@4:15-4:22",
    ],
  },
  {
    name: "SP2019 invalid regex (u flag), span is the pattern; matches is fine in detect",
    text: `const pat = "a{"\ndetect "d" {\n  severity low\n  where user.name matches "(a" or user.id matches pat or host.name matches "^web-[0-9]+$"\n}\n`,
    want: [
      { at: "SP2019@4:27-4:31", message: "invalid regular expression: Unterminated group" },
      { at: "SP2019@4:51-4:54", message: "invalid regular expression" },
    ],
  },
  {
    name: "SP2020 invalid ip() literal, also through a const",
    text: `const bad = "10.0.0.256"\n` + rule(`context.ip in ip("10.0.0.0/33")`, `context.ip in ip(bad)`, `context.ip in ip("fe80::1%eth0")`, `context.ip in ip("2001:db8::/32")`),
    want: [
      { at: "SP2020@3:25-3:38", message: "invalid IP address or range `10.0.0.0/33`", hint: "prefix length 33 is above 32" },
      { at: "SP2020@4:25-4:28", message: "`10.0.0.256`" },
      { at: "SP2020@5:25-5:39", hint: "not an IPv6 address" },
    ],
  },
]);
