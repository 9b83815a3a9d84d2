/**
 * Sigma value semantics, one modifier at a time, proven by running the
 * converted rule through the real correlation engine: each row lists events
 * that must fire and events that must not (spec: Sigma rules specification
 * "General", "String Wildcard", "Escaping", "Special Field Values"; the
 * modifiers appendix). Every run also asserts that no condition raised an
 * evaluation error, whatever the event's field types.
 */
import t from "tap";
import { readFileSync } from "node:fs";
import path from "node:path";
import { CORPUS } from "./corpus-files.js";
import { convert, fires, rule, whereOf } from "./helpers.js";
import { SIGMA_PIPELINES } from "../../../src/index.js";
import { numberText } from "../../../src/import/sigma/expr.js";

type Ev = Record<string, unknown>;
interface Row {
  name: string;
  /** The `detection:` body (indented two spaces), condition included. */
  detection: string;
  yes: Ev[];
  no: Ev[];
  /** Expected `where` text, where the exact form matters. */
  where?: string;
}

/** Field types that must never match a string test, and never raise an error. */
const ODD: Ev[] = [{}, { F: null }, { F: 5 }, { F: true }, { F: ["a"] }, { F: { a: 1 } }];

const ROWS: Row[] = [
  {
    name: "plain string: case-insensitive equality",
    detection: String.raw`  sel:
    F: 'C:\Windows\System32\cmd.exe'
  condition: sel`,
    yes: [{ F: "C:\\Windows\\System32\\cmd.exe" }, { F: "c:\\windows\\system32\\CMD.EXE" }],
    no: [{ F: "C:\\Windows\\System32\\cmd.exe " }, { F: "xC:\\Windows\\System32\\cmd.exe" }, ...ODD],
    where: String.raw`type(F ?? false) == "string" and lower(F) == "c:\\windows\\system32\\cmd.exe"`,
  },
  {
    name: "a value without letters compares exactly, without lower()",
    detection: "  sel:\n    F: '/'\n  condition: sel",
    yes: [{ F: "/" }],
    no: [{ F: "//" }, ...ODD],
    where: `(F ?? false) == "/"`,
  },
  {
    name: "empty string matches only an empty value",
    detection: "  sel:\n    F: ''\n  condition: sel",
    yes: [{ F: "" }],
    no: [{ F: " " }, ...ODD],
  },
  {
    name: "`*` wildcard at the start: ends_with",
    detection: String.raw`  sel:
    F: '*\cmd.exe'
  condition: sel`,
    yes: [{ F: "D:\\x\\CMD.exe" }, { F: "\\cmd.exe" }],
    no: [{ F: "cmd.exe" }, { F: "\\cmd.exe.bak" }, ...ODD],
    where: String.raw`type(F ?? false) == "string" and lower(F) ends_with "\\cmd.exe"`,
  },
  {
    name: "`*` in the middle: like, matching across line breaks",
    detection: "  sel:\n    F: 'a*b*c'\n  condition: sel",
    yes: [{ F: "abc" }, { F: "A--B--C" }, { F: "a\nb\nc" }],
    no: [{ F: "ab" }, { F: "abcd" }, ...ODD],
  },
  {
    name: "`?` matches exactly one character",
    detection: "  sel:\n    F: 'prog?.exe'\n  condition: sel",
    yes: [{ F: "progA.exe" }, { F: "PROG1.EXE" }, { F: "prog\n.exe" }],
    no: [{ F: "prog.exe" }, { F: "progAB.exe" }, { F: "progAxexe" }, ...ODD],
  },
  {
    name: "escaped wildcards are literal",
    detection: String.raw`  sel:
    F: 'what\?\*'
  condition: sel`,
    yes: [{ F: "What?*" }],
    no: [{ F: "whatX*" }, { F: "what?x" }, ...ODD],
  },
  {
    name: "a backslash before a plain character is a backslash; `\\\\*` is a backslash then a wildcard",
    detection: String.raw`  sel:
    F: 'C:\Users\\*'
  condition: sel`,
    yes: [{ F: "C:\\Users\\alice" }, { F: "c:\\users\\" }],
    no: [{ F: "C:\\Users" }, { F: "C:\\Usersalice" }, ...ODD],
    where: String.raw`type(F ?? false) == "string" and lower(F) starts_with "c:\\users\\"`,
  },
  {
    name: "three backslashes: a backslash and a literal star",
    detection: String.raw`  sel:
    F: 'a\\\*'
  condition: sel`,
    yes: [{ F: "a\\*" }],
    no: [{ F: "a\\x" }, { F: "a\\" }],
  },
  {
    name: "a list of values is OR; literals share one `in`",
    detection: "  sel:\n    F:\n      - alpha\n      - Beta\n      - 7\n  condition: sel",
    yes: [{ F: "ALPHA" }, { F: "beta" }, { F: 7 }, { F: "7" }],
    no: [{ F: "gamma" }, { F: 8 }, ...ODD],
  },
  {
    name: "numbers match the number or its decimal text; so does numeric text",
    detection: "  sel:\n    EventID: 4624\n    Port: '445'\n  condition: sel",
    yes: [{ EventID: 4624, Port: 445 }, { EventID: "4624", Port: "445" }],
    no: [{ EventID: 4625, Port: 445 }, { EventID: 4624, Port: "0445" }, { EventID: 4624 }],
    where: `(EventID ?? false) in [4624, "4624"] and (Port ?? false) in ["445", 445]`,
  },
  {
    name: "a map is AND; a list of maps is OR of ANDs",
    detection: "  sel:\n    - A: x\n      B: y\n    - C: z\n  condition: sel",
    yes: [{ A: "x", B: "Y" }, { C: "z" }, { A: "x", C: "z" }],
    no: [{ A: "x" }, { B: "y" }, { A: "x", B: "n", C: "n" }],
  },
  {
    name: "contains, startswith, endswith",
    detection: "  a:\n    F|contains: mid\n  b:\n    G|startswith: pre\n  c:\n    H|endswith: post\n  condition: a and b and c",
    yes: [{ F: "xMIDy", G: "Prefix", H: "lamppost" }, { F: "mid", G: "pre", H: "post" }],
    no: [{ F: "mi d", G: "pre", H: "post" }, { F: "mid", G: "xpre", H: "post" }, { F: "mid", G: "pre", H: "posts" }],
  },
  {
    name: "contains|all needs every value",
    detection: "  sel:\n    F|contains|all:\n      - ' -a '\n      - ' -b '\n  condition: sel",
    yes: [{ F: "cmd -b  -a x" }, { F: "x -A  -B " }],
    no: [{ F: "cmd -a x" }, { F: "cmd -b " }, ...ODD],
  },
  {
    name: "contains with wildcards inside the value",
    detection: "  sel:\n    F|contains: 'a?c*e'\n  condition: sel",
    yes: [{ F: "xxABCde" }, { F: "abce" }],
    no: [{ F: "ace" }, { F: "xacxe" }],
  },
  {
    // lower() gave a word-final capital sigma the final form: "ΟΔΟΣ" lowered to "οδος" while
    // "ΟΔΟΣΚΑΛΗ" lowered to "οδοσκαλη", so the rule missed the very text it names.
    name: "Greek sigma: Σ, σ and final ς are one letter to a case-insensitive test, wherever it stands",
    detection: "  a:\n    F|contains: 'ΟΔΟΣ'\n  b:\n    G|startswith: 'ΟΔΟΣ'\n  c:\n    H: 'ΟΔΟΣ'\n  condition: a and b and c",
    yes: [{ F: "ΟΔΟΣΚΑΛΗ", G: "ΟΔΟΣΤΡΩΜΑ", H: "ΟΔΟΣ" }, { F: "η οδος", G: "οδοσ", H: "οδος" }, { F: "ΟΔΟΣ ΚΑΛΗ", G: "Οδος", H: "Οδοσ" }],
    no: [{ F: "ΟΔΟ", G: "ΟΔΟΣ", H: "ΟΔΟΣ" }, { F: "ΟΔΟΣ", G: "ΟΔΟ", H: "ΟΔΟΣ" }, { F: "ΟΔΟΣ", G: "ΟΔΟΣ", H: "ΟΔΟ" }],
  },
  {
    name: "cased: case-sensitive",
    detection: "  sel:\n    F|cased|contains: Foo\n  condition: sel",
    yes: [{ F: "xFoo" }],
    no: [{ F: "xfoo" }, { F: "FOO" }, ...ODD],
  },
  {
    name: "null: the field is absent or null",
    detection: "  sel:\n    F: null\n  condition: sel",
    yes: [{}, { F: null }],
    no: [{ F: "" }, { F: 0 }, { F: "null" }],
  },
  {
    name: "not null: a selection on null, negated",
    detection: "  sel:\n    A: x\n  filter:\n    F: null\n  condition: sel and not filter",
    yes: [{ A: "x", F: "" }, { A: "x", F: 1 }],
    no: [{ A: "x" }, { A: "x", F: null }],
  },
  {
    name: "exists: true and false (null counts as present)",
    detection: "  a:\n    F|exists: true\n  b:\n    G|exists: false\n  condition: a and b",
    yes: [{ F: "x" }, { F: null }, { F: 0 }],
    no: [{}, { F: "x", G: null }, { G: 1 }],
    where: "(F ?? 0) == (F ?? 1) and not ((G ?? 0) == (G ?? 1))",
  },
  {
    name: "exists on a nested field",
    detection: "  sel:\n    a.b.c|exists: true\n  condition: sel",
    yes: [{ a: { b: { c: 1 } } }, { a: { b: { c: null } } }],
    no: [{}, { a: null }, { a: { b: null } }, { a: { b: {} } }, { a: { b: "str" } }],
  },
  {
    name: "nested paths; a segment that is not an identifier",
    detection: "  sel:\n    process.command_line|contains: whoami\n    http.x-forwarded-for: 1.2.3.4\n  condition: sel",
    yes: [{ process: { command_line: "cmd /c WHOAMI" }, http: { "x-forwarded-for": "1.2.3.4" } }],
    no: [{ process: { command_line: "id" }, http: { "x-forwarded-for": "1.2.3.4" } }, { process: null, http: {} }, {}],
  },
  {
    name: "a path rooted at a word that starts items (ECS package.name)",
    detection: "  sel:\n    package.name|startswith: lib\n    test.suite: canary\n  condition: sel",
    yes: [{ package: { name: "libssl" }, test: { suite: "canary" } }],
    no: [{ package: { name: "openssl" }, test: { suite: "canary" } }, { package: null, test: { suite: "canary" } }, {}],
  },
  {
    name: "re: case-sensitive by default, unanchored",
    detection: String.raw`  sel:
    F|re: '\s-[FTd]\s'
  condition: sel`,
    yes: [{ F: "ls -F x" }, { F: "a -d b" }],
    no: [{ F: "ls -f x" }, { F: "ls -F" }, ...ODD],
  },
  {
    name: "re|i and a leading (?i): case-insensitive",
    detection: "  a:\n    F|re|i: '^Get-[A-Z]+$'\n  b:\n    G|re: '(?i)ipfs\\.io'\n  condition: a and b",
    yes: [{ F: "get-item", G: "x.IPFS.IO/y" }, { F: "GET-ITEM", G: "ipfs.io" }],
    no: [{ F: "get-item1", G: "ipfs.io" }, { F: "get-item", G: "ipfsxio" }],
  },
  {
    name: "re: PCRE literals that ECMAScript's strict syntax rejects",
    detection: String.raw`  sel:
    F|re: '\-\"x{ab\/'
  condition: sel`,
    yes: [{ F: '-"x{ab/' }],
    no: [{ F: '-"xab/' }],
  },
  {
    name: "re|s: dot matches line breaks; re|m: anchors at lines",
    detection: "  a:\n    F|re|s: '^a.b$'\n  b:\n    G|re|m: '^x$'\n  condition: a and b",
    yes: [{ F: "a\nb", G: "w\nx\ny" }],
    no: [{ F: "a\n\nb", G: "w\nx\ny" }, { F: "a\nb", G: "wx\ny" }],
  },
  {
    name: "cidr: IPv4 and IPv6 ranges, any of a list",
    detection: "  sel:\n    F|cidr:\n      - 10.0.0.0/8\n      - 'fd00::/8'\n  condition: sel",
    yes: [{ F: "10.1.2.3" }, { F: "fd12::1" }],
    no: [{ F: "11.0.0.1" }, { F: "fe80::1" }, ...ODD],
  },
  {
    name: "windash: a leading dash or slash matches any of - / – — ―",
    detection: "  sel:\n    F|windash|contains: ' -enc '\n  condition: sel",
    yes: [{ F: "ps -enc x" }, { F: "ps /enc x" }, { F: "ps \u2013enc x" }, { F: "ps \u2014ENC x" }, { F: "ps \u2015enc x" }],
    no: [{ F: "ps enc x" }, { F: "ps +enc x" }, ...ODD],
  },
  {
    name: "windash leaves a dash inside a word alone",
    detection: "  sel:\n    F|windash: 'a-b'\n  condition: sel",
    yes: [{ F: "A-B" }],
    no: [{ F: "a/b" }],
  },
  {
    name: "fieldref: two fields with the same value",
    detection: "  sel:\n    A|fieldref: B\n  condition: sel",
    yes: [{ A: "x", B: "x" }, { A: 1, B: 1 }],
    no: [{ A: "x", B: "y" }, { A: "x" }, { B: "x" }, {}, { A: "x", B: "X" }],
  },
  {
    name: "fieldref with startswith, and neq",
    detection: "  a:\n    A|fieldref|startswith: B\n  b:\n    C|fieldref|neq: D\n  condition: a and b",
    yes: [{ A: "abc", B: "ab", C: 1, D: 2 }, { A: "abc", B: "ab" }],
    no: [{ A: "abc", B: "b", C: 1, D: 2 }, { A: "abc", B: "ab", C: 1, D: 1 }],
  },
  {
    name: "neq: none of the values",
    detection: "  sel:\n    F|neq:\n      - a\n      - b\n  condition: sel",
    yes: [{ F: "c" }, {}],
    no: [{ F: "A" }, { F: "b" }],
  },
  {
    name: "gt / lte on numbers",
    detection: "  a:\n    N|gt: 10\n  b:\n    M|lte: 2\n  condition: a and b",
    yes: [{ N: 11, M: 2 }, { N: 10.5, M: -1 }],
    no: [{ N: 10, M: 2 }, { N: 11, M: 3 }, { N: "11", M: 2 }, { M: 2 }],
  },
  {
    // JavaScript writes these with an exponent (1.5e-7, 1e+21), which the policy language cannot read:
    // the whole import failed with "the generated policy does not parse".
    name: "numbers JavaScript would write with an exponent are written out in full",
    detection: "  a:\n    F: 0.00000015\n  b:\n    G|gt: 1e-21\n  c:\n    H|lt: -2.5e-8\n  condition: a or b or c",
    yes: [{ F: 1.5e-7 }, { F: "0.00000015" }, { G: 2e-21 }, { H: -1 }],
    no: [{ F: 1.5e-6 }, { F: "1.5e-7" }, { G: 1e-21 }, { G: 0 }, { H: 0 }, { H: -2.5e-8 }, {}],
  },
  {
    name: "a boolean matches the boolean and its text, as Sigma compares values as strings",
    detection: "  sel:\n    F: true\n  condition: sel",
    yes: [{ F: true }, { F: "true" }, { F: "True" }],
    no: [{ F: false }, { F: "false" }, { F: "x" }, { F: 1 }, { F: "1" }, { F: ["true"] }, {}, { F: null }],
  },
  {
    // SigmaHQ writes `responseElements.publiclyAccessible: 'true'`; CloudTrail, Okta and Azure log JSON booleans.
    name: "'true' / 'false' as text also match a JSON boolean",
    detection: "  t:\n    F: 'true'\n  f:\n    G: 'False'\n  condition: t and f",
    yes: [{ F: true, G: false }, { F: "TRUE", G: "false" }, { F: "true", G: false }],
    no: [{ F: false, G: false }, { F: true, G: true }, { F: 1, G: 0 }, { F: "yes", G: false }, { F: ["true"], G: false }, { G: false }, { F: true }],
  },
  {
    name: "cased 'true' matches the boolean (JSON writes it so), cased 'True' does not",
    detection: "  a:\n    F|cased: 'true'\n  b:\n    G|cased: 'True'\n  condition: a or b",
    yes: [{ F: true }, { F: "true" }, { G: "True" }],
    no: [{ F: "True" }, { G: true }, { G: "true" }, {}],
  },
  {
    name: "a list of text values holding 'true' still matches the boolean",
    detection: "  sel:\n    F: ['on', 'true']\n  condition: sel",
    yes: [{ F: true }, { F: "ON" }, { F: "True" }],
    no: [{ F: false }, { F: "off" }, {}],
  },
  {
    name: "base64offset|contains: the three shapes pySigma gives (http:// is aHR0cDovL, h0dHA6Ly, odHRwOi8v)",
    detection: "  sel:\n    F|base64offset|contains: 'http://'\n  condition: sel",
    yes: [{ F: "-enc aHR0cDovL2V2aWw=" }, { F: "x eGh0dHA6Ly9 y" }, { F: "eHhodHRwOi8v" }],
    no: [{ F: "AHR0CDOVL" }, { F: "http://" }, ...ODD],
  },
  {
    name: "wide|base64offset|contains: UTF-16LE first (IEX is SQBFAFgA, kARQBYA, JAEUAWA)",
    detection: "  sel:\n    F|wide|base64offset|contains: IEX\n  condition: sel",
    yes: [{ F: Buffer.from("IEX (New-Object", "utf16le").toString("base64") }, { F: Buffer.from(" IEX", "utf16le").toString("base64") }],
    no: [{ F: Buffer.from("IEX", "utf8").toString("base64") }],
  },
  {
    name: "base64: the whole value, exactly",
    detection: "  sel:\n    F|base64: abc\n  condition: sel",
    yes: [{ F: "YWJj" }],
    no: [{ F: "ywjj" }, { F: "YWJjZA==" }],
    where: `(F ?? false) == "YWJj"`,
  },
  {
    name: "`*` alone: any value that is not null",
    detection: "  sel:\n    F: '*'\n  condition: sel",
    yes: [{ F: "" }, { F: 5 }, { F: "x" }],
    no: [{}, { F: null }],
  },
];

