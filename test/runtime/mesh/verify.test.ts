/**
 * `wg show all dump` parsing (both forms, bad lines by number, the private
 * key never kept or quoted) and drift between plan and dump: a dump made
 * from the plan is clean, and each kind of drift is found (table-driven).
 */
import t from "tap";
import { compile } from "../../../src/engine.js";
import { MeshTopology, planMesh, type MeshPlan } from "../../../src/runtime/mesh/plan.js";
import { verifyMesh, verifyText, type DriftKind } from "../../../src/runtime/mesh/verify.js";
import { parseWgDump } from "../../../src/runtime/mesh/wg-dump.js";
import { fixtureInventory, keyFor, MESH_POLICY, node, PLAN_TIME } from "../../support/mesh-fixture.js";

const engine = compile(MESH_POLICY, { file: "lab.policy" });
const plan = planMesh(engine, fixtureInventory(), { time: PLAN_TIME }) as MeshPlan;
const topo = MeshTopology.of(plan);
const HANDSHAKE = PLAN_TIME / 1000 - 30;

/** The dump a mesh that follows the plan would print: interface `wg-<id>` per node. */
function liveDump(p: MeshPlan = plan): string[] {
  const t2 = MeshTopology.of(p);
  const lines: string[] = [];
  for (const n of p.nodes) {
    lines.push([`wg-${n.id}`, keyFor(n.id).privateText, n.publicKey, "51820", "off"].join("\t"));
    for (const j of t2.peersOf(n.index)) {
      const peer = p.nodes[j]!;
      lines.push([`wg-${n.id}`, peer.publicKey, "(none)", peer.endpoint ?? "(none)", `${peer.address}/32`, String(HANDSHAKE), "1200", "3400", "25"].join("\t"));
    }
  }
  return lines;
}

const verify = (lines: string[], opts = {}) => verifyMesh(plan, parseWgDump(lines.join("\n") + "\n"), { now: PLAN_TIME, ...opts });

t.test("the parser: both forms, every field", async (t) => {
  const w1 = keyFor("w1");
  const s1 = keyFor("s1").publicKey;
  const all = parseWgDump(`wg0\t${w1.privateText}\t${w1.publicKey}\t51820\toff\r\nwg0\t${s1}\t(none)\t198.18.0.12:51820\t100.64.0.10/32,10.0.0.0/8\t1767225600\t10\t20\t25\n\n`);
  t.same(all.problems, []);
  t.same(all.interfaces, [
    {
      name: "wg0",
      line: 1,
      publicKey: w1.publicKey,
      hasPrivateKey: true,
      listenPort: 51820,
      peers: [{ line: 2, publicKey: s1, hasPresharedKey: false, endpoint: "198.18.0.12:51820", allowedIps: ["100.64.0.10/32", "10.0.0.0/8"], latestHandshake: 1767225600, rxBytes: 10, txBytes: 20, keepalive: 25 }],
    },
  ]);
  t.notMatch(JSON.stringify(all), w1.privateText, "the private key is not kept");
  const one = parseWgDump(`(none)\t${w1.publicKey}\t0\toff\n${s1}\t(none)\t(none)\t(none)\t0\t0\t0\toff\n`);
  t.same(one.problems, []);
  t.same([one.interfaces[0]!.name, one.interfaces[0]!.hasPrivateKey, one.interfaces[0]!.listenPort], ["", false, null]);
  t.same([one.interfaces[0]!.peers[0]!.endpoint, one.interfaces[0]!.peers[0]!.allowedIps, one.interfaces[0]!.peers[0]!.keepalive], [null, [], null]);
});

