/**
 * The node inventory a mesh plan reads (spec/LANGUAGE.md section 6): a JSON
 * array of node objects, or `{ "nodes": [...] }`, validated by a JSON Schema
 * (ajv, draft 2020-12) before any node reaches admission.
 *
 * Choices where the issue is silent:
 * - `id` becomes a directory name under the plan's output directory, so it
 *   is held to a strict pattern: 1-63 ASCII letters, digits, `.`, `_` or
 *   `-`, starting with a letter or digit (no `/`, no `..`, no leading dot).
 *   Ids must be unique ignoring case, so that two nodes never share a
 *   directory on a case-insensitive file system.
 * - `public_key` must be a string here; whether it is 32 bytes of base64 is
 *   admission's question (a malformed key is a rejection with a reason, as
 *   section 6 says), not an inventory error.
 * - `endpoint` is `host:port` or `[v6]:port`, port 1-65535, since it is
 *   copied into wg-quick files verbatim; the host is a host name, a dotted
 *   quad or (in brackets) an IPv6 address, as `wg` reads them (endpointProblem). `address` must be one IP address
 *   (no prefix); whether it lies inside the mesh network, is reserved or is
 *   pinned twice is the planner's question, answered per node with a reason.
 * - Other fields are allowed and passed to admission untouched: the
 *   policy's own `schema mesh` decides what a node may carry.
 * - Every problem is reported (up to MAX_PROBLEMS), each naming the node by
 *   id when it has a usable one, else by its index (`#3`), and the field.
 *   An inventory with any problem is refused as a whole: planning from a
 *   partly understood inventory could silently drop or misplace nodes.
 */
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import { IpValue, parseIp } from "../../checker/ip-value.js";

/** One node as the inventory gives it (other fields are kept and passed to admission). */
export interface InventoryNode {
  id: string;
  public_key: string;
  tags: string[];
  endpoint?: string;
  address?: string;
  key_created_at?: string | number;
  [field: string]: unknown;
}

/** A problem with one node of the inventory (or with the whole, when `index` is null). */
export interface InventoryProblem {
  /** The node's id when it has a valid one, else `#<index>`; null for the inventory itself. */
  node: string | null;
  index: number | null;
  /** The field, as a JSON path below the node (`endpoint`, `tags/2`); null for the node as a whole. */
  field: string | null;
  message: string;
}

/** `problems`: the first MAX_PROBLEMS, in inventory order; `omitted`: how many more there were. */
export type InventoryResult = { ok: true; nodes: InventoryNode[] } | { ok: false; problems: InventoryProblem[]; omitted: number };

export const NODE_ID_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$";
const ENDPOINT_PATTERN = "^(\\[[0-9A-Fa-f:.]{2,45}\\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?):[1-9][0-9]{0,4}$";
export const MAX_PROBLEMS = 50;

/** The inventory schema (the array form; `{ nodes: [...] }` is unwrapped first). */
export const INVENTORY_SCHEMA = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: "https://swarm.example/policy/schemas/mesh-inventory.schema.json",
  title: "Swarm mesh node inventory",
  type: "array",
  items: { $ref: "#/$defs/node" },
  $defs: {
    node: {
      type: "object",
      required: ["id", "public_key", "tags"],
      properties: {
        id: { type: "string", pattern: NODE_ID_PATTERN },
        public_key: { type: "string", maxLength: 256 },
        tags: { type: "array", maxItems: 256, items: { type: "string", minLength: 1, maxLength: 256 } },
        endpoint: { type: "string", maxLength: 260, pattern: ENDPOINT_PATTERN },
        address: { type: "string", minLength: 1, maxLength: 64 },
        key_created_at: { anyOf: [{ type: "string" }, { type: "number", minimum: 0 }] },
      },
    },
  },
} as const;

let validator: ReturnType<Ajv2020["compile"]> | null = null;
function validate(data: unknown): ErrorObject[] {
  validator ??= new Ajv2020({ allErrors: true, strict: true }).compile(INVENTORY_SCHEMA);
  return validator(data) ? [] : [...(validator.errors ?? [])];
}

const ID_RE = new RegExp(NODE_ID_PATTERN);
const FIELD_MESSAGES: Record<string, string> = {
  id: "must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit",
  endpoint: "must be host:port or [ipv6]:port",
  key_created_at: "must be an RFC 3339 time or epoch seconds",
};

function nodeName(list: readonly unknown[], index: number): string {
  const n = list[index];
  const id = typeof n === "object" && n !== null ? (n as Record<string, unknown>)["id"] : undefined;
  return typeof id === "string" && ID_RE.test(id) ? id : `#${index}`;
}

