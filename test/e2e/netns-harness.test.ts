/**
 * The namespace lab itself (test/support/netns.ts), with hand-written
 * WireGuard configs and keys from the real `wg genkey`: two peered nodes ping
 * and connect over the overlay, a third node that only one side knows cannot,
 * a re-apply replaces peers and routes, and nothing is left behind, neither
 * after t.teardown nor when the process dies of SIGTERM (tap's timeout).
 * Skipped, with the reason, where the machine lacks root, /dev/net/tun or the tools.
 */
import t from "tap";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { MeshLab, listNamespaces, must, netnsSupport, parseWgQuick } from "../support/netns.js";

const support = netnsSupport();
const skip = support.ok ? false : `WireGuard lab unavailable: ${support.reason}`;
if (!support.ok) t.comment(`skipping: ${support.reason}`);

async function keyPair(): Promise<{ privateKey: string; publicKey: string }> {
  const privateKey = (await must(["wg", "genkey"])).trim();
  const publicKey = (await must(["wg", "pubkey"], { input: `${privateKey}\n` })).trim();
  return { privateKey, publicKey };
}

interface PeerSpec {
  publicKey: string;
  address: string;
  endpoint: string;
}

function conf(privateKey: string | undefined, address: string, peers: PeerSpec[]): string {
  const lines = ["[Interface]", `Address = ${address}/32`, "ListenPort = 51820"];
  if (privateKey) lines.push(`PrivateKey = ${privateKey}`);
  for (const p of peers) {
    lines.push("", "[Peer]", `PublicKey = ${p.publicKey}`, `AllowedIPs = ${p.address}/32`, `Endpoint = ${p.endpoint}`, "PersistentKeepalive = 25");
  }
  return `${lines.join("\n")}\n`;
}

t.test("parseWgQuick reads what wg setconf does not", async (t) => {
  const parsed = parseWgQuick(
    "[Interface]\nAddress = 100.64.0.1/32, fd00::1/128 # two\nMTU = 1380\nPostUp = wg set %i private-key /k\n\n[Peer]\nAllowedIPs = 100.64.0.2/32\n[Peer]\n# AllowedIPs = 10.0.0.0/8\nAllowedIPs = 100.64.0.3/32,100.64.0.4/32\n",
  );
  t.same(parsed, {
    addresses: ["100.64.0.1/32", "fd00::1/128"],
    mtu: 1380,
    allowedIps: ["100.64.0.2/32", "100.64.0.3/32", "100.64.0.4/32"],
    hasPrivateKey: false,
  });
});

