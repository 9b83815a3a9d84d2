/**
 * One wg-quick configuration per admitted node (wg-quick(8) format).
 *
 * - `[Interface]`: `Address` is the node's overlay address with the mesh
 *   network's prefix length (`100.64.3.7/10`): one connected route covers
 *   the overlay, instead of one route per peer (a scheduler may have
 *   thousands). What a peer may send is still limited by its AllowedIPs.
 *   `ListenPort` from the mesh. No `PrivateKey`: the plan never sees one;
 *   `PostUp = wg set %i private-key FILE` reads the node's key file (0600),
 *   default `/etc/wireguard/<interface>.key`. `PreUp = nft -f FILE` loads the
 *   node's nftables rules (render-nft.ts) before the interface exists, so no
 *   packet arrives unfiltered, and a missing nft or a bad or missing file
 *   makes `wg-quick up` fail (fail closed: without it, every peer reaches
 *   every port). `PostDown` removes the table with `add table; delete table`:
 *   wg-quick exits non-zero when a PostDown fails, and a plain `delete table`
 *   fails when the table is already gone.
 * - `[Peer]` per peer, in id order, with a comment naming the node:
 *   `PublicKey`, `AllowedIPs` = the peer's overlay address only (/32 or
 *   /128), `Endpoint` when the inventory gives one, `PersistentKeepalive`
 *   when the mesh sets `keepalive`.
 *
 * The file is named `<interface>.conf` because wg-quick takes the interface
 * name from the file name (at most 15 of `[A-Za-z0-9_=+.-]`).
 */
import type { MeshPlan, MeshTopology } from "./plan.js";
import { nftTableName } from "./render-nft.js";

export interface RenderOptions {
  /** WireGuard interface name (default: from the mesh name, see `interfaceName`). */
  interface: string;
  /** Path of the private key file on the node (default /etc/wireguard/<interface>.key). */
  keyFile: string;
  /**
   * Path of the node's nftables rule file, loaded by PreUp. Omitted:
   * /etc/wireguard/<interface>.nft. null: no hook, for operators who load the rules otherwise
   * (until they do, the mesh's port restrictions do not apply).
   */
  nftFile?: string | null;
}

const IFACE = /^[A-Za-z0-9_=+.-]{1,15}$/;
// PostUp and PreUp run through bash: allow only characters that need no quoting (no `#` either:
// wg-quick cuts a line there, and no `%`: it expands %i).
const HOOK_PATH = /^\/[A-Za-z0-9_./@+=:-]*$/;
const hookPathOk = (p: string) => HOOK_PATH.test(p) && !p.split("/").includes("..");

/** A valid interface name from the mesh name: invalid characters dropped, at most 15; "wg0" if nothing is left. */
export function interfaceName(meshName: string): string {
  const cleaned = meshName.replace(/[^A-Za-z0-9_=+.-]/g, "").slice(0, 15);
  return cleaned === "" || cleaned === "." || cleaned === ".." ? "wg0" : cleaned;
}

/** Why the render options are unusable, or null. */
export function renderOptionsProblem(o: RenderOptions): string | null {
  if (!IFACE.test(o.interface) || o.interface === "." || o.interface === "..") {
    return `interface name ${JSON.stringify(o.interface)} must be 1-15 of letters, digits and _=+.-`;
  }
  if (!hookPathOk(o.keyFile)) {
    return `key file ${JSON.stringify(o.keyFile)} must be an absolute path of letters, digits and _./@+=:- (it is run by PostUp)`;
  }
  if (o.nftFile !== undefined && o.nftFile !== null && !hookPathOk(o.nftFile)) {
    return `nft file ${JSON.stringify(o.nftFile)} must be an absolute path of letters, digits and _./@+=:- (it is run by PreUp)`;
  }
  return null;
}

/** Options with the defaults filled in; `nftFile: null` given stays null (no hook). */
export function defaultRenderOptions(plan: MeshPlan, given: Partial<RenderOptions> = {}): RenderOptions {
  const iface = given.interface ?? interfaceName(plan.settings.name);
  return { interface: iface, keyFile: given.keyFile ?? `/etc/wireguard/${iface}.key`, nftFile: nftFileOf({ interface: iface, nftFile: given.nftFile }) };
}

/** The rule file PreUp loads, or null for no hook. */
function nftFileOf(o: Pick<RenderOptions, "interface" | "nftFile">): string | null {
  return o.nftFile === undefined ? `/etc/wireguard/${o.interface}.nft` : o.nftFile;
}

/** The wg-quick file of node `index`. Throws on options `renderOptionsProblem` refuses (the key file goes into a shell). */
export function renderWgQuick(plan: MeshPlan, topology: MeshTopology, index: number, options: RenderOptions): string {
  const problem = renderOptionsProblem(options);
  if (problem !== null) throw new Error(problem);
  const node = plan.nodes[index]!;
  const s = plan.settings;
  const lines: string[] = [
    // No planning time: a re-plan that changes nothing for this node must not change its bytes
    // (config management would redeploy it and restart its tunnels). plan.json keeps the time.
    `# swarm-policy mesh ${JSON.stringify(s.name)}: node ${node.id}`,
    `# policy version ${plan.policyVersion.slice(0, 16)}; generated, do not edit (re-run \`swarm-policy mesh plan\`)`,
    "[Interface]",
    `Address = ${node.address}/${s.space.prefix}`,
  ];
  if (s.listenPort !== null) lines.push(`ListenPort = ${s.listenPort}`);
  const nftFile = nftFileOf(options);
  if (nftFile !== null) {
    // The rules filter the planned interface by name: a config installed under another name (wg-quick
    // names the interface after the file) would come up unfiltered, so it refuses to come up.
    lines.push(`PreUp = test %i = ${options.interface}`, `PreUp = nft -f ${nftFile}`);
  }
  lines.push(`PostUp = wg set %i private-key ${options.keyFile}`);
  if (nftFile !== null) {
    const table = nftTableName(options.interface);
    lines.push(`PostDown = nft add table inet ${table} \\; delete table inet ${table}`);
  }
  const host = s.space.hostPrefix;
  const keepalive = s.keepaliveSeconds === null ? null : `PersistentKeepalive = ${s.keepaliveSeconds}`;
  for (const j of topology.peersOf(index)) {
    const peer = plan.nodes[j]!;
    lines.push("", "[Peer]", `# ${peer.id}`, `PublicKey = ${peer.publicKey}`, `AllowedIPs = ${peer.address}/${host}`);
    if (peer.endpoint !== null) lines.push(`Endpoint = ${peer.endpoint}`);
    if (keepalive !== null) lines.push(keepalive);
  }
  return lines.join("\n") + "\n";
}
