/**
 * `swarm-policy mesh`: plan (files, modes, plan.json, stale files removed,
 * bad inventories and options), keys gen / pub, verify and graph through the
 * command line, with exit codes.
 */
import t, { type Test } from "tap";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { run } from "../run.js";
import { fixtureInventory, keyFor, MESH_POLICY, node } from "../../support/mesh-fixture.js";
import type { PlanJson } from "../../../src/runtime/mesh/plan-json.js";
import { INTERRUPTS, signalAtMarker } from "../../support/interrupts.js";

const TIME = "2026-01-10T00:00:00Z";

function workspace(t: Test): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "sp-mesh-cli-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, "lab.policy"), MESH_POLICY);
  writeFileSync(path.join(dir, "nodes.json"), JSON.stringify(fixtureInventory()));
  return dir;
}

const mode = (file: string) => statSync(file).mode & 0o777;

t.test("mesh plan writes configs, rules and plan.json", async (t) => {
  const cwd = workspace(t);
  const r = await run(["mesh", "plan", "lab.policy", "--nodes", "nodes.json", "--out", "out", "--time", TIME], { cwd });
  t.equal(r.code, 0, r.stderr);
  t.equal(
    r.stdout,
    'mesh "lab": 5 admitted, 2 rejected, 7 peerings (at most 4 peers per node)\n' +
      "  rejected old1: WireGuard key older than 30 days\n" +
      "  rejected x1: `when node.attested` does not hold\n" +
      "wrote 11 files to out\n",
  );
  const plan = JSON.parse(readFileSync(path.join(cwd, "out/plan.json"), "utf8")) as PlanJson;
  t.same(plan.summary, { inventory: 7, admitted: 5, rejected: 2, peerings: 7, max_peers: 4 });
  t.same(plan.mesh, { name: "lab", id: "lab.mesh/lab", network: "100.64.0.0/10", listen_port: 51820, keepalive_seconds: 25, max_key_age: "30d", interface: "lab" });
  t.equal(plan.time, "2026-01-10T00:00:00.000Z");
  t.same(plan.nodes.find((n) => n.id === "s1"), {
    id: "s1",
    address: "100.64.0.10",
    public_key: keyFor("s1").publicKey,
    endpoint: "198.18.0.12:51820",
    tags: ["scheduler"],
    pinned: true,
    peers: 4,
  });
  t.same(plan.rejected, [
    { id: "old1", reasons: ["WireGuard key older than 30 days"], errors: [] },
    { id: "x1", reasons: ["`when node.attested` does not hold"], errors: [] },
  ]);
  t.same(plan.edges.map((e) => [e.rule, e.from, e.to, e.ports]), [
    ['"worker" -> "scheduler" ports [7000, 7001]', ["w1", "w2"], ["s1"], [7000, 7001]],
    ['"scheduler" <-> "gateway" ("scheduler" to "gateway")', ["s1"], ["g1"], null],
    ['"scheduler" <-> "gateway" ("gateway" to "scheduler")', ["g1"], ["s1"], null],
    ['"*" -> "dns" ports [53]', ["d1", "g1", "s1", "w1", "w2"], ["d1"], [53]],
  ]);
  for (const id of ["d1", "g1", "s1", "w1", "w2"]) {
    t.equal(mode(path.join(cwd, `out/nodes/${id}/lab.conf`)), 0o600, `${id}.conf is 0600`);
    t.equal(mode(path.join(cwd, `out/nodes/${id}/lab.nft`)), 0o644);
  }
  t.notOk(existsSync(path.join(cwd, "out/nodes/x1")), "no config for a rejected node");
  t.match(
    readFileSync(path.join(cwd, "out/nodes/w1/lab.conf"), "utf8"),
    "PreUp = nft -f /etc/wireguard/lab.nft\n" +
      "PostUp = wg set %i private-key /etc/wireguard/lab.key\n" +
      "PostDown = nft add table inet swarm_policy_lab \\; delete table inet swarm_policy_lab\n",
    "the config loads the node's rules itself",
  );
  t.match(readFileSync(path.join(cwd, "out/nodes/w1/lab.nft"), "utf8"), "\ntable inet swarm_policy_lab {\n", "the table PostDown removes");

  // Re-plan after w2 is dropped from the inventory: its files go, nothing else in out/ is touched.
  writeFileSync(path.join(cwd, "out/notes.txt"), "mine");
  writeFileSync(path.join(cwd, "nodes.json"), JSON.stringify(fixtureInventory().filter((n) => n.id !== "w2")));
  const again = await run(["mesh", "plan", "lab.policy", "-n", "nodes.json", "-o", "out", "--time", TIME, "-f", "json"], { cwd });
  t.equal(again.code, 0, again.stderr);
  const summary = JSON.parse(again.stdout) as { removed: string[]; summary: { admitted: number } };
  t.same(summary.removed, ["nodes/w2/lab.conf", "nodes/w2/lab.nft"]);
  t.equal(summary.summary.admitted, 4);
  t.notOk(existsSync(path.join(cwd, "out/nodes/w2")));
  t.equal(readFileSync(path.join(cwd, "out/notes.txt"), "utf8"), "mine");
  const plan2 = JSON.parse(readFileSync(path.join(cwd, "out/plan.json"), "utf8")) as PlanJson;
  for (const n of plan2.nodes) t.equal(n.address, plan.nodes.find((m) => m.id === n.id)!.address, `${n.id} keeps its address`);
});

