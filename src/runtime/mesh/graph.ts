/**
 * The mesh as a picture: Mermaid (`flowchart LR`) or Graphviz DOT.
 *
 * Per node (default): every admitted node with its address; an arrow A -> B
 * where A may open connections to B, labelled with the ports ("any port"
 * without a list); a pair allowed both ways on the same ports is one
 * double-headed arrow. Rejected nodes sit apart, in their own box, each with
 * its reason and no arrows.
 *
 * By tag (`byTag`): one box per tag a connect rule names, with how many
 * admitted nodes carry it, and one arrow per rule. This stays readable at any
 * size; a per-node drawing is refused above MAX_PAIRS arrows, since a full
 * mesh between large groups has their product in pairs.
 */
import type { MeshPlan } from "./plan.js";

export type GraphFormat = "mermaid" | "dot";

export interface GraphOptions {
  format: GraphFormat;
  byTag?: boolean;
}

export const MAX_PAIRS = 2000;
const MAX_REJECTED_SHOWN = 100;

/**
 * Mermaid entity codes: quotes, backticks (markdown strings), angle brackets, `#` itself, and
 * control and bidi characters (a policy's reason, an inventory value quoted in one), which would
 * otherwise reach the file or terminal raw.
 */
function mermaidText(s: string): string {
  return s.replace(/[#"`<>&\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `#${c.charCodeAt(0)};`);
}

/** A DOT string; control characters other than a newline are shown as `\u001b` text. */
function dotText(s: string): string {
  const escaped = s
    .replace(/\\/g, "\\\\")
    .replace(/"/g, '\\"')
    .replace(/\n/g, "\\n")
    .replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return `"${escaped}"`;
}

interface Box {
  key: string;
  label: string[];
}
interface Arrow {
  from: string;
  to: string;
  label: string;
  both: boolean;
}

const portLabel = (ports: readonly number[] | null) => (ports === null ? "any port" : ports.join(", "));

function perNode(plan: MeshPlan): { boxes: Box[]; arrows: Arrow[] } | string {
  const n = plan.nodes.length;
  // Directed pair -> ports (null = any), merged over every flow that allows it.
  const pairs = new Map<number, Set<number> | null>();
  for (const f of plan.flows) {
    for (const s of f.sources) {
      for (const t of f.targets) {
        if (s === t) continue;
        const key = s * n + t;
        const had = pairs.get(key);
        if (had === null) continue;
        if (f.ports === null) pairs.set(key, null);
        else {
          const set = had ?? new Set<number>();
          for (const p of f.ports) set.add(p);
          pairs.set(key, set);
        }
        if (pairs.size > MAX_PAIRS * 2) return `the mesh has over ${MAX_PAIRS} allowed pairs; draw it by tag (--by-tag)`;
      }
    }
  }
  const label = (v: Set<number> | null) => portLabel(v === null ? null : [...v].sort((a, b) => a - b));
  const arrows: Arrow[] = [];
  for (const [key, ports] of [...pairs].sort((a, b) => a[0] - b[0])) {
    const s = Math.floor(key / n);
    const t = key % n;
    const back = pairs.get(t * n + s);
    const text = label(ports);
    if (back !== undefined && label(back) === text) {
      if (s < t) arrows.push({ from: `n${s}`, to: `n${t}`, label: text, both: true });
      continue;
    }
    arrows.push({ from: `n${s}`, to: `n${t}`, label: text, both: false });
  }
  if (arrows.length > MAX_PAIRS) return `the mesh has ${arrows.length} arrows, over ${MAX_PAIRS}; draw it by tag (--by-tag)`;
  return { boxes: plan.nodes.map((node) => ({ key: `n${node.index}`, label: [node.id, node.address] })), arrows };
}

function perTag(plan: MeshPlan): { boxes: Box[]; arrows: Arrow[] } {
  const tags: string[] = [];
  for (const r of plan.settings.connects) for (const t of [r.from, r.to]) if (!tags.includes(t)) tags.push(t);
  const count = (tag: string) => (tag === "*" ? plan.nodes.length : plan.nodes.filter((n) => n.tags.includes(tag)).length);
  const key = (tag: string) => `t${tags.indexOf(tag)}`;
  const boxes = tags.map((tag) => ({ key: key(tag), label: [tag === "*" ? "any node" : tag, `${count(tag)} admitted`] }));
  const arrows = plan.settings.connects.map((r) => ({ from: key(r.from), to: key(r.to), label: portLabel(r.ports), both: r.bidirectional }));
  return { boxes, arrows };
}

/** The drawing, or why it cannot be drawn per node. */
export function renderGraph(plan: MeshPlan, options: GraphOptions): string | { error: string } {
  const drawn = options.byTag ? perTag(plan) : perNode(plan);
  if (typeof drawn === "string") return { error: drawn };
  const shown = plan.rejected.slice(0, MAX_REJECTED_SHOWN);
  const rejected: Box[] = shown.map((r, i) => ({ key: `r${i}`, label: [r.id, [...r.reasons, ...r.errors.map((e) => e.message)].join("; ")] }));
  if (plan.rejected.length > shown.length) rejected.push({ key: "rmore", label: [`and ${plan.rejected.length - shown.length} more`, "see plan.json"] });
  const title = `mesh ${plan.settings.name} (${plan.settings.space.cidr})`;
  return options.format === "mermaid" ? mermaid(title, drawn, rejected) : dot(title, drawn, rejected);
}

function mermaid(title: string, drawn: { boxes: Box[]; arrows: Arrow[] }, rejected: Box[]): string {
  const box = (b: Box) => `    ${b.key}["${b.label.map(mermaidText).join("<br/>")}"]`;
  const out = ["flowchart LR", `  subgraph admitted["${mermaidText(title)}"]`, ...drawn.boxes.map(box), "  end"];
  if (rejected.length > 0) out.push('  subgraph rejected["rejected"]', ...rejected.map(box), "  end", "  style rejected stroke-dasharray: 5 5");
  for (const a of drawn.arrows) out.push(`  ${a.from} ${a.both ? "<-->" : "-->"}|"${mermaidText(a.label)}"| ${a.to}`);
  return out.join("\n") + "\n";
}

function dot(title: string, drawn: { boxes: Box[]; arrows: Arrow[] }, rejected: Box[]): string {
  const box = (b: Box, extra = "") => `    ${b.key} [label=${dotText(b.label.join("\n"))}${extra}];`;
  const out = ["digraph mesh {", "  rankdir=LR;", "  node [shape=box];", "  subgraph cluster_admitted {", `    label=${dotText(title)};`, ...drawn.boxes.map((b) => box(b)), "  }"];
  if (rejected.length > 0) out.push("  subgraph cluster_rejected {", '    label="rejected";', "    style=dashed;", ...rejected.map((b) => box(b, ", color=red")), "  }");
  for (const a of drawn.arrows) out.push(`  ${a.from} -> ${a.to} [label=${dotText(a.label)}${a.both ? ", dir=both" : ""}];`);
  out.push("}");
  return out.join("\n") + "\n";
}