t.test("bad lines are reported by number and skipped; secrets never quoted", async (t) => {
  const k = keyFor("w1");
  const s1 = keyFor("s1").publicKey;
  const cases: [string, string][] = [
    ["hello world", "1 tab-separated fields; an interface line has 5 (4 without the interface name), a peer line 9 (8)"],
    [`wg0\tnot-a-key-${k.privateText}\t${k.publicKey}\t51820\toff`, "the private-key field is not a key or (none)"],
    [`wg0\t${k.privateText}\tbad\t51820\toff`, "the public-key field is not a key or (none)"],
    [`wg0\t${k.privateText}\t${k.publicKey}\t99999\toff`, "the listen-port field is not a port"],
    [`wg9\t${s1}\t(none)\t(none)\t(none)\t0\t0\t0\toff`, "a peer line for wg9 before its interface line"],
    [`wg0\tbad\t(none)\t(none)\t(none)\t0\t0\t0\toff`, "the public-key field is not a key"],
    [`wg0\t${s1}\t(none)\t(none)\t(none)\tsoon\t0\t0\toff`, "the latest-handshake field is not a whole number"],
    [`wg0\t${s1}\t(none)\t(none)\t(none)\t0\t0\t0\tnever`, "the persistent-keepalive field is not off or 0-65535"],
  ];
  for (const [bad, why] of cases) {
    const d = parseWgDump(`wg0\t${k.privateText}\t${k.publicKey}\t51820\toff\n${bad}\n`);
    t.same(d.problems, [{ line: 2, message: why }], why);
    t.notMatch(JSON.stringify(d), k.privateText, "no private key in the result");
  }
  for (const [bad, why] of cases.slice(1, 4)) t.same(parseWgDump(bad).problems, [{ line: 1, message: why }], `first line: ${why}`);
  const r = verify([...liveDump(), "garbage"]);
  t.same(r.findings, [{ kind: "unreadable-line", interface: null, node: null, peer: null, line: liveDump().length + 1, message: `line ${liveDump().length + 1}: 1 tab-separated fields; an interface line has 5 (4 without the interface name), a peer line 9 (8)` }]);
  t.ok(r.drift, "what could not be read was not checked: drift");
});

t.test("a collector's dump: every host's interface has the plan's name", async (t) => {
  // `wg show all dump` of each host, concatenated: each host's interface is "lab", as the plan names it.
  const hosts = liveDump().map((l) => l.replace(/^wg-[^\t]+\t/, "lab\t"));
  const r = verify(hosts, { handshakeWithinMs: 120_000, allNodes: true });
  t.same(r.findings, [], "each interface line starts the next host's interface");
  t.same([r.drift, r.interfaces, r.peers], [false, 5, 14]);
  t.same(verify(hosts, { interfaceName: "lab", allNodes: true }).findings, [], "and with --interface");
  // Drift on one host is that host's, not the first host's.
  const w1 = hosts.findIndex((l) => l.split("\t")[2] === pk("w1"));
  const extra = verify([...hosts.slice(0, w1 + 1), peerLine("lab", "w2", `${addr("w2")}/32`), ...hosts.slice(w1 + 1)]);
  t.same(extra.findings.map((f) => [f.kind, f.node, f.peer]), [["unexpected-peer", "w1", "w2"]]);
  // `wg show lab dump` of each host (no interface column), concatenated, read with --interface.
  const single = hosts.map((l) => l.slice("lab\t".length));
  t.same(verify(single, { interfaceName: "lab", allNodes: true }).findings, []);
  // Peers after an interface line that could not be read belong to no interface, not to the host before.
  const broken = hosts.map((l, i) => (i === w1 ? l.replace(pk("w1"), "bad") : l));
  const d = parseWgDump(broken.join("\n"));
  t.same(d.problems.map((p) => p.line), [w1 + 1, w1 + 2, w1 + 3], "the interface line and its two peer lines");
  t.equal(d.problems[1]!.message, "a peer line for lab after an interface line that could not be read");
  t.same(d.interfaces.map((i) => i.peers.length), [4, 2, 4, 2], "w1's peers are nobody's (d1, g1, s1, w2 keep theirs)");
});

t.test("a dump that follows the plan is clean", async (t) => {
  const r = verify(liveDump(), { handshakeWithinMs: 120_000, allNodes: true });
  t.same(r.findings, []);
  t.same([r.drift, r.interfaces, r.peers], [false, 5, 14]);
  t.equal(verifyText(r), "no drift: 5 interfaces and 14 peers match the plan\n");
});

