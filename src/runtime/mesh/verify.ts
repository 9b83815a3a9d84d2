/**
 * Drift between a mesh plan and a live `wg show all dump` (pure; the CLI
 * reads the dump and plans at the current time).
 *
 * Each interface in the dump is matched to a node by its own public key, so
 * one dump may come from one node (a cron job or sidecar on each host) or
 * from many (a lab, a collector). Findings, each with the dump line:
 * - `unreadable-line`: a line that could not be read (never silently skipped);
 * - `no-interface`: the dump (after `--interface`) shows no interface at all;
 * - `unknown-interface`: an interface whose key belongs to no inventory node
 *   (a key rotated on the host but not in the inventory, a stray interface);
 * - `listen-port`: an interface not listening where the mesh says;
 * - `unexpected-peer`: a peer the policy does not allow: unknown key, a
 *   rejected node (with the rejection's reason), or an admitted node that no
 *   connect rule pairs with this one; every peer of a rejected node's
 *   interface is one;
 * - `missing-peer`: a planned peer absent from the interface;
 * - `allowed-ips-wider`: AllowedIPs beyond the peer's planned /32 (/128);
 *   `allowed-ips-missing`: the planned address itself is absent;
 * - `key-too-old`: a key in use (interface or peer) whose inventory
 *   `key_created_at` is older than the mesh's `require key_age`;
 * - `stale-handshake` (with `handshakeWithinMs`): a planned peer with no
 *   handshake, or none within the bound;
 * - `missing-node` (with `allNodes`): an admitted node with no interface in
 *   the dump, for dumps that cover the whole mesh.
 *
 * `interfaceName` keeps only that interface; a dump in the single-interface
 * form (`wg show IFACE dump`, no name column) is taken to be of that interface.
 */
import { IpValue, parseIp } from "../../checker/ip-value.js";
import { timeValueMs } from "../../evaluator/time.js";
import { formatDuration } from "../../evaluator/duration.js";
import { printable } from "../audit/report-text.js";
import { MeshTopology, type MeshPlan, type RejectedNode } from "./plan.js";
import type { DumpInterface, WgDump } from "./wg-dump.js";

export type DriftKind =
  | "unreadable-line"
  | "no-interface"
  | "unknown-interface"
  | "listen-port"
  | "unexpected-peer"
  | "missing-peer"
  | "allowed-ips-wider"
  | "allowed-ips-missing"
  | "key-too-old"
  | "stale-handshake"
  | "missing-node";

export interface Finding {
  kind: DriftKind;
  /** Interface name as the dump gives it ("" in the single-interface form); null when not about one. */
  interface: string | null;
  /** The node the interface belongs to, when known. */
  node: string | null;
  /** The peer's node id, else its public key; null when not about a peer. */
  peer: string | null;
  line: number | null;
  message: string;
}

export interface VerifyOptions {
  /** Epoch ms: key ages and handshakes are judged at this time. */
  now: number;
  /** Report planned peers without a handshake within this many ms. */
  handshakeWithinMs?: number;
  /** Only interfaces of this name (a single-interface dump, which prints no name, is taken to be this one). */
  interfaceName?: string;
  /** The dump covers every node: an admitted node without an interface is drift. */
  allNodes?: boolean;
}

export interface VerifyReport {
  drift: boolean;
  interfaces: number;
  peers: number;
  findings: Finding[];
}

type Owner = { admitted: number } | { rejected: RejectedNode };

// Exact family and bytes: the evaluator's reading of `::ffff:a.b.c.d` as IPv4 is right for
// policies but not here, since WireGuard keeps an IPv4-mapped range in its IPv6 table.
function sameCidr(a: string, b: string): boolean {
  const x = parseIp(a);
  const y = parseIp(b);
  return x instanceof IpValue && y instanceof IpValue && x.equals(y);
}