for (const row of ROWS) {
  t.test(row.name, async (t) => {
    const r = convert(rule(row.detection));
    t.same(r.problems, [], "converts");
    if (row.where !== undefined) t.equal(whereOf(r), row.where);
    for (const e of row.yes) t.ok(fires(r.policy, e), `fires on ${JSON.stringify(e)}`);
    for (const e of row.no) t.notOk(fires(r.policy, e), `quiet on ${JSON.stringify(e)}`);
  });
}

t.test("keywords search the pipeline's keyword field (ecs: message), OR, or AND with |all", async (t) => {
  const r = convert(rule("  kw:\n    - 'event::clear'\n    - 'DROP'\n  kwall:\n    '|all':\n      - Oab\n      - ' -Ext '\n  condition: kw or kwall"), SIGMA_PIPELINES.ecs);
  t.same(r.problems, []);
  t.ok(fires(r.policy, { message: "mimikatz EVENT::CLEAR" }));
  t.ok(fires(r.policy, { message: "xdropx" }));
  t.ok(fires(r.policy, { message: "oab -ext y" }));
  t.notOk(fires(r.policy, { message: "oab only" }));
  t.notOk(fires(r.policy, { other: "event::clear" }));
});

t.test("without a keyword field, keyword rules are reported, not dropped", async (t) => {
  const r = convert(rule("  kw:\n    - evil\n  condition: kw"));
  t.equal(r.converted, 0);
  t.same(r.problems, [
    {
      rule: "Test rule (rule.yml)",
      reason: "search identifier `kw`: keyword search (values without a field) needs a pipeline that names the field to search, e.g. --pipeline ecs (message)",
    },
  ]);
});