const swap = (lines: string[], from: string, to: string) => lines.map((l) => l.split(from).join(to));
const pk = (id: string) => keyFor(id).publicKey;
const addr = (id: string) => plan.nodes.find((n) => n.id === id)!.address;
const peerLine = (iface: string, id: string, allowed: string, handshake = HANDSHAKE) => [iface, pk(id), "(none)", "(none)", allowed, String(handshake), "0", "0", "25"].join("\t");

t.test("each kind of drift", async (t) => {
  const base = liveDump();
  const w1Line = base.findIndex((l) => l.startsWith(`wg-w1\t`) && l.includes(pk("s1")));
  const cases: [string, string[], object, [DriftKind, string][]][] = [
    ["a peer the policy rejects", [...base, peerLine("wg-s1", "x1", "100.64.9.9/32")], {}, [["unexpected-peer", "node s1 has peer x1, which the policy rejects: `when node.attested` does not hold"]]],
    ["two admitted nodes no rule connects", [...base, peerLine("wg-w1", "w2", `${addr("w2")}/32`)], {}, [["unexpected-peer", "node w1 has peer w2, but no connect rule lets them talk"]]],
    ["an unknown key", [...base, peerLine("wg-w1", "stranger", "100.64.9.9/32")], {}, [["unexpected-peer", `node w1 has peer ${pk("stranger")}, which belongs to no node of the inventory`]]],
    ["a missing peer", base.filter((_, i) => i !== w1Line), {}, [["missing-peer", `node w1 lacks its planned peer s1 (${pk("s1")})`]]],
    ["AllowedIPs wider", base.map((l, i) => (i === w1Line ? l.replace("100.64.0.10/32", "100.64.0.0/10") : l)), {}, [
      ["allowed-ips-wider", "node w1's peer s1 has AllowedIPs 100.64.0.0/10; the plan allows only 100.64.0.10/32"],
      ["allowed-ips-missing", "node w1's peer s1 lacks its planned AllowedIPs 100.64.0.10/32"],
    ]],
    ["AllowedIPs with an extra range", base.map((l, i) => (i === w1Line ? l.replace("100.64.0.10/32", "100.64.0.10/32,0.0.0.0/0") : l)), {}, [
      ["allowed-ips-wider", "node w1's peer s1 has AllowedIPs 100.64.0.10/32, 0.0.0.0/0; the plan allows only 100.64.0.10/32"],
    ]],
    // An IPv4-mapped IPv6 range is not the IPv4 address: WireGuard keeps it in its IPv6 table.
    ["AllowedIPs as an IPv4-mapped IPv6 address", base.map((l, i) => (i === w1Line ? l.replace("100.64.0.10/32", "::ffff:100.64.0.10/128") : l)), {}, [
      ["allowed-ips-wider", "node w1's peer s1 has AllowedIPs ::ffff:100.64.0.10/128; the plan allows only 100.64.0.10/32"],
      ["allowed-ips-missing", "node w1's peer s1 lacks its planned AllowedIPs 100.64.0.10/32"],
    ]],
    ["an interface whose key is not in the inventory", swap(base, pk("g1"), pk("stranger")).filter((l) => !l.startsWith("wg-g1\t") || l.split("\t").length === 5), {}, [
      ["unexpected-peer", `node d1 has peer ${pk("stranger")}, which belongs to no node of the inventory`],
      ["missing-peer", `node d1 lacks its planned peer g1 (${pk("g1")})`],
      ["unknown-interface", `interface wg-g1 has public key ${pk("stranger")}, which belongs to no node of the inventory`],
      ["unexpected-peer", `node s1 has peer ${pk("stranger")}, which belongs to no node of the inventory`],
      ["missing-peer", `node s1 lacks its planned peer g1 (${pk("g1")})`],
    ]],
    ["a rejected node's interface with peers", [...base, ["wg-x1", "(none)", pk("x1"), "51820", "off"].join("\t"), peerLine("wg-x1", "s1", "100.64.0.10/32")], {}, [
      ["unexpected-peer", "interface wg-x1 (node x1, rejected: `when node.attested` does not hold) has peer node s1"],
    ]],
    ["a wrong listen port", base.map((l) => (l.startsWith("wg-d1\t") && l.split("\t").length === 5 ? l.replace("\t51820\t", "\t51999\t") : l)), {}, [["listen-port", "interface wg-d1 (node d1) listens on 51999, the mesh says 51820"]]],
    ["a stale handshake", base.map((l, i) => (i === w1Line ? l.replace(`\t${HANDSHAKE}\t`, `\t${HANDSHAKE - 600}\t`) : l)), { handshakeWithinMs: 300_000 }, [["stale-handshake", "node w1's latest handshake with s1 was 10m30s ago, over 5m"]]],
    ["no handshake ever", base.map((l, i) => (i === w1Line ? l.replace(`\t${HANDSHAKE}\t`, "\t0\t") : l)), { handshakeWithinMs: 300_000 }, [["stale-handshake", "node w1 has never completed a handshake with s1 (bound 5m)"]]],
    ["a node missing from a whole-mesh dump", base.filter((l) => !l.startsWith("wg-g1\t")), { allNodes: true }, [
      ["missing-node", "node g1 has no interface in the dump"],
    ]],
    ["no interface at all", [], {}, [["no-interface", "the dump shows no WireGuard interface"]]],
    ["no interface of that name", base, { interfaceName: "swarm" }, [["no-interface", "the dump shows no WireGuard interface named swarm"]]],
  ];
  for (const [name, lines, opts, want] of cases) {
    const r = verify(lines, opts);
    t.same(r.findings.map((f) => [f.kind, f.message]), want, name);
    t.equal(r.drift, true, name);
  }
  t.same(verify(base.filter((l) => l.startsWith("wg-w1\t")), { interfaceName: "wg-w1" }).findings, [], "one host's dump, filtered to its interface");
  // `wg show wg-w1 dump` prints no interface column: --interface names the interface it shows.
  const single = base.filter((l) => l.startsWith("wg-w1\t")).map((l) => l.slice("wg-w1\t".length));
  t.same(verify(single, { interfaceName: "wg-w1" }).findings, [], "one interface's dump, named by the caller");
  t.same(verify([...single, peerLine("", "x1", "100.64.9.9/32").slice(1)], { interfaceName: "wg-w1" }).findings.map((f) => [f.kind, f.interface]), [["unexpected-peer", "wg-w1"]]);
});

