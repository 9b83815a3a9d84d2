/**
 * Every construct of spec/LANGUAGE.md sections 2-8, parsed from the spec's
 * own examples into the AST shape of ast.ts: kinds, values, durations in ms,
 * and the exact spans of a few nodes.
 */
import t from "tap";
import { parse } from "../../src/parser/parse.js";
import type { AccessRule, DetectRule, EncryptionRule, MeshBlock, TestBlock, ConstDecl, SchemaDecl } from "../../src/parser/ast.js";

function clean(text: string, file = "x.policy") {
  const r = parse(text, file);
  if (r.diagnostics.length > 0) throw new Error(JSON.stringify(r.diagnostics, null, 1));
  return r.ast;
}

t.test("section 2: package, schema, const", async (t) => {
  const ast = clean(
    [
      "package swarm.access          # optional, once per file",
      'schema access "schemas/access.schema.json"',
      'const admin_roles = ["admin", "sre"]',
      "",
    ].join("\n"),
  );
  t.match(ast, { kind: "File", file: "x.policy", package: { kind: "Package", name: "swarm.access" } });
  t.match(ast.package!.span, { line: 1, column: 1, endLine: 1, endColumn: 21, start: 0, end: 20 });
  const [schema, konst] = ast.items as [SchemaDecl, ConstDecl];
  t.match(schema, {
    kind: "Schema",
    inputKind: "access",
    inputKindSpan: { line: 2, column: 8, endColumn: 14 },
    path: { kind: "String", value: "schemas/access.schema.json" },
    span: { line: 2, column: 1, endColumn: 43 },
  });
  t.match(konst, {
    kind: "Const",
    name: "admin_roles",
    nameSpan: { line: 3, column: 7, endColumn: 18 },
    value: { kind: "List", items: [{ value: "admin" }, { value: "sre" }] },
    span: { line: 3, column: 1, endColumn: 37 },
  });
  t.same(ast.comments.map((c) => c.text), ["# optional, once per file"]);
  t.match(ast.span, { start: 0, end: ast.span.end, line: 1, column: 1, endLine: 4, endColumn: 1 });
});

t.test("package names may use keyword segments; schema kinds may be keywords", async (t) => {
  const ast = clean('package swarm.test.mesh\nschema encryption "e.json"\nschema mesh "m.json"\nschema event "ev.json"');
  t.equal(ast.package!.name, "swarm.test.mesh");
  t.same((ast.items as SchemaDecl[]).map((s) => s.inputKind), ["encryption", "mesh", "event"]);
});

t.test("section 4: access rules", async (t) => {
  const ast = clean(`allow "ops-restart-nodes" {
  tags ["ISO27001:A.8.2", "HIPAA:164.312(a)(1)"]
  when action in ["node.restart", "node.drain"] and resource.type == "node"
  when principal.roles contains "ops"
  unless resource.env == "prod"
  require mfa within 15m
  require context.device.compliant ?? false else "device is not compliant"
}

deny "no-prod-delete" {
  when action == "delete" and resource.env == "prod"
  unless principal.roles contains_any admin_roles
}

allow "any-mfa" {
  when action == "read"
  require mfa
  require principal.active
}
`);
  const [allow, deny, anyMfa] = ast.items as AccessRule[];
  t.match(allow, {
    kind: "AccessRule",
    effect: "allow",
    name: "ops-restart-nodes",
    nameSpan: { line: 1, column: 7, endColumn: 26 },
    span: { line: 1, column: 1, endLine: 8, endColumn: 2 },
  });
  t.same(allow!.clauses.map((c) => c.kind), ["Tags", "When", "When", "Unless", "RequireMfa", "Require"]);
  t.match(allow!.clauses[0], { tags: [{ value: "ISO27001:A.8.2" }, { value: "HIPAA:164.312(a)(1)" }], span: { line: 2, column: 3, endColumn: 49 } });
  t.match(allow!.clauses[1], { kind: "When", expr: { kind: "Binary", op: "and" }, span: { line: 3, column: 3, endColumn: 76 } });
  t.match(allow!.clauses[4], { kind: "RequireMfa", within: { kind: "Duration", ms: 900_000, raw: "15m" }, span: { line: 6, column: 3, endColumn: 25 } });
  t.match(allow!.clauses[5], {
    kind: "Require",
    expr: { kind: "Binary", op: "??" },
    message: { value: "device is not compliant" },
    span: { line: 7, column: 3, endColumn: 75 },
  });
  t.match(deny, { effect: "deny", name: "no-prod-delete" });
  t.same(deny!.clauses.map((c) => c.kind), ["When", "Unless"]);
  t.match(anyMfa!.clauses, [{ kind: "When" }, { kind: "RequireMfa", within: null }, { kind: "Require", message: null }]);
});