t.test("unsupported and malformed modifiers are reported with the reason", async (t) => {
  const cases: [string, string][] = [
    ["F|base64|re: x", "an encoding cannot be combined with `re`"],
    ["F|base64offset|contains: 'a*b'", "`base64offset` of a value with wildcards"],
    ["F|wide|contains: x", "`wide` needs a following `base64` or `base64offset`"],
    ["F|expand: '%x%'", "modifier `expand`: placeholders (`expand`) need values from the environment"],
    ["F|nope: x", "unknown modifier `nope`"],
    ["F|contains|endswith: x", "modifiers `contains` and `endswith` exclude each other"],
    ["F|re|contains: x", "modifier `contains` cannot be combined with `re`"],
    ["F|i: x", "modifier `i` is only for `re`"],
    ["F|exists: yes please", "`exists` needs true or false"],
    ["F|cidr: 10.0.0.300/8", '`cidr` value "10.0.0.300/8": not an IPv4 address'],
    ["F|gt: ten", "`gt` needs a number"],
    ["F|re: '(?x)a b'", "regular expression: inline flag `x` has no equivalent"],
    ["F|re: 'a(?i)b'", "regular expression: inline flags (`(?i)`) are only supported at the very start of the pattern"],
    ["F|re: 'a++'", "regular expression: possessive quantifiers (`*+`, `++`) have no equivalent"],
    ["F|re: '(a'", "regular expression: missing `)`"],
    ["F: []", "an empty list of values"],
    ["F: {a: 1}", "a value is a map, not a string or number"],
  ];
  for (const [item, reason] of cases) {
    const r = convert(rule(`  sel:\n    ${item}\n  condition: sel`));
    t.same(r.problems.map((p) => p.reason), [`search identifier \`sel\`: ${reason}`], item);
    t.equal(r.converted, 0);
  }
});

