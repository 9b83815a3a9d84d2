/**
 * The planning half of a `mesh` block (spec/LANGUAGE.md section 6): network,
 * listen port, keepalive, key age and connect rules, read from the checked
 * AST. Admission (`when`, `unless`, `require`) stays with the evaluator;
 * this file only says where admitted nodes live and who may talk.
 *
 * Which mesh: the one named (block name or id), else the only one loaded,
 * the same choice the evaluator makes for an input without `mesh`.
 */
import type { MeshBlock, PolicyFile } from "../../parser/ast.js";
import { ruleId } from "../../parser/ast.js";
import { AddressSpace } from "./addresses.js";

/** One `connect` clause: `from -> to` (or `<->`), optional ports. */
export interface ConnectRule {
  from: string;
  to: string;
  bidirectional: boolean;
  /** Sorted, unique; null when the rule names no ports (any port). */
  ports: number[] | null;
  /** The clause as written, normalised: `"worker" -> "scheduler" ports [7000, 7001]`. */
  text: string;
}

export interface MeshSettings {
  /** Block name (`swarm`) and id (`swarm.mesh/swarm`). */
  name: string;
  id: string;
  space: AddressSpace;
  listenPort: number | null;
  /** PersistentKeepalive in seconds, or null. */
  keepaliveSeconds: number | null;
  /** The strictest `require key_age within D` in ms, or null when the mesh has none. */
  maxKeyAgeMs: number | null;
  /** As written (`30d`), for messages. */
  maxKeyAgeText: string | null;
  connects: ConnectRule[];
}

/** The mesh blocks of a policy set, with the file each is in. */
export function meshBlocks(files: readonly PolicyFile[]): { file: PolicyFile; block: MeshBlock }[] {
  const out: { file: PolicyFile; block: MeshBlock }[] = [];
  for (const file of files) for (const item of file.items) if (item.kind === "Mesh") out.push({ file, block: item });
  return out;
}

/**
 * The settings of the chosen mesh, or a one-line reason why there is none
 * (no mesh, several and none named, an unknown name).
 */
export function meshSettings(files: readonly PolicyFile[], name?: string): MeshSettings | string {
  const blocks = meshBlocks(files);
  let chosen: { file: PolicyFile; block: MeshBlock } | undefined;
  if (name !== undefined) {
    // An id names one block; a name may be shared by blocks of different packages.
    const named = blocks.filter((b) => b.block.name === name);
    chosen = blocks.find((b) => ruleId(b.file, b.block) === name) ?? (named.length === 1 ? named[0] : undefined);
    if (!chosen) {
      if (named.length > 1) return `several meshes are named ${JSON.stringify(name)} (${named.map((b) => ruleId(b.file, b.block)).join(", ")}); choose one by id with --mesh`;
      return `no mesh named ${JSON.stringify(name)} is loaded`;
    }
  } else if (blocks.length === 1) chosen = blocks[0];
  else if (blocks.length === 0) return "no mesh block is loaded";
  else return `several meshes are loaded (${blocks.map((b) => b.block.name).join(", ")}); choose one with --mesh`;
  return settingsOf(chosen!.file, chosen!.block);
}

function settingsOf(file: PolicyFile, block: MeshBlock): MeshSettings | string {
  let network: string | null = null;
  let listenPort: number | null = null;
  let keepaliveSeconds: number | null = null;
  let maxKeyAgeMs: number | null = null;
  let maxKeyAgeText: string | null = null;
  const connects: ConnectRule[] = [];
  for (const c of block.clauses) {
    switch (c.kind) {
      case "Network":
        network = c.cidr.value;
        break;
      case "ListenPort":
        listenPort = c.port.value;
        break;
      case "Keepalive":
        keepaliveSeconds = Math.round(c.interval.ms / 1000);
        break;
      case "RequireKeyAge":
        if (maxKeyAgeMs === null || c.within.ms < maxKeyAgeMs) {
          maxKeyAgeMs = c.within.ms;
          maxKeyAgeText = c.within.raw;
        }
        break;
      case "Connect": {
        const ports = c.ports === null ? null : [...new Set(c.ports.map((p) => p.value))].sort((a, b) => a - b);
        const arrow = c.bidirectional ? "<->" : "->";
        const text = `${JSON.stringify(c.from.value)} ${arrow} ${JSON.stringify(c.to.value)}${ports ? ` ports [${ports.join(", ")}]` : ""}`;
        connects.push({ from: c.from.value, to: c.to.value, bidirectional: c.bidirectional, ports, text });
        break;
      }
      default:
        break;
    }
  }
  if (network === null) return `mesh ${JSON.stringify(block.name)} has no network`;
  let space: AddressSpace;
  try {
    space = new AddressSpace(network);
  } catch (err) {
    return (err as Error).message;
  }
  return { name: block.name, id: ruleId(file, block), space, listenPort, keepaliveSeconds, maxKeyAgeMs, maxKeyAgeText, connects };
}