t.test("two peered namespaces talk over WireGuard; an unknown key does not", { skip }, async (t) => {
  const lab = await MeshLab.create(["a", "b", "c"]);
  t.teardown(() => lab.cleanup());
  const dir = mkdtempSync(path.join(os.tmpdir(), "sp-e2e-harness-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  const [ka, kb, kc] = await Promise.all([keyPair(), keyPair(), keyPair()]);
  const a = { ...lab.node("a"), overlay: "100.64.0.1" };
  const b = { ...lab.node("b"), overlay: "100.64.0.2" };
  const c = { ...lab.node("c"), overlay: "100.64.0.3" };
  const peerOf = (n: typeof a, k: { publicKey: string }): PeerSpec => ({
    publicKey: k.publicKey,
    address: n.overlay,
    endpoint: `${n.underlay}:51820`,
  });
  // a and b know each other; c knows a, but a does not know c.
  writeFileSync(path.join(dir, "a.conf"), conf(ka.privateKey, a.overlay, [peerOf(b, kb)]), { mode: 0o600 });
  // b keeps its key in a file, as a PostUp-style config would.
  writeFileSync(path.join(dir, "b.conf"), conf(undefined, b.overlay, [peerOf(a, ka)]), { mode: 0o600 });
  writeFileSync(path.join(dir, "b.key"), `${kb.privateKey}\n`, { mode: 0o600 });
  writeFileSync(path.join(dir, "c.conf"), conf(kc.privateKey, c.overlay, [peerOf(a, ka)]), { mode: 0o600 });

  await Promise.all(["a", "b", "c"].map((n) => lab.startWireguard(n)));
  await lab.applyWgQuick("a", path.join(dir, "a.conf"));
  await lab.applyWgQuick("b", path.join(dir, "b.conf"), { privateKeyFile: path.join(dir, "b.key") });
  await lab.applyWgQuick("c", path.join(dir, "c.conf"));

  // The underlay works in every direction; the overlay only where both sides agree.
  const [underlay, ab, ba, ca, ac] = await Promise.all([
    lab.ping("c", a.underlay),
    lab.ping("a", b.overlay),
    lab.ping("b", a.overlay),
    lab.ping("c", a.overlay),
    lab.ping("a", c.overlay),
  ]);
  t.ok(underlay, "underlay: c reaches a on 198.18/15");
  t.ok(ab, "a reaches b over WireGuard");
  t.ok(ba, "b reaches a over WireGuard");
  t.notOk(ca, "c's handshake is refused: a does not know c's key");
  t.notOk(ac, "a has no peer (and no route) for c");

  const dump = await lab.wgDump();
  const aPeers = dump.split("\n").filter((l) => l.startsWith(`${a.iface}\t`));
  t.equal(aPeers.length, 2, "a: the interface line and one peer");
  t.match(aPeers[1], new RegExp(`^${a.iface}\\t${kb.publicKey.replace(/[+/]/g, "\\$&")}\\t`));
  // wg(8): the interface line of a dump carries the private key; `mesh verify` must drop it unread.
  t.match(aPeers[0], `${a.iface}\t${ka.privateKey}\t${ka.publicKey}\t51820\t`);

  await lab.listenTcp("b", b.overlay, [7000]);
  t.same(await lab.tcpConnect("a", [{ address: b.overlay, port: 7000 }, { address: b.overlay, port: 7001 }]), [true, false]);

  // Re-apply: a now peers with c instead of b; routes follow.
  writeFileSync(path.join(dir, "a.conf"), conf(ka.privateKey, a.overlay, [peerOf(c, kc)]), { mode: 0o600 });
  await lab.applyWgQuick("a", path.join(dir, "a.conf"));
  const routes = await must(["ip", "-n", a.namespace, "route", "show", "dev", a.iface]);
  t.match(routes, c.overlay);
  t.notMatch(routes, b.overlay, "b's route is gone");
  const [ab2, ca2] = await Promise.all([lab.ping("a", b.overlay), lab.ping("c", a.overlay)]);
  t.notOk(ab2, "a no longer reaches b");
  t.ok(ca2, "c reaches a now that a knows it");

  const made = lab.namespaceNames;
  t.equal(made.length, 4, "underlay + three nodes");
  lab.cleanup();
  const left = listNamespaces();
  t.same(made.filter((ns) => left.includes(ns)), [], "no namespace left");
  for (const n of [a, b, c]) t.notOk(existsSync(`/var/run/wireguard/${n.iface}.sock`), `${n.name}: no control socket left`);
});

t.test("a process killed by SIGTERM (tap's timeout) still cleans up", { skip }, async (t) => {
  const netns = path.join(path.dirname(fileURLToPath(import.meta.url)), "../support/netns.ts");
  const script = [
    `import { MeshLab } from ${JSON.stringify(netns)};`,
    `const lab = await MeshLab.create(["x", "y"]);`,
    `await lab.startWireguard("x");`,
    `console.log(JSON.stringify(lab.namespaceNames));`,
    `setInterval(() => {}, 1000);`,
  ].join("\n");
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.teardown(() => void child.kill("SIGKILL"));
  let out = "";
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const made = await new Promise<string[]>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("\n")) resolve(JSON.parse(out.split("\n")[0]!) as string[]);
    });
    child.on("exit", (code) => reject(new Error(`child exited ${code} before the lab was up: ${err}`)));
  });
  t.equal(made.length, 3);
  t.same(made.filter((ns) => !listNamespaces().includes(ns)), [], "the lab is up");
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
  child.kill("SIGTERM");
  t.equal(await exited, "SIGTERM", "the child still dies of the signal");
  const left = listNamespaces();
  t.same(made.filter((ns) => left.includes(ns)), [], "no namespace left");
});
