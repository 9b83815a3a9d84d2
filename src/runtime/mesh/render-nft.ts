/**
 * The nftables rules that enforce `connect ... ports [...]` on the
 * receiving node (`nft -f FILE`). WireGuard decides who may talk at all
 * (a node that is not a peer never gets a packet through); these rules
 * decide on which ports.
 *
 * One table of its own, `inet swarm_policy_<interface>`, replaced as a whole
 * on every load (the `table` + `delete table` + `table {}` idiom makes the
 * load idempotent and atomic). Its input chain touches only packets that
 * arrive on the mesh interface, so the host's other traffic and tables are
 * left alone:
 * - established and related traffic is accepted (the answers to what this
 *   node opened, ICMP errors), invalid dropped;
 * - ICMP echo requests from peers are accepted, so `ping` shows reachability
 *   between peers whatever the port lists say;
 * - per flow that targets this node: a set of the sources' overlay
 *   addresses (one set for all flows from the same sources), accepted on
 *   the flow's ports (TCP and UDP) or on any port;
 * - everything else from the mesh interface is counted and dropped.
 * Its forward chain drops new connections that arrive on the mesh interface
 * to be routed on (a node with IP forwarding on would otherwise let its
 * peers reach the networks behind it, which no flow allows); answers to
 * connections opened from this side pass.
 */
import type { MeshPlan, MeshTopology } from "./plan.js";
import type { RenderOptions } from "./render-wg.js";

/**
 * The table name for an interface. nft identifiers are letters, digits and
 * `_`, so the other characters wg-quick allows in a name (`=+.-`) are escaped
 * as `_x` and two hex digits, and `_` itself as `__`: one interface, one table.
 * (Replacing each of them by `_` gave wg-0, wg.0 and wg_0 the same table, and
 * one interface's PostDown then deleted the other's rules.)
 */
export function nftTableName(iface: string): string {
  // A fixed width after each escape's letter keeps it decodable (injective) for any string a library
  // caller passes (renderNft checks no name): _x and 2 hex digits up to U+00FF, _u and 4 past it.
  const escaped = iface.replace(/[^A-Za-z0-9]/g, (c) => {
    if (c === "_") return "__";
    const code = c.charCodeAt(0);
    return code <= 0xff ? `_x${code.toString(16).padStart(2, "0")}` : `_u${code.toString(16).padStart(4, "0")}`;
  });
  return `swarm_policy_${escaped}`;
}

function elements(addresses: readonly string[]): string {
  return addresses.join(",\n\t\t\t     ");
}

/** The nftables rule file of node `index`. */
export function renderNft(plan: MeshPlan, topology: MeshTopology, index: number, options: Pick<RenderOptions, "interface">): string {
  const node = plan.nodes[index]!;
  const v4 = plan.settings.space.version === 4;
  const addrType = v4 ? "ipv4_addr" : "ipv6_addr";
  const saddr = v4 ? "ip saddr" : "ip6 saddr";
  const echo = v4 ? "icmp type echo-request" : "icmpv6 type echo-request";
  const table = nftTableName(options.interface);
  const peers = topology.peersOf(index).map((j) => plan.nodes[j]!.address);
  const inbound = topology.inboundOf(index);

  const out: string[] = [
    "#!/usr/sbin/nft -f",
    `# swarm-policy mesh ${JSON.stringify(plan.settings.name)}: what node ${node.id} (${node.address}) accepts on ${options.interface}`,
    `# policy version ${plan.policyVersion.slice(0, 16)}; generated, do not edit (re-run \`swarm-policy mesh plan\`)`,
    `table inet ${table}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
  ];
  if (peers.length > 0) out.push("\tset peers {", `\t\ttype ${addrType}`, `\t\telements = { ${elements(peers)} }`, "\t}");
  // Flows from the same sources share one set: n overlapping rules (`"t1" <-> "*"`, `"t2" <-> "*"`, ...)
  // would otherwise list every peer n times in every node's file (nodes^2 x rules bytes in all).
  const setOfSources = new Map<string, number>();
  const setOfFlow: number[] = [];
  for (const inb of inbound) {
    const addrs = inb.sources.map((j) => plan.nodes[j]!.address);
    const key = addrs.join(" ");
    let k = setOfSources.get(key);
    if (k === undefined) {
      k = setOfSources.size;
      setOfSources.set(key, k);
      out.push(`\tset flow_${k} {`, `\t\ttype ${addrType}`, `\t\telements = { ${elements(addrs)} }`, "\t}");
    }
    setOfFlow.push(k);
  }
  out.push(
    "\tchain input {",
    "\t\ttype filter hook input priority filter; policy accept;",
    `\t\tiifname != ${JSON.stringify(options.interface)} accept`,
    "\t\tct state established,related accept",
    "\t\tct state invalid drop",
  );
  if (peers.length > 0) out.push(`\t\t${saddr} @peers ${echo} accept`);
  inbound.forEach((inb, i) => {
    const k = setOfFlow[i]!;
    // Tags are quoted as rule.text quotes them: a newline in a tag must not end the comment.
    const direction = inb.flow.rule.bidirectional ? ` (${JSON.stringify(inb.flow.from)} to ${JSON.stringify(inb.flow.to)})` : "";
    out.push(`\t\t# ${inb.flow.rule.text}${direction}`);
    if (inb.flow.ports === null) out.push(`\t\t${saddr} @flow_${k} accept`);
    else {
      const ports = inb.flow.ports.length === 1 ? String(inb.flow.ports[0]) : `{ ${inb.flow.ports.join(", ")} }`;
      out.push(`\t\t${saddr} @flow_${k} tcp dport ${ports} accept`, `\t\t${saddr} @flow_${k} udp dport ${ports} accept`);
    }
  });
  out.push(
    "\t\tcounter drop",
    "\t}",
    // Peers reach this node under the flows above, never through it: with IP forwarding on, a
    // connection a peer opens to a network behind this node is no flow of the policy.
    "\tchain forward {",
    "\t\ttype filter hook forward priority filter; policy accept;",
    `\t\tiifname != ${JSON.stringify(options.interface)} accept`,
    "\t\tct state established,related accept",
    "\t\tcounter drop",
    "\t}",
    "}",
  );
  return out.join("\n") + "\n";
}
