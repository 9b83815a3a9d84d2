/**
 * plan.json: the plan as data (docs/mesh.md "plan.json"). Its size is
 * O(nodes x connect rules): edges are written as groups (every node of
 * `from` may reach every node of `to`), never as the pairs they expand to.
 */
import type { MeshPlan } from "./plan.js";

export const PLAN_FORMAT = "swarm-policy/mesh-plan/v1";

export interface PlanJson {
  format: typeof PLAN_FORMAT;
  mesh: {
    name: string;
    id: string;
    network: string;
    listen_port: number | null;
    keepalive_seconds: number | null;
    max_key_age: string | null;
    interface: string;
  };
  policy_version: string;
  time: string;
  summary: { inventory: number; admitted: number; rejected: number; peerings: number; max_peers: number };
  nodes: { id: string; address: string; public_key: string; endpoint: string | null; tags: readonly string[]; pinned: boolean; peers: number }[];
  rejected: { id: string; reasons: string[]; errors: { message: string; line: number | null }[] }[];
  edges: { rule: string; from: string[]; to: string[]; ports: number[] | null }[];
  /** Files written for the plan, relative to the output directory (plan.json itself not included). */
  files: string[];
}

export function planToJson(plan: MeshPlan, iface: string, files: readonly string[] = []): PlanJson {
  const ids = (list: readonly number[]) => list.map((i) => plan.nodes[i]!.id);
  const s = plan.settings;
  return {
    format: PLAN_FORMAT,
    mesh: {
      name: s.name,
      id: s.id,
      network: s.space.cidr,
      listen_port: s.listenPort,
      keepalive_seconds: s.keepaliveSeconds,
      max_key_age: s.maxKeyAgeText,
      interface: iface,
    },
    policy_version: plan.policyVersion,
    time: plan.time,
    summary: {
      inventory: plan.nodes.length + plan.rejected.length,
      admitted: plan.nodes.length,
      rejected: plan.rejected.length,
      peerings: plan.peerings,
      max_peers: plan.peerCounts.reduce((a, b) => Math.max(a, b), 0),
    },
    nodes: plan.nodes.map((n) => ({
      id: n.id,
      address: n.address,
      public_key: n.publicKey,
      endpoint: n.endpoint,
      tags: n.tags,
      pinned: n.pinned,
      peers: plan.peerCounts[n.index]!,
    })),
    rejected: plan.rejected.map((r) => ({
      id: r.id,
      reasons: r.reasons,
      errors: r.errors.map((e) => ({ message: e.message, line: e.span?.line ?? null })),
    })),
    edges: plan.flows
      .filter((f) => f.sources.length > 0 && f.targets.length > 0)
      .map((f) => ({
        rule: f.rule.bidirectional ? `${f.rule.text} (${JSON.stringify(f.from)} to ${JSON.stringify(f.to)})` : f.rule.text,
        from: ids(f.sources),
        to: ids(f.targets),
        ports: f.ports,
      })),
    files: [...files],
  };
}
