/**
 * format(): messy inputs come out in the canonical layout of docs/fmt.md;
 * text with syntax errors comes back unchanged with its diagnostics.
 * Expected outputs are written by hand from the layout rules.
 */
import t, { type Test } from "tap";
import { format } from "../../src/format/format.js";

const lines = (...ls: string[]): string => ls.join("\n") + "\n";

function formats(t: Test, input: string, expected: string, what: string): void {
  const r = format(input, "case.policy");
  t.same(r.diagnostics, [], `${what}: parses`);
  t.equal(r.internalError, undefined, `${what}: no internal error`);
  t.equal(r.output, expected, what);
  t.equal(r.changed, input !== expected, `${what}: changed flag`);
  t.equal(format(r.output, "case.policy").output, r.output, `${what}: formatting again changes nothing`);
}

t.test("everything on one line", async (t) => {
  formats(
    t,
    'package swarm.x allow "a" { when action=="read" and resource.type=="doc" unless principal.suspended } deny "b" {when action=="delete"}',
    lines(
      "package swarm.x",
      "",
      'allow "a" {',
      '  when action == "read" and resource.type == "doc"',
      "  unless principal.suspended",
      "}",
      "",
      'deny "b" {',
      '  when action == "delete"',
      "}",
    ),
    "one line",
  );
});

t.test("tabs, CRLF and many blank lines", async (t) => {
  formats(
    t,
    'package p\r\n\r\n\r\n\r\nconst\tx\t=\t[ "a" ,"b" ]\r\nconst y = 1   \r\n\r\n\r\nconst z = x\r\n\r\n\r\n',
    lines("package p", "", 'const x = ["a", "b"]', "const y = 1", "", "const z = x"),
    "crlf",
  );
  formats(
    t,
    'allow "a" {\r\n\r\n\twhen action == "read"\r\n\r\n\r\n\t\tunless  principal.suspended\r\n\r\n}\r\ndeny "b" {\rwhen action == "x"\r}',
    lines(
      'allow "a" {',
      '  when action == "read"',
      "",
      "  unless principal.suspended",
      "}",
      "",
      'deny "b" {',
      '  when action == "x"',
      "}",
    ),
    "blank lines in a block, lone CR",
  );
});

t.test("no spaces at all", async (t) => {
  formats(
    t,
    'const o={"a":1,"b-c":[1,2,-3],d:{e:"\\u0041\\/"}}\nconst n=-   3+x.y["k-1"]*size(z)',
    lines('const o = { a: 1, "b-c": [1, 2, -3], d: { e: "A/" } }', 'const n = -3 + x.y["k-1"] * size(z)'),
    "no spaces",
  );
  formats(t, "const m = 5m   .x\nconst k = 2 .y", lines("const m = 5m .x", "const k = 2 .y"), "members of literals keep apart");
  formats(
    t,
    'deny "p" {when(action=="a"or action=="b")and not(resource.locked)unless principal has"x-y"and principal has  roles}',
    lines(
      'deny "p" {',
      '  when (action == "a" or action == "b") and not (resource.locked)',
      '  unless principal has "x-y" and principal has roles',
      "}",
    ),
    "parentheses kept, has names",
  );
});

t.test("trailing and own-line comments between statements", async (t) => {
  formats(
    t,
    [
      "package p # the package",
      "# about a",
      'allow "a" { # opens',
      '  when action == "read"   # reads only',
      "      # own line in block",
      "",
      "",
      "  when resource.public # public ones",
      "  # before close",
      "} # after close",
      "# end of file",
    ].join("\n"),
    lines(
      "package p # the package",
      "",
      "# about a",
      'allow "a" { # opens',
      '  when action == "read" # reads only',
      "  # own line in block",
      "",
      "  when resource.public # public ones",
      "  # before close",
      "} # after close",
      "# end of file",
    ),
    "statement comments",
  );
  formats(t, "# only\n\n\n\n# comments   \n", lines("# only", "", "# comments"), "comments only");
  formats(t, "", "", "empty file");
  formats(t, "\n\n  \n", "", "blank file");
});