t.test("SigmaHQ's 'RDS public db restore' fires on the CloudTrail event as AWS logs it (a JSON boolean)", async (t) => {
  const text = readFileSync(path.join(CORPUS, "rules/cloud/aws/cloudtrail/aws_rds_public_db_restore.yml"), "utf8");
  const r = convert(text);
  t.same(r.problems, []);
  const ev = { eventSource: "rds.amazonaws.com", eventName: "RestoreDBInstanceFromDBSnapshot", responseElements: { publiclyAccessible: true } };
  t.ok(fires(r.policy, ev));
  t.notOk(fires(r.policy, { ...ev, responseElements: { publiclyAccessible: false } }));
});

t.test("a field named like an Object.prototype member (toString, constructor, __proto__) is absent from an event without it", async (t) => {
  // The evaluator read a detect rule's root names as plain properties, so every event "had" toString.
  for (const name of ["toString", "constructor", "valueOf", "hasOwnProperty", "__proto__"]) {
    const exists = convert(rule(`  sel:\n    ${name}|exists: true\n  condition: sel`));
    t.notOk(fires(exists.policy, { a: 1 }), `${name}|exists: true on an event without it`);
    t.ok(fires(exists.policy, JSON.parse(`{"${name}": 1}`)), `${name}|exists: true on an event with it`);
    const absent = convert(rule(`  sel:\n    ${name}: null\n  condition: sel`));
    t.ok(fires(absent.policy, { a: 1 }), `${name}: null on an event without it`);
    const any = convert(rule(`  sel:\n    ${name}: '*'\n  condition: sel`));
    t.notOk(fires(any.policy, { a: 1 }), `${name}: '*' on an event without it`);
    const nested = convert(rule(`  sel:\n    ${name}.x: '4'\n  condition: sel`));
    t.notOk(fires(nested.policy, { a: 1 }), `${name}.x on an event without it`);
    t.ok(fires(nested.policy, JSON.parse(`{"${name}": {"x": 4}}`)), `${name}.x on an event with it`);
  }
});