t.test("mesh plan: custom interface, key file and nft file; bad options and inventories", async (t) => {
  const cwd = workspace(t);
  const ok = await run(["mesh", "plan", "lab.policy", "-n", "nodes.json", "-o", "o2", "--time", TIME, "--interface", "wg-swarm", "--key-file", "/srv/keys/wg.key"], { cwd });
  t.equal(ok.code, 0, ok.stderr);
  t.match(readFileSync(path.join(cwd, "o2/nodes/s1/wg-swarm.conf"), "utf8"), "PostUp = wg set %i private-key /srv/keys/wg.key\n");
  t.match(readFileSync(path.join(cwd, "o2/nodes/s1/wg-swarm.conf"), "utf8"), "PreUp = nft -f /etc/wireguard/wg-swarm.nft\n", "the default rule file follows --interface");
  const nftFile = await run(["mesh", "plan", "lab.policy", "-n", "nodes.json", "-o", "o4", "--time", TIME, "--nft-file", "/srv/rules/wg.nft"], { cwd });
  t.equal(nftFile.code, 0, nftFile.stderr);
  t.match(readFileSync(path.join(cwd, "o4/nodes/s1/lab.conf"), "utf8"), "\nPreUp = nft -f /srv/rules/wg.nft\n");
  const noHook = await run(["mesh", "plan", "lab.policy", "-n", "nodes.json", "-o", "o5", "--time", TIME, "--no-nft-hook"], { cwd });
  t.equal(noHook.code, 0, noHook.stderr);
  t.notMatch(readFileSync(path.join(cwd, "o5/nodes/s1/lab.conf"), "utf8"), /PreUp|PostDown|nft/, "--no-nft-hook: no hooks");
  t.ok(existsSync(path.join(cwd, "o5/nodes/s1/lab.nft")), "--no-nft-hook: the rules are still written");
  // An inventory saved with a byte-order mark reads as policy files and eval inputs do.
  writeFileSync(path.join(cwd, "bom.json"), "\ufeff" + JSON.stringify(fixtureInventory()));
  const bom = await run(["mesh", "plan", "lab.policy", "-n", "bom.json", "-o", "o3", "--time", TIME], { cwd });
  t.equal(bom.code, 0, bom.stderr);
  t.match(bom.stdout, /5 admitted, 2 rejected/);
  writeFileSync(path.join(cwd, "bad.json"), JSON.stringify([node("a", ["worker"], { endpoint: "nowhere" }), { id: "b" }]));
  writeFileSync(path.join(cwd, "broken.json"), "[{");
  writeFileSync(path.join(cwd, "many.json"), JSON.stringify(Array.from({ length: 53 }, (_, i) => ({ id: `n${i}`, tags: [] }))));
  writeFileSync(path.join(cwd, "stray.json"), '[\n {"id": "a",\n  "tags": [}\n]\n');
  writeFileSync(path.join(cwd, "bad.policy"), 'mesh "m" {\n  network "100.64.0.1/10"\n}\n');
  const cases: [string, string[], number, RegExp][] = [
    ["bad inventory", ["mesh", "plan", "lab.policy", "-n", "bad.json", "-o", "x"], 2, /^swarm-policy: bad\.json: node "a" field endpoint: must be host:port or \[ipv6\]:port\nswarm-policy: bad\.json: node "b" field public_key: is required\n/],
    ["more problems than are listed", ["mesh", "plan", "lab.policy", "-n", "many.json", "-o", "x"], 2, /node "n49" field public_key: is required\nswarm-policy: many\.json: \.\.\. and 3 more problems\n$/],
    ["not JSON", ["mesh", "plan", "lab.policy", "-n", "broken.json", "-o", "x"], 2, /^swarm-policy: inventory broken\.json:1:3: not valid JSON: unexpected end of input\n$/],
    ["not JSON, line and column", ["mesh", "plan", "lab.policy", "-n", "stray.json", "-o", "x"], 2, /^swarm-policy: inventory stray\.json:3:12: not valid JSON: unexpected "}"\n$/],
    ["missing inventory", ["mesh", "plan", "lab.policy", "-n", "none.json", "-o", "x"], 2, /^swarm-policy: cannot read inventory none\.json: no such file or directory\n$/],
    ["bad time", ["mesh", "plan", "lab.policy", "-n", "nodes.json", "-o", "x", "--time", "yesterday"], 2, /--time must be an RFC 3339 time such as 2026-01-01T00:00:00Z, got "yesterday"/],
    ["no such day", ["mesh", "plan", "lab.policy", "-n", "nodes.json", "-o", "x", "--time", "2026-02-30T00:00:00Z"], 2, /--time must be an RFC 3339 time .* got "2026-02-30T00:00:00Z"/],
    ["hour 24", ["mesh", "plan", "lab.policy", "-n", "nodes.json", "-o", "x", "--time", "2026-01-01T24:00:00Z"], 2, /--time must be an RFC 3339 time/],
    ["bad interface", ["mesh", "plan", "lab.policy", "-n", "nodes.json", "-o", "x", "--interface", "much-too-long-name"], 2, /interface name "much-too-long-name" must be 1-15/],
    ["bad key file", ["mesh", "plan", "lab.policy", "-n", "nodes.json", "-o", "x", "--key-file", "k; reboot"], 2, /key file "k; reboot" must be an absolute path/],
    ["nft file with a space", ["mesh", "plan", "lab.policy", "-n", "nodes.json", "-o", "x", "--nft-file", "/etc/wire guard/lab.nft"], 2, /^swarm-policy: nft file "\/etc\/wire guard\/lab\.nft" must be an absolute path .*\(it is run by PreUp\)\n$/],
    ["nft file with a ;", ["mesh", "plan", "lab.policy", "-n", "nodes.json", "-o", "x", "--nft-file", "/lab.nft;reboot"], 2, /nft file "\/lab\.nft;reboot" must be an absolute path/],
    ["relative nft file", ["mesh", "plan", "lab.policy", "-n", "nodes.json", "-o", "x", "--nft-file", "lab.nft"], 2, /nft file "lab\.nft" must be an absolute path/],
    ["--nft-file with --no-nft-hook", ["mesh", "plan", "lab.policy", "-n", "nodes.json", "-o", "x", "--nft-file", "/r.nft", "--no-nft-hook"], 2, /^swarm-policy: --nft-file and --no-nft-hook cannot be used together\n$/],
    ["policy errors", ["mesh", "plan", "bad.policy", "-n", "nodes.json", "-o", "x"], 1, /has host bits set/],
    ["no --out", ["mesh", "plan", "lab.policy", "-n", "nodes.json"], 2, /required option '-o, --out <dir>' not specified/],
  ];
  for (const [name, args, code, stderr] of cases) {
    const r = await run(args, { cwd });
    t.equal(r.code, code, name);
    t.match(r.stderr, stderr, name);
    t.notMatch(r.stderr, /\n\s+at /, `${name}: no stack trace`);
  }
  t.notOk(existsSync(path.join(cwd, "x")), "nothing written on bad input");
  const inFile = path.join(cwd, "file");
  writeFileSync(inFile, "");
  const blocked = await run(["mesh", "plan", "lab.policy", "-n", "nodes.json", "-o", "file", "--time", TIME], { cwd });
  t.equal(blocked.code, 2);
  t.match(blocked.stderr, /^swarm-policy: cannot write the plan to file: /);
});

