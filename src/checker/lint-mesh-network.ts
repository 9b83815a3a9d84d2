/**
 * Lint SP3009: a mesh `network` outside private address space. Overlay
 * addresses come from it, and each node's wg-quick `Address` routes the whole
 * network into the mesh: `network "0.0.0.0/0"` would give nodes public
 * addresses and pull all their traffic into the tunnel. Private space here is
 * 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 and 100.64.0.0/10 (shared address
 * space, what the examples use) for IPv4, fc00::/7 (unique local) for IPv6.
 * A network that is not a valid range is SP2023's business, not this one's.
 */
import { diagnostic } from "../diagnostics/diagnostic.js";
import { parseIp, type Ip } from "../evaluator/cidr.js";
import { report, type CheckContext } from "./context.js";
import { isNode } from "./sites.js";

const PRIVATE: Ip[] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"].map((c) => parseIp(c)!);

export function lintMeshNetwork(ctx: CheckContext): void {
  for (const file of ctx.files) {
    for (const item of Array.isArray(file?.items) ? file.items : []) {
      if (!isNode(item) || item.kind !== "Mesh") continue;
      for (const c of Array.isArray(item.clauses) ? item.clauses : []) {
        if (!isNode(c) || c.kind !== "Network" || !isNode(c.cidr) || typeof c.cidr.value !== "string") continue;
        const net = parseIp(c.cidr.value);
        if (net === null || !net.isRange || PRIVATE.some((p) => p.contains(net))) continue;
        report(
          ctx,
          diagnostic("SP3009", c.cidr.span, { network: c.cidr.value, mesh: item.name }, { hint: "use private space: 100.64.0.0/10, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, or fd00::/8" }),
        );
      }
    }
  }
}