export function verifyMesh(plan: MeshPlan, dump: WgDump, options: VerifyOptions): VerifyReport {
  const findings: Finding[] = [];
  const topology = MeshTopology.of(plan);
  const host = plan.settings.space.hostPrefix;
  const owners = new Map<string, Owner>();
  for (const r of plan.rejected) owners.set(r.publicKey, { rejected: r });
  for (const n of plan.nodes) owners.set(n.publicKey, { admitted: n.index });
  const idOf = (o: Owner) => ("admitted" in o ? plan.nodes[o.admitted]!.id : o.rejected.id);

  for (const p of dump.problems) findings.push({ kind: "unreadable-line", interface: null, node: null, peer: null, line: p.line, message: `line ${p.line}: ${p.message}` });

  // `wg show IFACE dump` prints no interface column (name ""): the caller's --interface names it.
  const want = options.interfaceName;
  const interfaces =
    want === undefined ? dump.interfaces : dump.interfaces.filter((i) => i.name === want || i.name === "").map((i) => (i.name === "" ? { ...i, name: want } : i));
  if (interfaces.length === 0) {
    const which = options.interfaceName === undefined ? "" : ` named ${options.interfaceName}`;
    findings.push({ kind: "no-interface", interface: null, node: null, peer: null, line: null, message: `the dump shows no WireGuard interface${which}` });
  }

  const maxAge = plan.settings.maxKeyAgeMs;
  const agedReported = new Set<string>();
  const checkAge = (o: Owner, iface: DumpInterface, node: string | null, peer: string | null, line: number) => {
    if (maxAge === null) return;
    const id = idOf(o);
    const created = "admitted" in o ? plan.nodes[o.admitted]!.keyCreatedAt : o.rejected.keyCreatedAt;
    const ms = created === null ? Number.NaN : timeValueMs(created);
    if (agedReported.has(id) || !(options.now - ms > maxAge)) return;
    agedReported.add(id);
    const age = formatDuration(Math.floor((options.now - ms) / 86_400_000) * 86_400_000);
    findings.push({ kind: "key-too-old", interface: iface.name, node, peer, line, message: `the key of node ${id} is ${age} old, over the mesh's key_age of ${plan.settings.maxKeyAgeText}` });
  };

  const seenNodes = new Set<number>();
  let peerCount = 0;
  for (const iface of interfaces) {
    peerCount += iface.peers.length;
    const label = iface.name === "" ? "the interface" : `interface ${iface.name}`;
    const owner = iface.publicKey === null ? undefined : owners.get(iface.publicKey);
    const at = (kind: DriftKind, node: string | null, peer: string | null, line: number, message: string) =>
      findings.push({ kind, interface: iface.name, node, peer, line, message });
    if (owner === undefined) {
      at("unknown-interface", null, null, iface.line, `${label} has ${iface.publicKey === null ? "no public key" : `public key ${iface.publicKey}`}, which belongs to no node of the inventory`);
      continue;
    }
    const self = idOf(owner);
    checkAge(owner, iface, self, null, iface.line);
    if ("rejected" in owner) {
      const why = owner.rejected.reasons.join("; ");
      for (const p of iface.peers) {
        const o = owners.get(p.publicKey);
        at("unexpected-peer", self, o ? idOf(o) : p.publicKey, p.line, `${label} (node ${self}, rejected: ${why}) has peer ${o ? `node ${idOf(o)}` : p.publicKey}`);
      }
      continue;
    }
    const me = owner.admitted;
    seenNodes.add(me);
    if (plan.settings.listenPort !== null && iface.listenPort !== plan.settings.listenPort) {
      at("listen-port", self, null, iface.line, `${label} (node ${self}) listens on ${iface.listenPort ?? "no fixed port"}, the mesh says ${plan.settings.listenPort}`);
    }
    const planned = new Set(topology.peersOf(me));
    const present = new Set<number>();
    for (const p of iface.peers) {
      const o = owners.get(p.publicKey);
      if (o === undefined) {
        at("unexpected-peer", self, p.publicKey, p.line, `node ${self} has peer ${p.publicKey}, which belongs to no node of the inventory`);
        continue;
      }
      const pid = idOf(o);
      checkAge(o, iface, self, pid, p.line);
      if ("rejected" in o) {
        at("unexpected-peer", self, pid, p.line, `node ${self} has peer ${pid}, which the policy rejects: ${o.rejected.reasons.join("; ")}`);
        continue;
      }
      if (!planned.has(o.admitted)) {
        at("unexpected-peer", self, pid, p.line, `node ${self} has peer ${pid}, but no connect rule lets them talk`);
        continue;
      }
      present.add(o.admitted);
      const want = `${plan.nodes[o.admitted]!.address}/${host}`;
      const extra = p.allowedIps.filter((c) => !sameCidr(c, want));
      if (extra.length > 0) at("allowed-ips-wider", self, pid, p.line, `node ${self}'s peer ${pid} has AllowedIPs ${p.allowedIps.join(", ")}; the plan allows only ${want}`);
      if (!p.allowedIps.some((c) => sameCidr(c, want))) at("allowed-ips-missing", self, pid, p.line, `node ${self}'s peer ${pid} lacks its planned AllowedIPs ${want}`);
      if (options.handshakeWithinMs !== undefined) {
        const bound = formatDuration(options.handshakeWithinMs);
        if (p.latestHandshake === 0) at("stale-handshake", self, pid, p.line, `node ${self} has never completed a handshake with ${pid} (bound ${bound})`);
        else if (options.now - p.latestHandshake * 1000 > options.handshakeWithinMs) {
          const ago = formatDuration(Math.max(0, Math.floor((options.now - p.latestHandshake * 1000) / 1000) * 1000));
          at("stale-handshake", self, pid, p.line, `node ${self}'s latest handshake with ${pid} was ${ago} ago, over ${bound}`);
        }
      }
    }
    for (const j of planned) {
      if (present.has(j)) continue;
      const pn = plan.nodes[j]!;
      at("missing-peer", self, pn.id, iface.line, `node ${self} lacks its planned peer ${pn.id} (${pn.publicKey})`);
    }
  }
  if (options.allNodes) {
    for (const n of plan.nodes) {
      if (!seenNodes.has(n.index)) findings.push({ kind: "missing-node", interface: null, node: n.id, peer: null, line: null, message: `node ${n.id} has no interface in the dump` });
    }
  }
  return { drift: findings.length > 0, interfaces: interfaces.length, peers: peerCount, findings };
}

/**
 * The report as text: one line per finding, then a summary line. Control characters (an
 * interface name from the dump, a reason from the policy) are written as \u escapes.
 */
export function verifyText(report: VerifyReport): string {
  const lines = report.findings.map((f) => printable(`${f.kind}: ${f.message}${f.line !== null && f.kind !== "unreadable-line" ? ` (dump line ${f.line})` : ""}`));
  lines.push(
    report.drift
      ? `drift: ${report.findings.length} finding${report.findings.length === 1 ? "" : "s"} (${report.interfaces} interfaces, ${report.peers} peers checked)`
      : `no drift: ${report.interfaces} interface${report.interfaces === 1 ? "" : "s"} and ${report.peers} peers match the plan`,
  );
  return lines.join("\n") + "\n";
}