t.test("mesh plan --out and mesh keys gen --out: an empty value, or a flag taken as the value, is refused and nothing is written", async (t) => {
  const cwd = workspace(t);
  const before = readdirSync(cwd).sort();
  // "" resolved to the working directory: the plan (nodes/, plan.json) was written there, "wrote 11 files to ".
  for (const out of ["", " "]) {
    const r = await run(["mesh", "plan", "lab.policy", "--nodes", "nodes.json", "--out", out, "--time", TIME], { cwd });
    t.equal(r.code, 2, JSON.stringify(out));
    t.equal(r.stdout, "");
    t.equal(r.stderr, "swarm-policy: option '-o, --out <dir>' must not be empty or blank (add --help for usage)\n");
  }
  // `--out --force`: commander gives --out its next word, so the private key went to a file named --force.
  for (const args of [["--out", "--force"], ["--out=--force"], ["-o", "-f"]]) {
    const r = await run(["mesh", "keys", "gen", ...args], { cwd });
    t.equal(r.code, 2, args.join(" "));
    t.equal(r.stdout, "", "no key printed");
    t.match(r.stderr, /^swarm-policy: option '-o, --out <file>' got "(--force|-f)" as its value: give --out a value/);
  }
  const plan = await run(["mesh", "plan", "lab.policy", "--nodes", "nodes.json", "--out", "--format", "json", "--time", TIME], { cwd });
  t.equal(plan.code, 2);
  t.match(plan.stderr, /option '-o, --out <dir>' got "--format" as its value/);
  t.same(readdirSync(cwd).sort(), before, "nothing written");
  // A file really named like a flag is still reachable.
  const named = await run(["mesh", "keys", "gen", "--out", "./--force"], { cwd });
  t.equal(named.code, 0, named.stderr);
  t.ok(existsSync(path.join(cwd, "--force")));
});