t.test("a whole number past 2^53 - 1 is reported: YAML has already rounded it, and the language refuses such literals", async (t) => {
  for (const v of ["F: 12345678901234567890", "F|gt: 1e21", "F|contains: 9007199254740993", "F: [1, -9007199254740992]"]) {
    const r = convert(rule(`  sel:\n    ${v}\n  condition: sel`));
    t.equal(r.converted, 0, v);
    t.match(r.problems[0]?.reason ?? "", /^search identifier `sel`: the number -?\d+ is past 2\^53 - 1/, v);
  }
  t.equal(convert(rule("  sel:\n    F: 9007199254740991\n  condition: sel")).converted, 1, "2^53 - 1 itself is exact");
});

t.test("numberText: plain decimal digits that read back as the same number", async (t) => {
  const samples = [0, -0, 1, -1, 0.5, 1.5e-7, -2.5e-8, 0.1, 1.7976931348623157e-300, Number.MIN_VALUE, 5e-324, 123.456, 1e-7, 9007199254740991, -9007199254740991, 4.5e15 + 0.5];
  let seed = 7;
  for (let i = 0; i < 2000; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const n = (seed / 2147483648 - 0.5) * 10 ** ((seed % 56) - 40);
    if (!Number.isInteger(n) || Number.isSafeInteger(n)) samples.push(n);
  }
  for (const n of samples) {
    const s = numberText(n);
    if (!/^-?\d+(\.\d+)?$/.test(s) || Number(s) !== n) t.fail(`${n} -> ${s}`);
  }
  t.pass(`${samples.length} numbers`);
});

t.test("a list of thousands of values converts (SigmaHQ's vulnerable-driver rule lists thousands of hashes)", async (t) => {
  // One `or` chain of n tests is n levels deep; past 1000 the policy did not parse and the whole import failed.
  for (const n of [1500, 40000]) {
    const values = Array.from({ length: n }, (_, i) => `      - 'h${i}x'`).join("\n");
    const r = convert(rule(`  sel:\n    F|contains:\n${values}\n  other:\n    G|endswith:\n${values}\n  condition: sel and not other`));
    t.same(r.problems, [], `${n} values`);
    t.equal(r.converted, 1);
    t.ok(fires(r.policy, { F: `a h${n - 1}x b` }), "the last value");
    t.ok(fires(r.policy, { F: "h0x" }), "the first value");
    t.notOk(fires(r.policy, { F: `h${n}x` }), "a value not listed");
    t.notOk(fires(r.policy, { F: "h7x", G: `.h${n - 2}X` }), "the filter's last values");
  }
});