t.test("keys older than key_age, judged at verification time", async (t) => {
  // Planned on day 9 of the keys' life; verified on day 40: re-planning rejects every node.
  const later = Date.parse("2026-02-10T00:00:00Z");
  const replanned = planMesh(engine, fixtureInventory(), { time: later }) as MeshPlan;
  const r = verifyMesh(replanned, parseWgDump(liveDump().join("\n")), { now: later });
  const aged = r.findings.filter((f) => f.kind === "key-too-old").map((f) => f.message);
  t.same(aged, ["d1", "g1", "s1", "w1", "w2"].map((id) => `the key of node ${id} is 40d old, over the mesh's key_age of 30d`));
  t.ok(r.findings.some((f) => f.kind === "unexpected-peer" && f.message.includes("WireGuard key older than 30 days")));
  const fresh = planMesh(engine, [...fixtureInventory(), node("new", ["worker"], { key_created_at: "2026-02-09T00:00:00Z" })], { time: later }) as MeshPlan;
  t.same(fresh.nodes.map((n) => n.id), ["new"]);
});

t.test("text output", async (t) => {
  const r = verify([...liveDump(), peerLine("wg-s1", "x1", "100.64.9.9/32")]);
  t.equal(verifyText(r), `unexpected-peer: node s1 has peer x1, which the policy rejects: \`when node.attested\` does not hold (dump line ${liveDump().length + 1})\ndrift: 1 finding (5 interfaces, 15 peers checked)\n`);
  void topo;
});