t.test("comments inside expressions", async (t) => {
  const fixed = lines(
    'allow "c" {',
    '  when action == "read"',
    "    # only for staff",
    "    and principal.staff # staff flag",
    '    and resource.type == "doc"',
    "}",
  );
  formats(t, fixed, fixed, "own-line comment in a chain");
  formats(
    t,
    'const roles = ["admin", # full access\n  "sre"]',
    lines("const roles = [", '  "admin", # full access', '  "sre"', "]"),
    "trailing comment in a list",
  );
  formats(
    t,
    'const roles = [\n  # the admins\n  "admin",\n  "sre"\n  # nobody else\n]',
    lines("const roles = [", "  # the admins", '  "admin",', '  "sre"', "  # nobody else", "]"),
    "own-line comments in a list",
  );
  formats(
    t,
    'deny "d" {\n  when action ==\n  # the bad one\n  "delete"\n}',
    lines('deny "d" {', "  when action ==", "    # the bad one", '    "delete"', "}"),
    "own-line comment inside a comparison",
  );
  formats(
    t,
    'deny "d" {\n  when action == "delete" and # dangerous\n  resource.env == "prod"\n}',
    lines('deny "d" {', '  when action == "delete"', "    and # dangerous", '      resource.env == "prod"', "}"),
    "trailing comment after an operator: it ends the line, the operand goes on under it",
  );
  formats(
    t,
    "const x # a\n = # b\n 5",
    lines("const x = # a", "  # b", "  5"),
    "two comments where no break is possible",
  );
  formats(
    t,
    'deny "e" { when action == "x" } # one\n# two\ndeny "f" { when action == "y" } # three\n # four',
    lines('deny "e" {', '  when action == "x"', "} # one", "", "# two", 'deny "f" {', '  when action == "y"', "} # three", "# four"),
    "comments after blocks",
  );
  formats(
    t,
    'const a = f( # why\n x, # first\n # second\n y # last\n)',
    lines("const a = f( # why", "  x, # first", "  # second", "  y # last", ")"),
    "comments in call arguments",
  );
});

t.test("long clauses break before top-level and/or", async (t) => {
  formats(
    t,
    'allow "long" { when principal.department == "engineering" and resource.classification in ["internal", "confidential"] and context.device.managed }',
    lines(
      'allow "long" {',
      '  when principal.department == "engineering"',
      '    and resource.classification in ["internal", "confidential"]',
      "    and context.device.managed",
      "}",
    ),
    "long and-chain",
  );
  formats(
    t,
    'deny "mixed" { when action == "delete" and resource.env == "production" or action == "drain" and resource.env == "production-eu" }',
    lines(
      'deny "mixed" {',
      '  when action == "delete" and resource.env == "production"',
      '    or action == "drain" and resource.env == "production-eu"',
      "}",
    ),
    "or of ands",
  );
  formats(
    t,
    'deny "x" { when principal.department == "engineering-platform-team" and resource.classification == "restricted" or principal.department == "security-operations" and resource.env == "prod" and context.network.zone != "corp" }',
    lines(
      'deny "x" {',
      '  when principal.department == "engineering-platform-team"',
      '      and resource.classification == "restricted"',
      '    or principal.department == "security-operations"',
      '      and resource.env == "prod"',
      '      and context.network.zone != "corp"',
      "}",
    ),
    "nested chains break one level deeper than the outer operators",
  );
  formats(
    t,
    'deny "z" { when resource.env == "prod" and (principal.department == "engineering-platform-team" or principal.department == "security-operations-team") }',
    lines(
      'deny "z" {',
      '  when resource.env == "prod"',
      '    and (principal.department == "engineering-platform-team"',
      '        or principal.department == "security-operations-team")',
      "}",
    ),
    "a parenthesised chain breaks inside its parentheses",
  );
  const short = lines('allow "short" {', '  when action == "read" and resource.public', "}");
  formats(t, 'allow "short" {\n  when action == "read"\n    and resource.public\n}', short, "short chains are joined");
});

t.test("long lists and test inputs break one element per line", async (t) => {
  formats(
    t,
    'test "t" { access { principal: { id: "alice", roles: ["ops"] }, action: "node.restart", resource: { type: "node", env: "staging" } } expect allow expect result.rule == "p/x" }',
    lines(
      'test "t" {',
      "  access {",
      '    principal: { id: "alice", roles: ["ops"] },',
      '    action: "node.restart",',
      '    resource: { type: "node", env: "staging" }',
      "  }",
      "  expect allow",
      '  expect result.rule == "p/x"',
      "}",
    ),
    "test input",
  );
  const tags = Array.from({ length: 8 }, (_, i) => `"ISO27001:A.8.${i}"`);
  formats(
    t,
    `deny "tagged" { tags [${tags.join(",")}] when action == "x" }`,
    lines('deny "tagged" {', "  tags [", ...tags.map((x, i) => `    ${x}${i < 7 ? "," : ""}`), "  ]", '  when action == "x"', "}"),
    "long tags",
  );
});

