/**
 * `mesh graph`: Mermaid and DOT drawings per node and per tag, rejected nodes
 * apart with reasons, text escaped for each format, and the per-node limit.
 */
import t from "tap";
import { compile } from "../../../src/engine.js";
import { planMesh, type MeshPlan } from "../../../src/runtime/mesh/plan.js";
import { MAX_PAIRS, renderGraph } from "../../../src/runtime/mesh/graph.js";
import { fixtureInventory, MESH_POLICY, node, PLAN_TIME } from "../../support/mesh-fixture.js";

const plan = planMesh(compile(MESH_POLICY, { file: "lab.policy" }), fixtureInventory(), { time: PLAN_TIME }) as MeshPlan;
const key = (id: string) => `n${plan.nodes.findIndex((n) => n.id === id)}`;
const addr = (id: string) => plan.nodes.find((n) => n.id === id)!.address;

t.test("Mermaid, per node", async (t) => {
  const text = renderGraph(plan, { format: "mermaid" }) as string;
  const lines = text.trimEnd().split("\n");
  t.equal(lines[0], "flowchart LR");
  t.ok(lines.includes(`    ${key("s1")}["s1<br/>100.64.0.10"]`));
  t.ok(lines.includes(`    ${key("w1")}["w1<br/>${addr("w1")}"]`));
  t.ok(lines.includes('    r1["x1<br/>#96;when node.attested#96; does not hold"]'), "backticks would start a Mermaid markdown string");
  t.ok(lines.includes('    r0["old1<br/>WireGuard key older than 30 days"]'));
  const arrows = lines.filter((l) => l.includes("-->")).sort();
  t.same(
    arrows,
    [
      `  ${key("g1")} -->|"53"| ${key("d1")}`,
      `  ${key("g1")} <-->|"any port"| ${key("s1")}`,
      `  ${key("s1")} -->|"53"| ${key("d1")}`,
      `  ${key("w1")} -->|"53"| ${key("d1")}`,
      `  ${key("w1")} -->|"7000, 7001"| ${key("s1")}`,
      `  ${key("w2")} -->|"53"| ${key("d1")}`,
      `  ${key("w2")} -->|"7000, 7001"| ${key("s1")}`,
    ].sort(),
  );
  t.notOk(arrows.some((a) => a.includes("r0") || a.includes("r1")), "rejected nodes have no arrows");
});

t.test("DOT, per node and per tag", async (t) => {
  const text = renderGraph(plan, { format: "dot" }) as string;
  t.match(text, /^digraph mesh \{\n  rankdir=LR;\n/);
  t.match(text, `    ${key("s1")} [label="s1\\n100.64.0.10"];\n`);
  t.match(text, '  subgraph cluster_rejected {\n    label="rejected";\n    style=dashed;\n    r0 [label="old1\\nWireGuard key older than 30 days", color=red];\n');
  t.match(text, `  ${key("g1")} -> ${key("s1")} [label="any port", dir=both];\n`);
  t.match(text, `  ${key("w1")} -> ${key("s1")} [label="7000, 7001"];\n`);
  t.match(text, /\}\n$/);
  const tags = renderGraph(plan, { format: "dot", byTag: true }) as string;
  t.match(tags, '    t0 [label="worker\\n2 admitted"];');
  t.match(tags, '    t3 [label="any node\\n5 admitted"];');
  t.match(tags, '  t0 -> t1 [label="7000, 7001"];\n  t1 -> t2 [label="any port", dir=both];\n  t3 -> t4 [label="53"];\n');
});

t.test("escaping: quotes and backslashes in ids and reasons", async (t) => {
  const e = compile('mesh "m" {\n  network "100.64.0.0/16"\n  require node.ok else "say \\"no\\" <now> #1 \\\\ done"\n  connect "a" -> "b"\n}\n');
  const p = planMesh(e, [node("a.1", ["a"], { ok: true }), node("b_2", ["b"], { ok: true }), node("c", ["a"], { ok: false })], { time: PLAN_TIME }) as MeshPlan;
  t.equal(p.rejected[0]!.reasons[0], 'say "no" <now> #1 \\ done');
  t.match(renderGraph(p, { format: "mermaid" }) as string, 'r0["c<br/>say #34;no#34; #60;now#62; #35;1 \\ done"]');
  t.match(renderGraph(p, { format: "dot" }) as string, 'r0 [label="c\\nsay \\"no\\" <now> #1 \\\\ done", color=red];');
});

t.test("escaping: control characters from the policy and the inventory never reach the output raw", async (t) => {
  // A reason from the policy (ESC, a newline) and one quoting an inventory value (a C1 CSI).
  const e = compile('mesh "m" {\n  network "100.64.0.0/16"\n  require node.ok else "bad\\u001b[2J\\nnext\\u202e"\n  require key_age within 30d\n  connect "a" -> "b"\n}\n');
  const p = planMesh(e, [node("a", ["a"], { ok: false }), node("b", ["b"], { ok: true, key_created_at: "x\u009b2J" })], { time: PLAN_TIME }) as MeshPlan;
  t.equal(p.rejected[0]!.reasons[0], "bad\u001b[2J\nnext\u202e");
  const raw = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/;
  for (const format of ["mermaid", "dot"] as const) {
    const text = renderGraph(p, { format }) as string;
    t.notMatch(text, raw, `${format}: no raw control character`);
    t.equal(text.split("\n").filter((l) => /^\s+r0\b/.test(l)).length, 1, `${format}: the reason stays on its box's line`);
  }
  t.match(renderGraph(p, { format: "mermaid" }) as string, 'r0["a<br/>bad#27;[2J#10;next#8238;"]');
  t.match(renderGraph(p, { format: "dot" }) as string, 'r0 [label="a\\nbad\\\\u001b[2J\\nnext\\\\u202e", color=red];');
});

t.test("a per-node drawing of a huge mesh is refused; by tag it is fine", async (t) => {
  const e = compile('mesh "big" {\n  network "100.64.0.0/10"\n  connect "a" -> "b"\n}\n');
  const inv = [...Array.from({ length: 60 }, (_, i) => node(`a${i}`, ["a"])), ...Array.from({ length: 40 }, (_, i) => node(`b${i}`, ["b"]))];
  const p = planMesh(e, inv, { time: PLAN_TIME }) as MeshPlan;
  t.equal(p.peerings, 2400);
  t.same(renderGraph(p, { format: "mermaid" }), { error: `the mesh has 2400 arrows, over ${MAX_PAIRS}; draw it by tag (--by-tag)` });
  t.match(renderGraph(p, { format: "mermaid", byTag: true }) as string, '  t0 -->|"any port"| t1\n');
});
