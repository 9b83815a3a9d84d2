/**
 * The mesh plan: a pure function of the inventory, the compiled policies
 * (with their risk store, read by `quarantined()` and `risk()`) and the
 * planning time. No I/O: write-plan.ts writes it out, verify.ts compares it
 * with a live `wg show all dump`.
 *
 * Steps: every inventory node goes through admission
 * (`engine.evaluate({ kind: "mesh", node, time })`); an admitted node with
 * the public key of a rejected node is refused, and so are admitted nodes
 * that share a public key (WireGuard knows a peer only by its key); the
 * rest get addresses (addresses.ts); `connect` rules become directed flows
 * between the admitted nodes (`<->` is two flows, `"*"` is every admitted
 * node, a node never peers with itself).
 *
 * Size: flows are kept as (sources, targets) groups, O(nodes x rules), not
 * as pairs: a full mesh between two large groups is their product in pairs
 * (docs/mesh.md "Scale"). Peers of one node are expanded on demand by
 * `MeshTopology`, in O(its peers).
 */
import type { Engine } from "../../engine.js";
import type { DecisionError, MeshDecision } from "../../evaluator/decision.js";
import { formatInstant, MAX_TIME_MS, parseRfc3339 } from "../../evaluator/time.js";
import { assignAddresses } from "./addresses.js";
import type { InventoryNode } from "./inventory.js";
import { meshBlocks, meshSettings, type ConnectRule, type MeshSettings } from "./settings.js";

/** What planning needs of an engine. */
export type MeshEngine = Pick<Engine, "files" | "evaluate" | "version" | "diagnostics">;

export interface PlannedNode {
  id: string;
  /** Position in `plan.nodes` (nodes are sorted by id). */
  index: number;
  address: string;
  publicKey: string;
  endpoint: string | null;
  tags: readonly string[];
  /** The inventory pinned the address. */
  pinned: boolean;
  /** `key_created_at` as given, for the key-age check of `verify`. */
  keyCreatedAt: string | number | null;
}

export interface RejectedNode {
  id: string;
  /** The inventory's public key (maybe malformed: that can be the reason). */
  publicKey: string;
  keyCreatedAt: string | number | null;
  reasons: string[];
  errors: DecisionError[];
}

/** A directed flow: every source may open connections to every target on `ports` (null: any). */
export interface Flow {
  rule: ConnectRule;
  from: string;
  to: string;
  ports: number[] | null;
  /** Node indices, ascending. */
  sources: number[];
  targets: number[];
}

export interface MeshPlan {
  settings: MeshSettings;
  /** Planning time, RFC 3339. */
  time: string;
  policyVersion: string;
  /** Admitted nodes with addresses, sorted by id. */
  nodes: PlannedNode[];
  /** Refused nodes, sorted by id. */
  rejected: RejectedNode[];
  flows: Flow[];
  /** Peer count of each node (by index). */
  peerCounts: number[];
  /** Unordered peer pairs: the number of [Peer] sections over all configs, halved. */
  peerings: number;
}

export interface PlanOptions {
  /** Planning time, epoch milliseconds: admission's `now`. */
  time: number;
  /** Mesh block name or id, when several are loaded. */
  mesh?: string;
}

const identity = (n: InventoryNode) => ({ id: n.id, publicKey: n.public_key, keyCreatedAt: n.key_created_at ?? null });