function toProblem(list: readonly unknown[], e: ErrorObject): InventoryProblem {
  const parts = e.instancePath.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (parts.length === 0) return { node: null, index: null, field: null, message: `inventory ${e.message ?? "is invalid"}` };
  const index = Number(parts[0]);
  let field = parts.slice(1).join("/");
  if (e.keyword === "required") field = field ? `${field}/${String(e.params["missingProperty"])}` : String(e.params["missingProperty"]);
  let message = e.keyword === "required" ? "is required" : (e.message ?? "is invalid");
  if ((e.keyword === "pattern" || e.keyword === "anyOf") && FIELD_MESSAGES[field]) message = FIELD_MESSAGES[field]!;
  return { node: nodeName(list, index), index, field: field === "" ? null : field, message };
}

/** Format a problem as one line: `node "x" field endpoint: must be host:port`. */
export function problemText(p: InventoryProblem): string {
  if (p.node === null) return p.message;
  const who = p.node.startsWith("#") ? `node ${p.node}` : `node ${JSON.stringify(p.node)}`;
  return p.field === null ? `${who}: ${p.message}` : `${who} field ${p.field}: ${p.message}`;
}

/**
 * Validate a parsed inventory (an array of nodes or `{ nodes: [...] }`).
 * Never throws; every problem names the node and the field.
 */
export function parseInventory(data: unknown): InventoryResult {
  let list: unknown = data;
  if (typeof data === "object" && data !== null && !Array.isArray(data)) {
    list = Object.prototype.hasOwnProperty.call(data, "nodes") ? (data as Record<string, unknown>)["nodes"] : undefined;
    if (!Array.isArray(list)) return fail([{ node: null, index: null, field: null, message: "inventory must be a JSON array of nodes or an object with a `nodes` array" }]);
  }
  if (!Array.isArray(list)) return fail([{ node: null, index: null, field: null, message: "inventory must be a JSON array of nodes or an object with a `nodes` array" }]);
  // The branches of an anyOf each fail on their own; the anyOf's one message says it all.
  const problems = validate(list)
    .filter((e) => !e.schemaPath.includes("/anyOf/"))
    .map((e) => toProblem(list as unknown[], e));
  if (problems.length > 0) return fail(problems);
  const nodes = list as InventoryNode[];
  const seen = new Map<string, number>();
  nodes.forEach((n, i) => {
    const key = n.id.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) {
      const same = nodes[first]!.id === n.id ? "" : ` (${JSON.stringify(nodes[first]!.id)} differs only in case)`;
      problems.push({ node: n.id, index: i, field: "id", message: `duplicates the id of node #${first}${same}` });
    } else seen.set(key, i);
    if (n.address !== undefined) {
      const ip = parseIp(n.address);
      if (!(ip instanceof IpValue) || ip.isRange) problems.push({ node: n.id, index: i, field: "address", message: "must be one IPv4 or IPv6 address, without a prefix length" });
    }
    if (n.endpoint !== undefined) {
      const message = endpointProblem(n.endpoint);
      if (message !== null) problems.push({ node: n.id, index: i, field: "endpoint", message });
    }
  });
  return problems.length > 0 ? fail(problems) : { ok: true, nodes };
}

// A last label that getaddrinfo (inet_aton) reads as a number: `1.2.3`, `0x7f.1`, `198.18.0.010`.
const NUMERIC_LABEL = /^(0x[0-9a-f]*|[0-9]+)$/i;

/**
 * Why `wg` would not send to the endpoint the inventory means, or null. wg(8) resolves an
 * Endpoint with getaddrinfo: inet_aton's shorthand, hex and octal forms are read as another
 * address (`198.18.0.010` is 198.18.0.8), and a host it cannot read fails the whole config of
 * every peer of the node. So a numeric host must be a plain dotted quad, and a bracketed one an
 * IPv6 address; a host name (whose last label is never all digits) has no empty label.
 */
function endpointProblem(endpoint: string): string | null {
  const colon = endpoint.lastIndexOf(":");
  if (Number(endpoint.slice(colon + 1)) > 65535) return "port must be 1-65535";
  const host = endpoint.slice(0, colon);
  if (host.startsWith("[")) {
    const ip = parseIp(host.slice(1, -1));
    return ip instanceof IpValue && ip.version === 6 && !ip.isRange ? null : `${host} is not an IPv6 address`;
  }
  const labels = host.split(".");
  const numeric = NUMERIC_LABEL.test(labels[labels.length - 1]!);
  const ip = numeric ? parseIp(host) : null;
  if (numeric ? !(ip instanceof IpValue && ip.version === 4 && !ip.isRange) : labels.includes("")) {
    return `${host} is neither an IPv4 address (four numbers 0-255, no leading zeros) nor a host name`;
  }
  return null;
}

function fail(problems: InventoryProblem[]): InventoryResult {
  problems.sort((a, b) => (a.index ?? -1) - (b.index ?? -1));
  return { ok: false, problems: problems.slice(0, MAX_PROBLEMS), omitted: Math.max(0, problems.length - MAX_PROBLEMS) };
}
