/**
 * The line and column of the first character that is not JSON, for
 * messages about hand-edited files; null for JSON (and for nesting too deep
 * to scan, where JSON.parse's own message is used).
 */
import t from "tap";
import { jsonSyntaxProblem } from "../../src/diagnostics/json-syntax.js";

t.test("the first bad character, by line and column", async (t) => {
  const cases: [string, [number, number, string] | null][] = [
    ['[\n {"id": "a",\n  "tags": [}\n]\n', [3, 12, 'unexpected "}"']],
    ['[\n{"a":1,}\n]', [2, 8, 'unexpected "}"']],
    ["[1,2", [1, 5, "unexpected end of input"]],
    ['{"a" 1}', [1, 6, 'unexpected "1"']],
    ['["a\nb"]', [1, 4, "a control character in a string (write it escaped)"]],
    ['["\\x"]', [1, 3, "a bad escape in a string"]],
    ["[1]x", [1, 4, 'unexpected "x" after the JSON value']],
    ["[\u009b2J]", [1, 2, 'unexpected "\\u009b"']],
    ["[1]\u001b[2J", [1, 4, 'unexpected "\\u001b" after the JSON value']],
    ["", [1, 1, "unexpected end of input"]],
    ["[01]", [1, 3, 'unexpected "1"']],
    ['{"a":tru}', [1, 6, 'unexpected "t"']],
    ['[{"a": [1, 2e5, -0.5, "\\u00e9\\n", true, false, null, {}, []]}]', null],
    [" {} \r\n", null],
    ["[".repeat(200_000), null],
  ];
  for (const [text, want] of cases) {
    let parses = true;
    try {
      JSON.parse(text);
    } catch {
      parses = false;
    }
    if (want === null && text.length < 1000) t.ok(parses, `JSON.parse agrees: ${JSON.stringify(text)}`);
    if (want !== null) t.notOk(parses, `JSON.parse agrees: ${JSON.stringify(text)}`);
    const got = jsonSyntaxProblem(text);
    t.same(got === null ? null : [got.line, got.column, got.message], want, JSON.stringify(text.slice(0, 40)));
  }
});