const byId = <T extends { id: string }>(a: T, b: T): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Plan the mesh, or say in one line why there can be none (policy errors, no mesh). */
export function planMesh(engine: MeshEngine, inventory: readonly InventoryNode[], options: PlanOptions): MeshPlan | string {
  if (engine.diagnostics.some((d) => d.severity === "error")) return "policy set has errors";
  // The time goes to every admission as the input's `time`, so it must be one RFC 3339 can write (years 0000-9999).
  const time = Number.isFinite(options.time) && Math.abs(options.time) <= MAX_TIME_MS ? formatInstant(options.time) : "";
  if (Number.isNaN(parseRfc3339(time))) return "planning time is not a valid time";
  const settings = meshSettings(engine.files, options.mesh);
  if (typeof settings === "string") return settings;
  const named = meshBlocks(engine.files).length > 1 ? { mesh: settings.id } : {};

  const rejected: RejectedNode[] = [];
  let admitted: InventoryNode[] = [];
  for (const node of inventory) {
    const d = engine.evaluate({ kind: "mesh", ...named, node, time }) as MeshDecision;
    if (d.decision === "admit") admitted.push(node);
    else rejected.push({ ...identity(node), reasons: d.reasons.map((r) => r.message), errors: d.errors });
  }

  // A rejected node's key under another id: WireGuard knows a peer only by its key, so admitting
  // the other id would let the rejected (perhaps quarantined) machine back in. Fail closed.
  const rejectedByKey = new Map<string, string[]>();
  for (const r of rejected) rejectedByKey.set(r.publicKey, [...(rejectedByKey.get(r.publicKey) ?? []), r.id]);
  admitted = admitted.filter((n) => {
    const owners = rejectedByKey.get(n.public_key);
    if (owners === undefined) return true;
    const names = owners.map((x) => JSON.stringify(x)).join(", ");
    rejected.push({ ...identity(n), reasons: [`public key is also used by node ${names}, which is rejected`], errors: [] });
    return false;
  });

  // Two admitted nodes with one key: WireGuard would treat them as one peer.
  const byKey = new Map<string, string[]>();
  for (const n of admitted) byKey.set(n.public_key, [...(byKey.get(n.public_key) ?? []), n.id]);
  const shared = new Set<string>();
  for (const ids of byKey.values()) {
    if (ids.length < 2) continue;
    for (const id of ids) {
      shared.add(id);
      const others = ids.filter((x) => x !== id).map((x) => JSON.stringify(x)).join(", ");
      rejected.push({ ...identity(admitted.find((n) => n.id === id)!), reasons: [`public key is also used by node ${others}`], errors: [] });
    }
  }
  if (shared.size > 0) admitted = admitted.filter((n) => !shared.has(n.id));

  const { addresses, refused } = assignAddresses(
    settings.space,
    admitted.map((n) => ({ id: n.id, pinned: n.address })),
  );
  for (const [id, reason] of refused) rejected.push({ ...identity(admitted.find((n) => n.id === id)!), reasons: [reason], errors: [] });

  const nodes: PlannedNode[] = admitted
    .filter((n) => addresses.has(n.id))
    .sort(byId)
    .map((n, index) => ({
      id: n.id,
      index,
      address: addresses.get(n.id)!,
      publicKey: n.public_key,
      endpoint: n.endpoint ?? null,
      tags: n.tags,
      pinned: n.address !== undefined,
      keyCreatedAt: n.key_created_at ?? null,
    }));
  rejected.sort(byId);

  const flows = buildFlows(settings.connects, nodes);
  const topology = new MeshTopology(nodes.length, flows);
  const peerCounts = nodes.map((n) => topology.peersOf(n.index).length);
  const peerings = peerCounts.reduce((a, b) => a + b, 0) / 2;
  return { settings, time, policyVersion: engine.version, nodes, rejected, flows, peerCounts, peerings };
}

function buildFlows(connects: readonly ConnectRule[], nodes: readonly PlannedNode[]): Flow[] {
  const members = new Map<string, number[]>();
  const group = (tag: string): number[] => {
    let m = members.get(tag);
    if (!m) {
      m = tag === "*" ? nodes.map((n) => n.index) : nodes.filter((n) => n.tags.includes(tag)).map((n) => n.index);
      members.set(tag, m);
    }
    return m;
  };
  const flows: Flow[] = [];
  for (const rule of connects) {
    flows.push({ rule, from: rule.from, to: rule.to, ports: rule.ports, sources: group(rule.from), targets: group(rule.to) });
    if (rule.bidirectional) flows.push({ rule, from: rule.to, to: rule.from, ports: rule.ports, sources: group(rule.to), targets: group(rule.from) });
  }
  return flows;
}

/** Inbound traffic a node accepts: from `sources` on `ports` (null: any). */
export interface Inbound {
  flow: Flow;
  /** Node indices, ascending, without the node itself. */
  sources: number[];
}

/**
 * Peers and inbound rules per node, expanded from the flows on demand.
 * Peering is symmetric: a flow A -> B makes A and B peers of each other.
 */
export class MeshTopology {
  private readonly outFlows: Flow[][];
  private readonly inFlows: Flow[][];
  private readonly seen: Uint32Array;
  private stamp = 0;

  constructor(nodeCount: number, flows: readonly Flow[]) {
    this.outFlows = Array.from({ length: nodeCount }, () => []);
    this.inFlows = Array.from({ length: nodeCount }, () => []);
    this.seen = new Uint32Array(nodeCount);
    for (const f of flows) {
      for (const i of f.sources) this.outFlows[i]!.push(f);
      for (const i of f.targets) this.inFlows[i]!.push(f);
    }
  }

  static of(plan: MeshPlan): MeshTopology {
    return new MeshTopology(plan.nodes.length, plan.flows);
  }

  /** Indices of the node's peers, ascending (so in id order). */
  peersOf(index: number): number[] {
    const stamp = ++this.stamp;
    const seen = this.seen;
    seen[index] = stamp;
    const out: number[] = [];
    const add = (list: readonly number[]) => {
      for (const j of list) {
        if (seen[j] === stamp) continue;
        seen[j] = stamp;
        out.push(j);
      }
    };
    for (const f of this.outFlows[index]!) add(f.targets);
    for (const f of this.inFlows[index]!) add(f.sources);
    return out.sort((a, b) => a - b);
  }

  /** What the node accepts, one entry per flow that targets it (sources other than itself). */
  inboundOf(index: number): Inbound[] {
    return this.inFlows[index]!.map((flow) => ({ flow, sources: flow.sources.filter((j) => j !== index) })).filter((x) => x.sources.length > 0);
  }

  /** Whether `from` may open a connection to `to` on `port` (undefined: any port at all). */
  allows(from: number, to: number, port?: number): boolean {
    if (from === to) return false;
    return this.inFlows[to]!.some((f) => (f.ports === null || port === undefined || f.ports.includes(port)) && f.sources.includes(from));
  }
}