t.test("mesh keys gen and pub", async (t) => {
  const cwd = workspace(t);
  const plain = await run(["mesh", "keys", "gen"], { cwd });
  t.equal(plain.code, 0);
  const [priv, pub] = plain.stdout.trim().split("\n");
  const derived = await run(["mesh", "keys", "pub"], { cwd, stdin: `${priv}\n` });
  t.equal(derived.stdout, `${pub}\n`, "keys pub derives the printed public key");

  const out = await run(["mesh", "keys", "gen", "--out", "k/node.key", "-f", "json"], { cwd: (mkdirSync(path.join(cwd, "k")), cwd) });
  t.equal(out.code, 0, out.stderr);
  const j = JSON.parse(out.stdout) as { public_key: string; private_key_file: string };
  t.same(Object.keys(j), ["public_key", "private_key_file"], "JSON never carries the private key");
  const keyFile = path.join(cwd, "k/node.key");
  t.equal(mode(keyFile), 0o600);
  const fromFile = await run(["mesh", "keys", "pub"], { cwd, stdin: readFileSync(keyFile, "utf8") });
  t.equal(fromFile.stdout, `${j.public_key}\n`);
  try {
    t.equal(execFileSync("wg", ["pubkey"], { input: readFileSync(keyFile) }).toString(), `${j.public_key}\n`, "the real wg agrees");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    t.comment("wg is not installed: comparison with wg pubkey skipped");
  }

  const again = await run(["mesh", "keys", "gen", "--out", "k/node.key"], { cwd });
  t.equal(again.code, 2);
  t.equal(again.stderr, "swarm-policy: k/node.key exists; use --force to replace it\n");
  t.equal(readFileSync(keyFile, "utf8").trim().length, 44, "the old key is untouched");
  const forced = await run(["mesh", "keys", "gen", "--out", "k/node.key", "--force"], { cwd });
  t.equal(forced.code, 0);
  t.notSame(forced.stdout.trim(), j.public_key);
  t.equal(mode(keyFile), 0o600);

  const json = await run(["mesh", "keys", "gen", "-f", "json"], { cwd });
  t.equal(json.code, 2);
  t.match(json.stderr, "JSON output never carries a private key");
  t.equal(json.stdout, "");
  const bad = await run(["mesh", "keys", "pub"], { cwd, stdin: "secret-but-wrong\n" });
  t.equal(bad.code, 2);
  t.equal(bad.stderr, "swarm-policy: standard input: not a WireGuard private key (32 bytes of base64)\n");
});

