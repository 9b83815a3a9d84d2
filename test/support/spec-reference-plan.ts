/**
 * A reading of spec/LANGUAGE.md section 6's plan (and docs/mesh.md's rules
 * for keys and pinned addresses) for the mesh plan differential
 * (test/runtime/mesh/plan-differential.test.ts). Admission is
 * spec-reference-mesh.ts's; nothing here comes from src/.
 *
 * - Admitted nodes are planned, except (docs/mesh.md, Admission) a node
 *   with the public key of a rejected node and admitted nodes that share a
 *   key, and (Addresses) a node whose pin is outside the network, on its
 *   network or broadcast address, or pinned by another admitted node too.
 * - `A -> B` makes nodes tagged A and nodes tagged B peers of each other
 *   and lets A open connections to B on the listed ports (any without a
 *   list); `<->` both ways; `"*"` is any planned node; a node never peers
 *   with itself.
 */
import { parseIpRef, type RefStore, type RIp } from "./spec-reference.js";
import { decideMeshRef, type MeshPolicy, type RefConnect, type RefMesh } from "./spec-reference-mesh.js";

export interface PlannedRef {
  key: string;
  tags: string[];
  /** The pinned address, when the inventory pins one. */
  pin: RIp | null;
}

/** Is `a` a usable host address of `network`: inside it, not its network address, not (IPv4) its broadcast address. */
export function usableIn(network: RIp, a: RIp): boolean {
  const width = a.v6 ? 128n : 32n;
  if (a.v6 !== network.v6 || BigInt(a.prefix) !== width) return false;
  const host = width - BigInt(network.prefix);
  if (a.net >> host !== network.net >> host) return false;
  const offset = a.net - network.net;
  return offset !== 0n && (a.v6 || offset !== (1n << host) - 1n);
}

/** The nodes the plan must hold, by id: admitted, keys of their own, pins that can be kept. */
export function planRef(policy: MeshPolicy, mesh: RefMesh, nodes: readonly Record<string, unknown>[], timeMs: number, store: RefStore): Map<string, PlannedRef> {
  const named = policy.meshes.length > 1 ? { mesh: mesh.id } : {};
  const time = new Date(timeMs).toISOString();
  const admitted: Record<string, unknown>[] = [];
  const rejectedKeys = new Set<unknown>();
  for (const node of nodes) {
    const d = decideMeshRef(policy, { kind: "mesh", ...named, node, time }, timeMs, store);
    if (d.decision === "admit") admitted.push(node);
    else rejectedKeys.add(node["public_key"]);
  }
  const keyCount = new Map<unknown, number>();
  for (const n of admitted) keyCount.set(n["public_key"], (keyCount.get(n["public_key"]) ?? 0) + 1);
  const keyed = admitted.filter((n) => !rejectedKeys.has(n["public_key"]) && keyCount.get(n["public_key"]) === 1);
  const network = parseIpRef(mesh.network)!;
  const pinCount = new Map<string, number>();
  const pinOf = (n: Record<string, unknown>) => (typeof n["address"] === "string" ? parseIpRef(n["address"]) : null);
  for (const n of keyed) {
    const p = pinOf(n);
    if (p !== null) pinCount.set(`${p.v6}:${p.net}`, (pinCount.get(`${p.v6}:${p.net}`) ?? 0) + 1);
  }
  const out = new Map<string, PlannedRef>();
  for (const n of keyed) {
    const given = n["address"] !== undefined;
    const p = pinOf(n);
    if (given && (p === null || !usableIn(network, p) || pinCount.get(`${p.v6}:${p.net}`) !== 1)) continue;
    out.set(n["id"] as string, { key: n["public_key"] as string, tags: n["tags"] as string[], pin: p });
  }
  return out;
}

const tagged = (tags: readonly string[], t: string) => t === "*" || tags.includes(t);

/** Whether two distinct planned nodes are WireGuard peers. */
export function peersRef(connects: readonly RefConnect[], a: readonly string[], b: readonly string[]): boolean {
  return connects.some((c) => (tagged(a, c.from) && tagged(b, c.to)) || (tagged(b, c.from) && tagged(a, c.to)));
}

/** Whether a planned node tagged `from` may open a connection on `port` to another tagged `to`. */
export function allowsRef(connects: readonly RefConnect[], from: readonly string[], to: readonly string[], port: number): boolean {
  return connects.some(
    (c) => ((tagged(from, c.from) && tagged(to, c.to)) || (c.both && tagged(from, c.to) && tagged(to, c.from))) && (c.ports === null || c.ports.includes(port)),
  );
}
