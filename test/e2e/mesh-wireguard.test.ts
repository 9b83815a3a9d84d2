/**
 * The mesh on real WireGuard (issue 5): five network namespaces on a bridge
 * (underlay 198.18.0.0/15), wireguard-go in each. `swarm-policy mesh plan`
 * renders the configs; they are applied with `wg-quick strip` + `wg setconf`
 * and `ip`, the nftables rules with `nft -f`. Then:
 * - every allowed pair pings each other over the overlay (100.64.0.0/10) and
 *   every pair the policy separates does not, including the node admission
 *   rejected, even though it is configured with every key and endpoint;
 * - TCP connects where the ports allow and not where they do not;
 * - `mesh verify` against the live `wg show all dump` flags the rejected
 *   node's peers, and is clean once they are gone;
 * - one node's key is rotated and the mesh re-planned: verify reports the
 *   drift of the live mesh, the new configs are applied, verify is clean and
 *   the rotated node talks again.
 * Every namespace and process is removed even on failure (test/support/netns.ts).
 * Skipped, with the reason printed, without root, /dev/net/tun or the tools.
 */
import t from "tap";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { generateKeyPair, privateKeyText } from "../../src/runtime/mesh/keys.js";
import { run } from "../cli/run.js";
import { MeshLab, listNamespaces, netnsSupport } from "../support/netns.js";
import { MESH_POLICY } from "../support/mesh-fixture.js";

const support = netnsSupport();
if (!support.ok) t.comment(`skipping the WireGuard end-to-end test: ${support.reason}`);

const NAMES = ["w1", "w2", "s1", "g1", "x1"] as const;
type Name = (typeof NAMES)[number];
const ADMITTED: Name[] = ["w1", "w2", "s1", "g1"];
const ALLOWED_PAIRS = new Set(["w1|s1", "w2|s1", "s1|g1"]);
const pairKey = (a: Name, b: Name) => (ALLOWED_PAIRS.has(`${a}|${b}`) ? `${a}|${b}` : `${b}|${a}`);

interface Finding {
  kind: string;
  node: string | null;
  peer: string | null;
}