t.test("an inventory that is not UTF-8 is refused (exit 2), not read with U+FFFD", async (t) => {
  const cwd = workspace(t);
  const text = JSON.stringify([...fixtureInventory(), node("z1", ["worker"], { owner: "jos?" })]);
  const bytes = Buffer.from(text);
  bytes[bytes.indexOf("jos?") + 3] = 0xe9;
  writeFileSync(path.join(cwd, "nodes.json"), bytes);
  const r = await run(["mesh", "plan", "lab.policy", "-n", "nodes.json", "-o", "out", "--time", TIME], { cwd });
  t.equal(r.code, 2);
  t.match(r.stderr, /^swarm-policy: cannot read (inventory|nodes) nodes\.json: not valid UTF-8 \(byte 0xe9 at line 1, column \d+\)\n$/);
});

t.test("text output escapes control characters from the inventory, the policy and the dump", async (t) => {
  const cwd = workspace(t);
  const raw = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
  // An unreadable key_created_at is quoted in the rejection; a C1 CSI (U+009B) and a bidi override
  // (U+202E, which would reorder the rest of the line) survive JSON quoting.
  writeFileSync(path.join(cwd, "nodes.json"), JSON.stringify([...fixtureInventory(), node("z1", ["worker"], { key_created_at: "x\u009b2J\u001b]0;owned\u0007\u202e" })]));
  const planned = await run(["mesh", "plan", "lab.policy", "-n", "nodes.json", "-o", "out", "--time", TIME], { cwd });
  t.equal(planned.code, 0, planned.stderr);
  t.notMatch(planned.stdout, raw, "plan: no raw control character");
  t.match(planned.stdout, '  rejected z1: evaluation error; rejected to fail closed; `node.key_created_at` must be an RFC 3339 time or epoch seconds, found "x\\u009b2J\\u001b]0;owned\\u0007\\u202e"\n');
  // A dump's interface name is the dump's text.
  const w1 = keyFor("w1");
  writeFileSync(path.join(cwd, "dump.txt"), [`wg\u001b[2J`, w1.privateText, w1.publicKey, "51999", "off"].join("\t") + "\n");
  const verified = await run(["mesh", "verify", "lab.policy", "-n", "nodes.json", "-d", "dump.txt", "--time", TIME], { cwd });
  t.equal(verified.code, 1);
  t.notMatch(verified.stdout, raw, "verify: no raw control character");
  t.match(verified.stdout, "listen-port: interface wg\\u001b[2J (node w1) listens on 51999");
});