t.test("a lone list or object argument hugs the call's parentheses", async (t) => {
  const items = ["aaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "cccccccccccccccccccccccccccccc", "dddd"];
  formats(
    t,
    `const x = size([${items.map((i) => `"${i}"`).join(", ")}]) > 3`,
    lines("const x = size([", ...items.map((i, k) => `  "${i}"${k < 3 ? "," : ""}`), "]) > 3"),
    "hugged list",
  );
  formats(t, 'const y = ip( "10.0.0.0/8" )', lines('const y = ip("10.0.0.0/8")'), "short call");
});

t.test("detect, mesh and encryption blocks", async (t) => {
  formats(
    t,
    [
      'detect "bf" {',
      "severity   high",
      "by user.name,source.ip within 10m",
      "sequence {",
      'failures:event.outcome=="failure" count>=5',
      'success:event.outcome=="success"',
      "}",
      "then risk user.name+40 for 1h",
      "}",
      'detect "scan" { where event.category=="network" by source.ip within 1m having distinct destination.port>=20 then quarantine source.ip }',
    ].join("\n"),
    lines(
      'detect "bf" {',
      "  severity high",
      "  by user.name, source.ip within 10m",
      "  sequence {",
      '    failures: event.outcome == "failure" count >= 5',
      '    success: event.outcome == "success"',
      "  }",
      "  then risk user.name + 40 for 1h",
      "}",
      "",
      'detect "scan" {',
      '  where event.category == "network"',
      "  by source.ip within 1m",
      "  having distinct destination.port >= 20",
      "  then quarantine source.ip",
      "}",
    ),
    "detect",
  );
  formats(
    t,
    'mesh "m" { network "100.64.0.0/10" listen_port 51820 keepalive 25s when node.attested unless quarantined(node.id) require key_age within 30d else "old key" connect "a"->"b" ports [7000,7001] connect "a"<->"c" }',
    lines(
      'mesh "m" {',
      '  network "100.64.0.0/10"',
      "  listen_port 51820",
      "  keepalive 25s",
      "  when node.attested",
      "  unless quarantined(node.id)",
      '  require key_age within 30d else "old key"',
      '  connect "a" -> "b" ports [7000, 7001]',
      '  connect "a" <-> "c"',
      "}",
    ),
    "mesh",
  );
  formats(
    t,
    'encryption default{require cipher "aes-256-gcm"}encryption "phi"{when data.classification in["phi","pii"] require key_age within 90d require tee require aad["tenant_id","record_id"]}\nallow "m" { when action == "x" require mfa within 15m require context.ok ?? false else "not ok" }',
    lines(
      "encryption default {",
      '  require cipher "aes-256-gcm"',
      "}",
      "",
      'encryption "phi" {',
      '  when data.classification in ["phi", "pii"]',
      "  require key_age within 90d",
      "  require tee",
      '  require aad ["tenant_id", "record_id"]',
      "}",
      "",
      'allow "m" {',
      '  when action == "x"',
      "  require mfa within 15m",
      '  require context.ok ?? false else "not ok"',
      "}",
    ),
    "encryption and require",
  );
});

t.test("tests with events and alert expectations", async (t) => {
  formats(
    t,
    'test "e" {events "fixtures/bf.jsonl"\nexpect alert "bf" count 1}\ntest "n" { events [{"@timestamp": "2026-01-01T00:00:00Z", event: {action: "login"}}] expect no alert }',
    lines(
      'test "e" {',
      '  events "fixtures/bf.jsonl"',
      '  expect alert "bf" count 1',
      "}",
      "",
      'test "n" {',
      '  events [{ "@timestamp": "2026-01-01T00:00:00Z", event: { action: "login" } }]',
      "  expect no alert",
      "}",
    ),
    "events tests",
  );
});

t.test("numbers and durations stay as written", async (t) => {
  formats(t, "const a = 0.50\nconst b = 1h30m\nconst c = 007", lines("const a = 0.50", "const b = 1h30m", "const c = 007"), "raw");
});

t.test("syntax errors: the text comes back unchanged with the diagnostics", async (t) => {
  for (const input of ['allow "x" { when }', 'allow "x" {\r\n  when action ==\r\n}\r\n', "const = 1\n\tconst"]) {
    const r = format(input, "bad.policy");
    t.equal(r.output, input, "unchanged");
    t.equal(r.changed, false, "not changed");
    t.ok(r.diagnostics.length > 0, "diagnostics");
    t.ok(r.diagnostics.every((d) => d.code.startsWith("SP1")), "syntax diagnostics");
    t.equal(r.diagnostics[0]!.span.file, "bad.policy", "diagnostics name the file");
  }
  // Positions are those of the text given, CRLF included.
  const crlf = 'const a = 1\r\nconst b = 1\r\nallow "x" { when }\r\n';
  const d = format(crlf, "bad.policy").diagnostics[0]!;
  t.equal(d.span.line, 3);
  t.equal(crlf.slice(d.span.start, d.span.end), "}");
});

t.test("strings: a character that would not show is written as an escape", async (t) => {
  // A reviewer of the formatted text must see every character a string holds:
  // "admin\u200b" is not "admin", and a bidi override reorders what is shown.
  formats(
    t,
    [
      'const a = "admin\\u200b"',
      'const b = "\\u202egnp.exe"',
      'const c = "x\u200by\u2066z"',
      'const d = "\\u00a0\\u2028\\u007f\\u0085\\ufeff"',
      'const e = "\\udb40\\udc61"',
      'deny "n\\u200d" {',
      '  when principal.id in ["root", "r\\u200boot"] and resource["k\\u2060"] == { "q\\u00ad": 1 }',
      "}",
    ].join("\n"),
    lines(
      'const a = "admin\\u200b"',
      'const b = "\\u202egnp.exe"',
      'const c = "x\\u200by\\u2066z"',
      'const d = "\\u00a0\\u2028\\u007f\\u0085\\ufeff"',
      'const e = "\\udb40\\udc61"',
      "",
      'deny "n\\u200d" {',
      '  when principal.id in ["root", "r\\u200boot"] and resource["k\\u2060"] == { "q\\u00ad": 1 }',
      "}",
    ),
    "invisible characters escaped, escapes kept",
  );
  formats(t, 'const a = "\\u0041\\u00e9\\u4e2d\\ud83d\\ude00 \\t"', lines('const a = "A\u00e9\u4e2d\ud83d\ude00 \\t"'), "visible characters unescaped");
});

t.test("detect's fixed positions are printed as parsed: no parentheses added", async (t) => {
  const fixed = lines(
    'detect "d" {',
    "  by user.name within 10m",
    "  having count >= limits.count ?? 5 + 1",
    "  sequence {",
    "    a: event.ok count >= base.n or 3",
    "  }",
    "  then risk user.name + not quiet and 10 for 1h",
    "}",
  );
  formats(t, fixed, fixed, "parsed as written");
  // The paths of `by`, `having distinct` and `then` may start with a minus.
  const operands = lines(
    'detect "o" {',
    "  by -user.id, -3 within 10m",
    "  having distinct -event.n >= 2",
    "  then quarantine -host.id",
    "}",
  );
  formats(t, operands, operands, "operand positions parsed as written");
});

t.test("parentheses the printer adds break like the author's", async (t) => {
  // The parser reads `x has y ?? z` as `(x has y) ?? z`, and the printer says so;
  // formatted again, those parentheses are the author's and must lay out the same.
  const items = Array.from({ length: 6 }, (_, i) => `"clearance-level-number-${i}"`);
  formats(
    t,
    `const a = { levels: [${items.join(", ")}] } has levels ?? false\n`,
    lines("const a = ({", "    levels: [", ...items.map((x, i) => `      ${x}${i < 5 ? "," : ""}`), "    ]", "  } has levels) ?? false"),
    "inserted parentheses",
  );
});

t.test("a leading byte-order mark is not part of the text: not counted in columns, not written", async (t) => {
  const bad = format('\ufeffallow "x" { when x == @ }\n', "b.policy");
  t.equal(bad.diagnostics[0]?.code, "SP1001");
  t.equal(bad.diagnostics[0]?.span.column, 23, "the `@` is column 23, as without the BOM (it was 24)");
  const good = format('\ufeffconst a = 1\n', "b.policy");
  t.equal(good.output, "const a = 1\n");
  t.equal(good.changed, true, "the BOM is dropped");
});