t.test("a planned mesh on wireguard-go: reachability, ports, verify, key rotation", { skip: support.ok ? false : support.reason! }, async (t) => {
  const lab = await MeshLab.create([...NAMES]);
  const made = lab.namespaceNames;
  t.teardown(() => {
    lab.cleanup();
    const left = listNamespaces();
    if (made.some((ns) => left.includes(ns))) throw new Error(`namespaces left behind: ${made.filter((ns) => left.includes(ns)).join(", ")}`);
  });
  const cwd = mkdtempSync(path.join(os.tmpdir(), "sp-e2e-mesh-"));
  t.teardown(() => rmSync(cwd, { recursive: true, force: true }));
  writeFileSync(path.join(cwd, "lab.policy"), MESH_POLICY);

  const now = Date.now();
  const keys = new Map<Name, ReturnType<typeof generateKeyPair>>();
  const keyFile = (n: Name) => path.join(cwd, `${n}.key`);
  const writeKey = (n: Name) => {
    const pair = generateKeyPair();
    keys.set(n, pair);
    writeFileSync(keyFile(n), `${privateKeyText(pair.privateKey)}\n`, { mode: 0o600 });
  };
  for (const n of NAMES) writeKey(n);
  const keyDate = new Map<Name, string>(NAMES.map((n) => [n, new Date(now - 86_400_000).toISOString()]));
  const tags: Record<Name, string[]> = { w1: ["worker"], w2: ["worker"], s1: ["scheduler"], g1: ["gateway"], x1: ["scheduler"] };
  const writeInventory = () =>
    writeFileSync(
      path.join(cwd, "nodes.json"),
      JSON.stringify(
        NAMES.map((n) => ({
          id: n,
          public_key: keys.get(n)!.publicKey,
          tags: tags[n],
          attested: n !== "x1",
          key_created_at: keyDate.get(n),
          endpoint: `${lab.node(n).underlay}:51820`,
        })),
      ),
    );
  writeInventory();

  const plan = async () => {
    const r = await run(["mesh", "plan", "lab.policy", "--nodes", "nodes.json", "--out", "out", "-f", "json"], { cwd });
    t.equal(r.code, 0, `mesh plan: ${r.stderr}`);
    return JSON.parse(readFileSync(path.join(cwd, "out/plan.json"), "utf8")) as { nodes: { id: Name; address: string }[]; rejected: { id: string; reasons: string[] }[] };
  };
  const apply = async (n: Name) => {
    await lab.applyWgQuick(n, path.join(cwd, `out/nodes/${n}/lab.conf`), { privateKeyFile: keyFile(n) });
    // The plan names the interface "lab"; lab interfaces need machine-unique names (wireguard-go's
    // sockets share /var/run/wireguard), so the rules are pointed at this node's interface.
    const rules = readFileSync(path.join(cwd, `out/nodes/${n}/lab.nft`), "utf8").replace('iifname != "lab"', `iifname != "${lab.node(n).iface}"`);
    const file = path.join(cwd, `${n}.nft`);
    writeFileSync(file, rules);
    await lab.applyNft(n, file);
  };
  const verify = async (extra: string[] = []) => {
    const r = await run(["mesh", "verify", "lab.policy", "--nodes", "nodes.json", "--dump", "-", "-f", "json", ...extra], { cwd, stdin: await lab.wgDump() });
    t.not(r.code, 2, `mesh verify: ${r.stderr}`);
    return { code: r.code, findings: (JSON.parse(r.stdout) as { findings: Finding[] }).findings };
  };

  const planned = await plan();
  t.same(planned.nodes.map((n) => n.id).sort(), [...ADMITTED].sort(), "four admitted");
  t.same(planned.rejected, [{ id: "x1", reasons: ["`when node.attested` does not hold"], errors: [] }], "x1 rejected by admission");
  const overlay = new Map<Name, string>(planned.nodes.map((n) => [n.id, n.address]));

  await Promise.all(NAMES.map((n) => lab.startWireguard(n)));
  for (const n of ADMITTED) await apply(n);
  // The rejected node tries anyway: a config with every admitted node as its peer, and an address.
  const rogue = [
    "[Interface]",
    "Address = 100.64.255.1/10",
    "ListenPort = 51820",
    ...ADMITTED.flatMap((n) => ["", "[Peer]", `PublicKey = ${keys.get(n)!.publicKey}`, `AllowedIPs = ${overlay.get(n)}/32`, `Endpoint = ${lab.node(n).underlay}:51820`]),
  ];
  writeFileSync(path.join(cwd, "lab.conf"), rogue.join("\n") + "\n", { mode: 0o600 });
  await lab.applyWgQuick("x1", path.join(cwd, "lab.conf"), { privateKeyFile: keyFile("x1") });

  // Reachability: every ordered pair of nodes, at once.
  const pairs: [Name, Name][] = [];
  for (const a of NAMES) for (const b of NAMES) if (a !== b) pairs.push([a, b]);
  const target = (n: Name) => overlay.get(n) ?? "100.64.255.1";
  const pings = await Promise.all(pairs.map(([a, b]) => lab.ping(a, target(b), 3)));
  pairs.forEach(([a, b], i) => {
    const allowed = a !== "x1" && b !== "x1" && ALLOWED_PAIRS.has(pairKey(a, b));
    t.equal(pings[i], allowed, `${a} ${allowed ? "reaches" : "does not reach"} ${b} over the overlay`);
  });

  // Ports: s1 listens on 7000-7002, w1 on 7000, g1 on 8080.
  await Promise.all([lab.listenTcp("s1", overlay.get("s1")!, [7000, 7001, 7002]), lab.listenTcp("w1", overlay.get("w1")!, [7000]), lab.listenTcp("g1", overlay.get("g1")!, [8080])]);
  const tcp: [Name, Name, number, boolean, string][] = [
    ["w1", "s1", 7000, true, "worker -> scheduler on a job port"],
    ["w2", "s1", 7001, true, "worker -> scheduler on the other job port"],
    ["w1", "s1", 7002, false, "not a port of the rule: nft drops it"],
    ["s1", "w1", 7000, false, "the rule is one way: nothing may open a connection to a worker"],
    ["g1", "s1", 7002, true, "gateway <-> scheduler: any port"],
    ["s1", "g1", 8080, true, "and the other way"],
    ["w1", "g1", 8080, false, "not peers"],
  ];
  const results = await Promise.all(tcp.map(([a, b, port]) => lab.tcpConnect(a, [{ address: overlay.get(b)!, port }])));
  tcp.forEach(([a, b, port, want, why], i) => t.equal(results[i]![0], want, `TCP ${a} -> ${b}:${port}: ${why}`));

  // Verify the live mesh: the rejected node's interface has peers, which is drift.
  const first = await verify(["--handshake-within", "5m", "--all-nodes"]);
  t.equal(first.code, 1);
  t.same(first.findings.map((f) => [f.kind, f.node, f.peer]).sort(), ADMITTED.map((n) => ["unexpected-peer", "x1", n]).sort(), "exactly the rejected node's peers");
  for (const n of ADMITTED) await lab.exec("x1", ["wg", "set", lab.node("x1").iface, "peer", keys.get(n)!.publicKey, "remove"]);
  const clean = await verify(["--handshake-within", "5m", "--all-nodes"]);
  t.same(clean.findings, [], "clean once the rejected node has no peers");
  t.equal(clean.code, 0);

  // Rotate w1's key: new key file, new inventory entry, re-plan. The live mesh still has the old key.
  writeKey("w1");
  keyDate.set("w1", new Date().toISOString());
  writeInventory();
  const replanned = await plan();
  t.equal(replanned.nodes.find((n) => n.id === "w1")!.address, overlay.get("w1"), "the rotated node keeps its address");
  const before = await verify();
  t.equal(before.code, 1, "drift before the new configs are applied");
  t.same(
    before.findings.map((f) => [f.kind, f.node, f.peer && f.peer.length > 20 ? "old w1 key" : f.peer]).sort(),
    [
      ["unknown-interface", null, null],
      ["unexpected-peer", "s1", "old w1 key"],
      ["missing-peer", "s1", "w1"],
    ].sort(),
  );
  for (const n of ADMITTED) await apply(n);
  // `wg setconf` replaces the peers, and with them their handshakes: every allowed pair talks again.
  // A node applied before its peer sends its first handshake to a peer that does not know its new
  // key yet; WireGuard retries after REKEY_TIMEOUT (5 s), so each ping may wait up to 8 s.
  const again = await Promise.all([...ALLOWED_PAIRS].flatMap((p) => {
    const [a, b] = p.split("|") as [Name, Name];
    return [lab.ping(a, overlay.get(b)!, 8), lab.ping(b, overlay.get(a)!, 8)];
  }));
  t.same(again, [...ALLOWED_PAIRS].flatMap(() => [true, true]), "every allowed pair, w1 with its new key included, reaches each other");
  t.notOk(await lab.ping("w1", overlay.get("w2")!, 2), "w1 is still separated from w2");
  const after = await verify(["--handshake-within", "5m"]);
  t.same(after.findings, [], "clean after applying the re-planned configs");
  t.equal(after.code, 0);
});