t.test("mesh keys gen --out interrupted while writing: no temporary key file stays, exit 128+n", async (t) => {
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
  for (const [signal, want] of INTERRUPTS) {
    const cwd = t.testdir({}); // inside the repository, so `--import tsx` resolves
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--import", pathToFileURL(path.join(repoRoot, "test/support/hang-fsync.mjs")).href, path.join(repoRoot, "src/cli/bin.ts"), "mesh", "keys", "gen", "--out", "node.key"],
      { cwd, stdio: ["ignore", "ignore", "pipe"] },
    );
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    // Once the key is in its temporary file and fsync hangs.
    await signalAtMarker(child, "fsync-hangs", signal, "before writing the key");
    t.equal(await exited, want, `${signal}: exit ${want}`);
    t.same(readdirSync(cwd), [], `${signal}: no key file and no temporary file holding the private key`);
  }
});

t.test("help has examples", async (t) => {
  const cwd = workspace(t);
  for (const verb of [["mesh"], ["mesh", "plan"], ["mesh", "verify"], ["mesh", "graph"], ["mesh", "keys", "gen"], ["mesh", "keys", "pub"]]) {
    const r = await run([...verb, "--help"], { cwd });
    t.equal(r.code, 0);
    t.match(r.stdout, /\$ swarm-policy mesh /, verb.join(" "));
  }
});