t.test("section 5: encryption requirements", async (t) => {
  const ast = clean(`encryption default {
  require cipher "aes-256-gcm"
}
encryption "phi-at-rest" {
  tags ["HIPAA:164.312(a)(2)(iv)", "GDPR:Art.32"]
  when data.classification in ["phi", "pii"]
  require cipher "aes-256-gcm"
  require key_age within 90d
  require tee
  require aad ["tenant_id", "record_id"]
}`);
  const [def, phi] = ast.items as EncryptionRule[];
  t.match(def, { kind: "EncryptionRule", name: null, nameSpan: { line: 1, column: 12, endColumn: 19 }, clauses: [{ kind: "RequireCipher", cipher: { value: "aes-256-gcm" } }] });
  t.match(phi, { name: "phi-at-rest" });
  t.match(phi!.clauses, [
    { kind: "Tags" },
    { kind: "When" },
    { kind: "RequireCipher" },
    { kind: "RequireKeyAge", within: { ms: 90 * 86_400_000 }, message: null, span: { line: 8, column: 3, endColumn: 29 } },
    { kind: "RequireTee", span: { line: 9, column: 3, endColumn: 14 } },
    { kind: "RequireAad", fields: [{ value: "tenant_id" }, { value: "record_id" }] },
  ]);
});

t.test("section 6: mesh admission", async (t) => {
  const ast = clean(`mesh "swarm" {
  network "100.64.0.0/10"
  listen_port 51820
  keepalive 25s
  when node.attested and node.tags contains_any ["worker", "scheduler", "gateway"]
  unless quarantined(node.id)
  require key_age within 30d else "WireGuard key older than 30 days"
  connect "worker" -> "scheduler" ports [7000, 7001]
  connect "scheduler" <-> "gateway"
  connect "*" -> "dns" ports [53]
}`);
  const mesh = ast.items[0] as MeshBlock;
  t.match(mesh, { kind: "Mesh", name: "swarm", nameSpan: { column: 6, endColumn: 13 } });
  t.match(mesh.clauses, [
    { kind: "Network", cidr: { value: "100.64.0.0/10" } },
    { kind: "ListenPort", port: { value: 51820 } },
    { kind: "Keepalive", interval: { ms: 25_000 } },
    { kind: "When" },
    { kind: "Unless", expr: { kind: "Call", callee: "quarantined" } },
    { kind: "RequireKeyAge", within: { ms: 30 * 86_400_000 }, message: { value: "WireGuard key older than 30 days" } },
    { kind: "Connect", from: { value: "worker" }, to: { value: "scheduler" }, bidirectional: false, ports: [{ value: 7000 }, { value: 7001 }], span: { line: 8, column: 3, endColumn: 53 } },
    { kind: "Connect", from: { value: "scheduler" }, to: { value: "gateway" }, bidirectional: true, ports: null },
    { kind: "Connect", from: { value: "*" }, to: { value: "dns" }, ports: [{ value: 53 }] },
  ]);
  t.same(clean('mesh "m" { require node.attested else "not attested" }').items[0]!.kind, "Mesh");
});

t.test("section 7: detection and correlation", async (t) => {
  const ast = clean(`detect "admin-login-from-outside" {
  severity high
  where event.action == "login" and user.roles contains "admin"
    and not (source.ip in corp_nets)
}

detect "port-scan" {
  severity medium
  where event.category == "network"
  by source.ip within 1m
  having distinct destination.port >= 20
}

detect "brute-force-then-success" {
  severity high
  tags ["MITRE:T1110"]
  by user.name within 10m
  sequence {
    failures: event.category == "authentication" and event.outcome == "failure" count >= 5
    success:  event.category == "authentication" and event.outcome == "success"
  }
  then risk user.name + 40 for 1h
}

detect "many" {
  where network.protocol == "dns" and tags contains "x"
  by host.name, user.name within 5m
  having count > 100
  all {
    a: process.name == "curl"
    b: event.action == "exec" count == 2
  }
  then quarantine host.name
  then quarantine user["name"] for 30m
}`);
  const [outside, scan, brute, many] = ast.items as DetectRule[];
  t.match(outside!.clauses, [
    { kind: "Severity", level: "high", levelSpan: { line: 2, column: 12, endColumn: 16 } },
    { kind: "Where", span: { line: 3, column: 3, endLine: 4, endColumn: 37 }, expr: { op: "and", right: { kind: "Unary", op: "not" } } },
  ]);
  t.match(scan!.clauses, [
    { kind: "Severity", level: "medium" },
    { kind: "Where" },
    { kind: "By", fields: [{ kind: "Member", property: "ip" }], within: { ms: 60_000 } },
    { kind: "Having", aggregate: "distinct", field: { kind: "Member", property: "port" }, op: ">=", value: { value: 20 }, span: { line: 11, column: 3, endColumn: 41 } },
  ]);
  const seq = brute!.clauses[3];
  t.match(seq, {
    kind: "Sequence",
    ordered: true,
    span: { line: 18, column: 3, endLine: 21, endColumn: 4 },
    steps: [
      { kind: "Step", name: "failures", nameSpan: { line: 19, column: 5, endColumn: 13 }, count: { op: ">=", value: { value: 5 } } },
      { kind: "Step", name: "success", count: null },
    ],
  });
  t.match(brute!.clauses[4], { kind: "ThenRisk", target: { kind: "Member", property: "name" }, amount: { value: 40 }, duration: { ms: 3_600_000 } });
  t.match(many!.clauses, [
    { kind: "Where", expr: { left: { left: { kind: "Member", object: { name: "network" } } }, right: { left: { kind: "Name", name: "tags" } } } },
    { kind: "By", fields: [{ property: "name" }, { property: "name" }], within: { ms: 300_000 } },
    { kind: "Having", aggregate: "count", field: null, op: ">", value: { value: 100 } },
    { kind: "Sequence", ordered: false, steps: [{ name: "a", count: null }, { name: "b", count: { op: "==" } }] },
    { kind: "ThenQuarantine", target: { property: "name" }, duration: null },
    { kind: "ThenQuarantine", target: { kind: "Index" }, duration: { ms: 1_800_000 } },
  ]);
});