t.test("mesh verify: clean, drift, JSON, stdin, bad input", async (t) => {
  const cwd = workspace(t);
  const planned = await run(["mesh", "plan", "lab.policy", "-n", "nodes.json", "-o", "out", "--time", TIME, "-f", "json"], { cwd });
  t.equal(planned.code, 0, planned.stderr);
  const plan = JSON.parse(readFileSync(path.join(cwd, "out/plan.json"), "utf8")) as PlanJson;
  const at = (id: string) => plan.nodes.find((n) => n.id === id)!;
  const w1 = keyFor("w1");
  const peer = (id: string, handshake = Date.parse(TIME) / 1000 - 1000) => ["lab", at(id).public_key, "(none)", at(id).endpoint ?? "(none)", `${at(id).address}/32`, String(handshake), "0", "0", "25"].join("\t");
  const iface = ["lab", w1.privateText, w1.publicKey, "51820", "off"].join("\t");
  writeFileSync(path.join(cwd, "clean.txt"), [iface, peer("d1"), peer("s1")].join("\n") + "\n");
  writeFileSync(path.join(cwd, "drift.txt"), [iface, peer("s1"), peer("w2"), "junk"].join("\n") + "\n");
  const base = ["mesh", "verify", "lab.policy", "-n", "nodes.json", "--time", TIME];

  const clean = await run([...base, "-d", "clean.txt"], { cwd });
  t.equal(clean.code, 0, clean.stderr);
  t.equal(clean.stdout, "no drift: 1 interface and 2 peers match the plan\n");

  const drift = await run([...base, "-d", "drift.txt"], { cwd });
  t.equal(drift.code, 1);
  t.equal(
    drift.stdout,
    "unreadable-line: line 4: 1 tab-separated fields; an interface line has 5 (4 without the interface name), a peer line 9 (8)\n" +
      "unexpected-peer: node w1 has peer w2, but no connect rule lets them talk (dump line 3)\n" +
      `missing-peer: node w1 lacks its planned peer d1 (${at("d1").public_key}) (dump line 1)\n` +
      "drift: 3 findings (1 interfaces, 2 peers checked)\n",
  );
  const json = await run([...base, "-d", "-", "-f", "json", "--handshake-within", "5m"], { cwd, stdin: readFileSync(path.join(cwd, "clean.txt"), "utf8") });
  t.equal(json.code, 1);
  const report = JSON.parse(json.stdout) as { drift: boolean; mesh: string; time: string; findings: { kind: string; peer: string; line: number }[] };
  t.same([report.drift, report.mesh, report.time], [true, "lab", "2026-01-10T00:00:00.000Z"]);
  t.same(report.findings.map((f) => [f.kind, f.peer, f.line]), [["stale-handshake", "d1", 2], ["stale-handshake", "s1", 3]]);
  for (const r of [clean, drift, json]) t.notMatch(r.stdout + r.stderr, w1.privateText, "the dump's private key is never printed");

  // The sidecar of docs/mesh.md: `wg show lab dump` (no interface column) with --interface lab.
  const single = readFileSync(path.join(cwd, "clean.txt"), "utf8").replace(/^lab\t/gm, "");
  const sidecar = await run([...base, "-d", "-", "--interface", "lab"], { cwd, stdin: single });
  t.equal(sidecar.code, 0, sidecar.stdout);
  t.equal(sidecar.stdout, "no drift: 1 interface and 2 peers match the plan\n");
  const other = await run([...base, "-d", "-", "--interface", "lab", "-f", "json"], { cwd, stdin: single.replace(`\t${at("d1").address}/32\t`, "\t(none)\t") });
  t.same((JSON.parse(other.stdout) as { findings: { kind: string; interface: string }[] }).findings.map((f) => [f.kind, f.interface]), [["allowed-ips-missing", "lab"]], "findings name the interface");

  const fresh = await run([...base, "-d", "clean.txt", "--handshake-within", "30m"], { cwd });
  t.equal(fresh.code, 0, "handshakes 1,000 s before the verification time are within 30m");
  const bad: [string[], RegExp][] = [
    [[...base, "-d", "nope.txt"], /^swarm-policy: cannot read dump nope\.txt: no such file or directory\n$/],
    [[...base, "-d", "clean.txt", "--handshake-within", "soon"], /--handshake-within must be a duration above zero such as 500ms, 30s, 5m or 1h30m \(units ms s m h d w\), got "soon"/],
    [[...base, "-d", "clean.txt", "--handshake-within", "0s"], /--handshake-within must be a duration above zero/],
    // 10^42 hours was Infinity: no handshake was ever stale, the check off without a word.
    [[...base, "-d", "clean.txt", "--handshake-within", "9".repeat(42) + "h"], /--handshake-within must be a duration above zero .*got "9{42}h"/],
    [["mesh", "verify", "lab.policy", "-n", "-", "-d", "-"], /cannot both read standard input/],
  ];
  for (const [args, stderr] of bad) {
    const r = await run(args, { cwd });
    t.equal(r.code, 2, args.join(" "));
    t.match(r.stderr, stderr);
  }
});

t.test("mesh graph", async (t) => {
  const cwd = workspace(t);
  const mermaid = await run(["mesh", "graph", "lab.policy", "-n", "nodes.json", "--time", TIME], { cwd });
  t.equal(mermaid.code, 0, mermaid.stderr);
  t.match(mermaid.stdout, /^flowchart LR\n/);
  t.match(mermaid.stdout, '["x1<br/>#96;when node.attested#96; does not hold"]');
  const dot = await run(["mesh", "graph", "lab.policy", "-n", "nodes.json", "--time", TIME, "-f", "dot", "--by-tag"], { cwd });
  t.equal(dot.code, 0);
  t.match(dot.stdout, '  t0 -> t1 [label="7000, 7001"];');
  const bad = await run(["mesh", "graph", "lab.policy", "-n", "nodes.json", "-f", "svg"], { cwd });
  t.equal(bad.code, 2);
});