t.test("section 8: tests inside policy files", async (t) => {
  const ast = clean(`test "ops may restart a staging node with fresh MFA" {
  access {
    principal: { id: "alice", roles: ["ops"] },
    action: "node.restart",
    resource: { type: "node", env: "staging" },
    context: { mfa: { verified_at: "2026-01-01T00:00:00Z" }, device: { compliant: true } },
    time: "2026-01-01T00:05:00Z"
  }
  expect allow
}
test "five failures then a success" {
  events "fixtures/bruteforce.jsonl"
  expect alert "brute-force-then-success" count 1
}
test "inline events" {
  events [{ "event.category": "authentication" }, { user: { name: "bob" } }]
  expect no alert
}
test "encryption" {
  encryption { data: { classification: "phi" } }
  expect result.cipher == "aes-256-gcm" and result.tee
}
test "mesh" {
  mesh { node: { id: "n1", tags: ["worker"] } }
  expect admit
  expect reject
  expect deny
  expect challenge
}`);
  const [access, events, inline, enc, mesh] = ast.items as TestBlock[];
  t.match(access, {
    kind: "Test",
    name: "ops may restart a staging node with fresh MFA",
    nameSpan: { line: 1, column: 6, endColumn: 53 },
    input: { kind: "TestInput", inputKind: "access", value: { kind: "Object", entries: [{ key: "principal" }, { key: "action" }, { key: "resource" }, { key: "context" }, { key: "time" }] }, span: { line: 2, column: 3, endLine: 8, endColumn: 4 } },
    expects: [{ kind: "ExpectDecision", decision: "allow", span: { line: 9, column: 3, endColumn: 15 } }],
    span: { line: 1, column: 1, endLine: 10, endColumn: 2 },
  });
  t.match(events, {
    input: { inputKind: "events", value: { kind: "String", value: "fixtures/bruteforce.jsonl" } },
    expects: [{ kind: "ExpectAlert", rule: { value: "brute-force-then-success" }, count: { value: 1 } }],
  });
  t.match(inline, { input: { inputKind: "events", value: { kind: "List", items: [{ kind: "Object" }, { kind: "Object" }] } }, expects: [{ kind: "ExpectNoAlert" }] });
  t.match(enc, { input: { inputKind: "encryption" }, expects: [{ kind: "ExpectExpr", expr: { kind: "Binary", op: "and" } }] });
  t.same(mesh!.expects.map((e) => (e.kind === "ExpectDecision" ? e.decision : e.kind)), ["admit", "reject", "deny", "challenge"]);
  t.equal(mesh!.input!.inputKind, "mesh");
});

t.test("soft keywords are names outside clause positions", async (t) => {
  const ast = clean(`const tags = ["a"]
const count = 3
const network = { when: 1, then: 2, allow: 3 }
detect "d" {
  where tags contains event.action and network.when == count and risk(user.name) > 1
}`);
  t.equal(ast.items.length, 4);
  t.match(ast.items[2], { kind: "Const", name: "network", value: { entries: [{ key: "when" }, { key: "then" }, { key: "allow" }] } });
});

t.test("a file of comments only, and an empty file", async (t) => {
  const ast = clean("# just a comment\n\n# another\n");
  t.same(ast.items, []);
  t.equal(ast.package, null);
  t.equal(ast.comments.length, 2);
  const empty = clean("");
  t.match(empty, { items: [], comments: [], span: { start: 0, end: 0, line: 1, column: 1 } });
});

t.test("CRLF line endings give the same lines and columns", async (t) => {
  const ast = clean('allow "a" {\r\n  when x == 1\r\n}\r\n');
  t.match((ast.items[0] as AccessRule).clauses[0]!.span, { line: 2, column: 3, endLine: 2, endColumn: 14 });
});
