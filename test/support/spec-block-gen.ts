/**
 * Random encryption and mesh policies and their inputs for the spec
 * differential of those blocks (test/evaluator/spec-differential-blocks.test.ts),
 * with the expressions of spec-policy-gen.ts over `data` and `node` paths.
 *
 * Encryption: a `default` anywhere in the text (or none), rules led by a
 * `data.classification` test whose literal sets keep rules of different
 * ciphers apart (so the checker's SP2022 lets them load, while a missing or
 * odd classification makes them error and conflict at run time), key ages
 * of equal length written differently (`2w`, `14d`), requirements between
 * the conditions. Inputs: `data.encryption` absent, not an object, or with
 * ciphers, key dates on both sides of every key age and of the clock skew,
 * tee and aad of every sort. Mesh: one or two blocks, with `when`, `unless`,
 * `require` and `require key_age` in any order; nodes with well-formed and
 * malformed keys, key dates around the limits, quarantined ids, and inputs
 * naming a mesh or not.
 */
import { Buffer } from "node:buffer";
import type { Node } from "./spec-reference.js";
import type { EncClause, EncPolicy, EncRule } from "./spec-reference-encryption.js";
import type { MeshClause, MeshPolicy, RefConnect, RefMesh } from "./spec-reference-mesh.js";
import { declareConsts, ExprGen, pathNode, Printer, Raw, RAW_NUMBERS, serialize, WEIRD, type Rand, type Vocab } from "./spec-policy-gen.js";
import { CLOCK } from "./spec-policy-gen.js";

export interface GeneratedBlocks<P> {
  text: string;
  policy: P;
}

const str = (v: string): Node => ({ k: "str", v });

/** Key ages, some of one length written two ways: which one `maxKeyAge` shows is under test. */
const KEY_AGES = [
  { ms: 90 * 86_400_000, raw: "90d" },
  { ms: 30 * 86_400_000, raw: "30d" },
  { ms: 365 * 86_400_000, raw: "365d" },
  { ms: 14 * 86_400_000, raw: "2w" },
  { ms: 14 * 86_400_000, raw: "14d" },
  { ms: 86_400_000, raw: "1d" },
  { ms: 86_400_000, raw: "24h" },
  { ms: 3600_000, raw: "1h" },
  { ms: 3600_000, raw: "60m" },
  { ms: 0, raw: "0s" },
];
const CIPHERS = ["aes-256-gcm", "aes-256-gcm-siv"];
const AAD_FIELDS = ["tenant_id", "record_id", "region", "owner", "é"];
/** Classification groups: rules led by different groups never both apply, so they may name different ciphers. */
const GROUPS = [["phi", "pii"], ["public", "internal"], ["secret"]];
const CLASSES = [...GROUPS.flat(), "PHI", "confidential", ""];

// ---------------------------------------------------------------- vocabularies

const ENC_VOCAB: Vocab = {
  attrs: {
    str: ["data.classification", "data.kind", "data.tenant", "data.region", 'data["x-y"]', "data.owner.id", "data.labels[0]", "data.encryption.cipher"],
    num: ["data.size", "data.level", "data.labels[1]"],
    list: ["data.labels", "data.tags", "data.encryption.aad"],
    bool: ["data.pii", "data.encryption.tee"],
    time: ["data.created", "data.encryption.key_created_at"],
    obj: ["data", "data.owner", "data.encryption"],
  },
  strs: [...CLASSES, "log", "eu", "us", "t1", "aes-256-gcm", "tenant_id", "x", "é", "a*b", "ph*"],
  hasNames: ["classification", "encryption", "tenant", "owner", "id", "tee", "aad", "x-y", "missing", "constructor", "__proto__"],
};

const MESH_VOCAB: Vocab = {
  attrs: {
    str: ["node.id", "node.region", "node.endpoint", "node.public_key", "node.tags[0]", "node.owner.name", "node.hw.vendor"],
    num: ["node.cpu", "node.score", "node.hw.cores"],
    list: ["node.tags", "node.roles"],
    bool: ["node.attested", "node.tee", "node.hw.secure_boot"],
    time: ["node.key_created_at", "node.enrolled_at"],
    obj: ["node", "node.owner", "node.hw"],
  },
  strs: ["worker", "scheduler", "gateway", "dns", "laptop", "n1", "ops-bot", "mallory", "eu", "us", "ops", "Worker", "", "x", "10.1.2.3", "é"],
  hasNames: ["attested", "tee", "tags", "key_created_at", "endpoint", "owner", "hw", "name", "missing", "constructor", "__proto__"],
};

// ---------------------------------------------------------------- shared

/** A clause before its line is known (Omit over each member of the union). */
type Body<C> = C extends unknown ? Omit<C, "line"> : never;

interface Pending<C> {
  line: string;
  clause: Body<C>;
}

/** The clause lines in order (sometimes shuffled), numbered as they land in `lines`. */
function place<C extends { line: number }>(g: Rand, lines: string[], pending: Pending<C>[], shuffle: boolean): C[] {
  if (shuffle) pending.sort(() => g.next() - 0.5);
  return pending.map((p) => {
    lines.push(`  ${p.line}`);
    return { ...p.clause, line: lines.length } as unknown as C;
  });
}

// ---------------------------------------------------------------- encryption

/** A `data.classification` test against one group, as `==` or `in`. */
function classTest(g: Rand, group: string[]): Node {
  const path = pathNode("data.classification");
  if (group.length === 1 || g.chance(0.4)) return { k: "bin", op: "==", l: path, r: str(g.pick(group)) };
  return { k: "bin", op: "in", l: path, r: { k: "list", items: group.map(str) } };
}

/** How a generated file fits in a set: its package, whether it may hold the one `default`, the ciphers the set gives each classification group. */
export interface FileOptions {
  pkg?: string;
  mayHoldDefault?: boolean;
  groupCipher?: string[];
  /** Mesh blocks with few random conditions, so most nodes are admitted (plans need peers). */
  admissive?: boolean;
}

/** Each group's cipher: any (with no default, the checker lets disjoint groups differ). */
export function groupCiphers(g: Rand): string[] {
  return GROUPS.map(() => g.pick(CIPHERS));
}

export function randomEncryptionPolicy(g: Rand, o: FileOptions = {}): GeneratedBlocks<EncPolicy> {
  const pkg = o.pkg ?? "p";
  const x = new ExprGen(g, ENC_VOCAB);
  const pr = new Printer(g);
  const lines = [`package ${pkg}`];
  const consts = declareConsts(g, x, pr, lines, constPrefix(pkg));
  const hasDefault = (o.mayHoldDefault ?? true) && g.chance(0.6);
  // A default's cipher must be every group's (SP2022); given the set's group ciphers, only one they all share.
  const shared = o.groupCipher === undefined ? (g.chance(0.8) ? CIPHERS[0]! : CIPHERS[1]!) : o.groupCipher.every((c) => c === o.groupCipher![0]) ? o.groupCipher[0]! : null;
  const defaultCipher = hasDefault && g.chance(0.7) ? shared : null;
  // Each group's cipher: the default's when there is one (SP2022 otherwise).
  const groupCipher = defaultCipher !== null ? GROUPS.map(() => defaultCipher) : (o.groupCipher ?? groupCiphers(g));
  const named = (hasDefault ? 0 : 1) + g.int(4);
  const defaultAt = hasDefault ? g.int(named + 1) : -1;
  const rules: EncRule[] = [];
  for (let i = 0; i <= named; i++) {
    if (i === defaultAt) rules.push(defaultRule(g, lines, pkg, defaultCipher));
    if (i < named) rules.push(namedRule(g, x, pr, lines, pkg, i, groupCipher, defaultCipher));
  }
  return { text: `${lines.join("\n")}\n`, policy: { consts, rules } };
}

/** Const names are per package; the references keep one table, so each package's names differ. */
function constPrefix(pkg: string): string {
  return pkg === "p" ? "c" : `${pkg}_c`;
}

function requirementClauses(g: Rand, cipher: string | null): Pending<EncClause>[] {
  const out: Pending<EncClause>[] = [];
  if (cipher !== null) out.push({ line: `require cipher ${JSON.stringify(cipher)}`, clause: { k: "cipher", name: cipher } });
  for (let j = g.chance(0.6) ? 1 + g.int(2) : 0; j > 0; j--) {
    const d = g.pick(KEY_AGES);
    const message = g.chance(0.3) ? `keys rotate ${j}` : null;
    out.push({ line: `require key_age within ${d.raw}${message === null ? "" : ` else ${JSON.stringify(message)}`}`, clause: { k: "key_age", ...d, message } });
  }
  if (g.chance(0.3)) out.push({ line: "require tee", clause: { k: "tee" } });
  for (let j = g.chance(0.5) ? 1 + g.int(2) : 0; j > 0; j--) {
    const fields = AAD_FIELDS.filter(() => g.chance(0.4));
    if (fields.length === 0) fields.push(g.pick(AAD_FIELDS));
    out.push({ line: `require aad ${JSON.stringify(fields).replace(/,/g, ", ")}`, clause: { k: "aad", fields } });
  }
  return out;
}

function defaultRule(g: Rand, lines: string[], pkg: string, cipher: string | null): EncRule {
  lines.push("encryption default {");
  if (g.chance(0.3)) lines.push('  tags ["ISO27001:A.8.24"]');
  const clauses = place<EncClause>(g, lines, requirementClauses(g, cipher), true);
  lines.push("}");
  return { id: `${pkg}/default`, isDefault: true, clauses };
}

function namedRule(g: Rand, x: ExprGen, pr: Printer, lines: string[], pkg: string, i: number, groupCipher: string[], defaultCipher: string | null): EncRule {
  lines.push(`encryption "e${i}" {`);
  if (g.chance(0.2)) lines.push('  tags ["HIPAA:164.312(a)(2)(iv)"]');
  const lead: Pending<EncClause>[] = [];
  let cipher: string | null = null;
  if (g.chance(0.75)) {
    const gi = g.int(GROUPS.length);
    const e = classTest(g, GROUPS[gi]!);
    lead.push({ line: `when ${pr.print(e)}`, clause: { k: "when", e } });
    if (g.chance(0.6)) cipher = groupCipher[gi]!;
  } else if (g.chance(0.4)) cipher = defaultCipher ?? groupCipher[0]!;
  // Now and then a cipher the checker may find in conflict (a refused policy, counted).
  if (g.chance(0.03)) cipher = g.pick(CIPHERS);
  const rest = requirementClauses(g, cipher);
  for (let j = g.int(3); j > 0; j--) {
    const e = x.condition(0);
    rest.push({ line: `when ${pr.print(e)}`, clause: { k: "when", e } });
  }
  if (g.chance(0.3)) {
    const e = x.condition(0);
    rest.push({ line: `unless ${pr.print(e)}`, clause: { k: "unless", e } });
  }
  if (g.chance(0.6)) rest.sort(() => g.next() - 0.5);
  const clauses = place<EncClause>(g, lines, [...lead, ...rest], false);
  lines.push("}");
  return { id: `${pkg}/e${i}`, isDefault: false, clauses };
}

// ---------------------------------------------------------------- times around the limits

/** Input times, two on either side of ops-bot's quarantine expiry (12:30, spec-policy-gen.ts STORE). */
const INPUT_TIMES = ["2026-01-01T12:00:00Z", "2026-01-01T13:00:00Z", "2026-03-01T00:00:00+01:00", 1767268800, "2026-01-01T12:30:00Z", "2026-01-01T12:29:59.999Z"];

/** The input's `time` (absent: the clock) and the `now` it makes. */
function inputTime(g: Rand): { time: unknown; now: number } {
  const r = g.int(50);
  if (r < 25) return { time: undefined, now: CLOCK };
  if (r < 48) {
    const t = g.pick(INPUT_TIMES);
    return { time: t, now: typeof t === "number" ? t * 1000 : Date.parse(t) };
  }
  return { time: g.pick<unknown>(["yesterday", null, new Raw("1e400"), "2026-02-30T00:00:00Z"]), now: NaN };
}

/** An instant as an input may write it: RFC 3339 in its spellings (offsets, `t`/`z`, a space, digits past the millisecond) or epoch seconds. */
function spell(g: Rand, ms: number): unknown {
  const iso = new Date(ms).toISOString();
  switch (g.int(8)) {
    case 0:
      return iso.replace("Z", "+00:00");
    case 1: {
      const off = g.pick([330, -480, 60]);
      const a = Math.abs(off);
      const local = new Date(ms + off * 60_000).toISOString().slice(0, 23);
      return `${local}${off < 0 ? "-" : "+"}${String(Math.floor(a / 60)).padStart(2, "0")}:${String(a % 60).padStart(2, "0")}`;
    }
    case 2:
      return iso.replace("T", "t").replace("Z", "z");
    case 3:
      return iso.replace("T", " ");
    case 4:
      return iso.replace("Z", "999Z");
    case 5:
      return ms / 1000;
    default:
      return iso;
  }
}

/** A key date: on either side of a key age or of the clock skew, or no date at all. */
function keyDate(g: Rand, now: number): unknown {
  const base = Number.isNaN(now) ? CLOCK : now;
  switch (g.int(9)) {
    case 0:
    case 1:
      return spell(g, base - g.pick(KEY_AGES).ms + g.pick([-1000, -1, 0, 1, 1000]));
    case 2:
      return spell(g, base + 5 * 60_000 + g.pick([-1, 0, 1, 1000]));
    case 3:
      return g.pick<unknown>(["9999-12-31T00:00:00Z", "last year", "", "2026-02-30T00:00:00Z", "2025-12-31T23:59:60Z", "2026-01-01T12:00:00", 0, -1, new Raw("1e13"), new Raw("1e400"), true, [], {}]);
    case 4:
      return spell(g, base - g.int(400) * 86_400_000);
    default:
      return spell(g, base - g.pick([0, 3600_000, 86_400_000 * 10, 86_400_000 * 60]));
  }
}

/** Usually `make()`, sometimes absent, null or a value of another type. */
function field(g: Rand, o: Record<string, unknown>, key: string, make: () => unknown, present = 0.8): void {
  const r = g.next();
  if (r < present) o[key] = make();
  else if (r < present + (1 - present) * 0.4) return;
  else if (r < present + (1 - present) * 0.6) o[key] = null;
  else o[key] = g.pick(WEIRD);
}

const num = (g: Rand): unknown => (g.chance(0.85) ? g.int(6) : g.pick(RAW_NUMBERS.map((t) => new Raw(t))));
const list = (g: Rand, of: string[]): unknown[] => Array.from({ length: g.int(4) }, () => (g.chance(0.9) ? g.pick(of) : g.pick(WEIRD)));

export function randomEncryptionInput(g: Rand): string {
  const { time, now } = inputTime(g);
  const data: Record<string, unknown> = {};
  field(g, data, "classification", () => g.pick(CLASSES), 0.8);
  field(g, data, "kind", () => g.pick(["log", "record", "x"]), 0.4);
  field(g, data, "tenant", () => g.pick(["t1", "t2"]), 0.5);
  field(g, data, "region", () => g.pick(["eu", "us"]), 0.4);
  field(g, data, "x-y", () => g.pick(["a", "x"]), 0.2);
  field(g, data, "owner", () => ({ id: g.pick(["u1", "mallory", "ops-bot"]) }), 0.4);
  field(g, data, "labels", () => list(g, ["phi", "eu", "x", "t1"]), 0.4);
  field(g, data, "tags", () => list(g, ["phi", "log"]), 0.3);
  field(g, data, "size", () => num(g), 0.4);
  field(g, data, "level", () => num(g), 0.3);
  field(g, data, "pii", () => g.chance(0.5), 0.4);
  field(g, data, "created", () => keyDate(g, now), 0.3);
  if (g.chance(0.75)) {
    field(g, data, "encryption", () => {
      const e: Record<string, unknown> = {};
      field(g, e, "cipher", () => g.pick([...CIPHERS, ...CIPHERS, "AES-256-GCM", "none", "aes-128-cbc"]), 0.85);
      field(g, e, "key_created_at", () => keyDate(g, now), 0.85);
      field(g, e, "tee", () => g.chance(0.6), 0.7);
      field(g, e, "aad", () => (g.chance(0.9) ? AAD_FIELDS.filter(() => g.chance(0.7)) : g.pick<unknown>(["tenant_id", [["tenant_id"]], [1]])), 0.8);
      return e;
    }, 0.9);
  }
  const input: Record<string, unknown> = { kind: "encryption" };
  if (g.chance(0.98)) input["data"] = data;
  else input["data"] = g.pick<unknown>([null, [], "phi"]);
  if (time !== undefined) input["time"] = time;
  return serialize(input);
}

// ---------------------------------------------------------------- mesh

const MESH_NAMES = ["swarm", "lab"];
const NETWORKS = ["100.64.0.0/10", "100.96.0.0/16", "100.64.7.0/24", "fd00:64::/64"];
const CONNECT_TAGS = ["worker", "scheduler", "gateway", "dns", "*"];
/** Ports a connect rule may list; PROBE_PORTS adds one none lists. */
const PORT_LISTS = [[53], [7000, 7001], [22, 7000]];
export const PROBE_PORTS = [53, 7000, 7001, 22, 443];
const TAGS = ["worker", "scheduler", "gateway", "dns", "laptop"];

export function randomMeshPolicy(g: Rand, o: FileOptions = {}): GeneratedBlocks<MeshPolicy> {
  const pkg = o.pkg ?? "p";
  const x = new ExprGen(g, MESH_VOCAB);
  const pr = new Printer(g);
  const lines = [`package ${pkg}`];
  const consts = declareConsts(g, x, pr, lines, constPrefix(pkg));
  const meshes: RefMesh[] = [];
  const count = g.chance(0.7) ? 1 : 2;
  for (let i = 0; i < count; i++) {
    const name = MESH_NAMES[i]!;
    lines.push(`mesh "${name}" {`);
    if (g.chance(0.3)) lines.push('  tags ["ISO27001:A.8.20"]');
    const network = g.pick(NETWORKS);
    lines.push(`  network "${network}"`);
    if (g.chance(0.5)) lines.push("  listen_port 51820");
    if (g.chance(0.4)) lines.push("  keepalive 25s");
    const pending: Pending<MeshClause>[] = [];
    const cond = (k: "when" | "unless" | "require", e: Node, message: string | null = null) =>
      pending.push({ line: `${k} ${pr.print(e)}${message === null ? "" : ` else ${JSON.stringify(message)}`}`, clause: k === "require" ? { k, e, message } : { k, e } });
    if (g.chance(0.6)) cond("when", pathNode("node.attested"));
    if (g.chance(0.5)) cond("when", { k: "bin", op: "contains_any", l: pathNode("node.tags"), r: { k: "list", items: TAGS.filter((x) => (o.admissive ? x !== "laptop" : g.chance(0.5))).map(str) } });
    if (g.chance(0.5)) cond("unless", { k: "call", fn: "quarantined", arg: pathNode("node.id") });
    if (g.chance(0.6)) {
      const d = o.admissive ? { ms: 365 * 86_400_000, raw: "365d" } : g.pick(KEY_AGES);
      const message = g.chance(0.5) ? "WireGuard key too old" : null;
      pending.push({ line: `require key_age within ${d.raw}${message === null ? "" : ` else ${JSON.stringify(message)}`}`, clause: { k: "key_age", ...d, message } });
    }
    const few = o.admissive ? 0.25 : 1;
    if (g.chance(0.4 * few)) cond("when", x.condition(0));
    if (g.chance(0.2 * few)) cond("unless", x.condition(0));
    for (let j = g.chance(few) ? g.int(3) : 0; j > 0; j--) cond("require", x.condition(0), g.chance(0.5) ? `need ${j}` : null);
    const clauses = place<MeshClause>(g, lines, pending, g.chance(0.4));
    const connects: RefConnect[] = [];
    for (let j = g.int(4); j > 0; j--) {
      const c: RefConnect = { from: g.pick(CONNECT_TAGS), to: g.pick(CONNECT_TAGS), both: g.chance(0.4), ports: g.chance(0.5) ? null : g.pick(PORT_LISTS) };
      connects.push(c);
      lines.push(`  connect ${JSON.stringify(c.from)} ${c.both ? "<->" : "->"} ${JSON.stringify(c.to)}${c.ports === null ? "" : ` ports [${c.ports.join(", ")}]`}`);
    }
    lines.push("}");
    meshes.push({ id: `${pkg}/${name}`, name, clauses, network, connects });
  }
  return { text: `${lines.join("\n")}\n`, policy: { consts, meshes } };
}

/** Well-formed keys, and near misses: bits past the 32 bytes, 31 or 33 bytes, no padding, the URL-safe alphabet. */
function publicKey(g: Rand): unknown {
  const good = Buffer.from(Array.from({ length: 32 }, () => g.int(256))).toString("base64");
  switch (g.int(15)) {
    case 0:
      return good.slice(0, 42) + g.pick(["B", "C", "D", "b", "/"]) + "=";
    case 1:
      return Buffer.from(Array.from({ length: g.pick([31, 33]) }, () => g.int(256))).toString("base64");
    case 2:
      return g.pick<unknown>([good.slice(0, 43), good.replace(/[+/]/g, "-").replace(/^./, "-"), ` ${good}`, `${good}\n`, "", 42, null, [good]]);
    default:
      return good;
  }
}

/** A node for a set of the mesh blocks `ids` (`pkg/name`): with several, the input usually names one, by name or by id. */
export function randomMeshInput(g: Rand, ids: string[]): string {
  const { time, now } = inputTime(g);
  const node: Record<string, unknown> = {};
  field(g, node, "id", () => g.pick(["n1", "n2", "ops-bot", "mallory", "u1"]), 0.97);
  node["public_key"] = publicKey(g);
  if (g.chance(0.02)) delete node["public_key"];
  field(g, node, "tags", () => (g.chance(0.98) ? TAGS.filter(() => g.chance(0.35)) : [g.pick(TAGS), 7]), 0.98);
  field(g, node, "attested", () => g.chance(0.75), 0.85);
  field(g, node, "tee", () => g.chance(0.5), 0.5);
  field(g, node, "key_created_at", () => keyDate(g, now), 0.85);
  field(g, node, "region", () => g.pick(["eu", "us"]), 0.5);
  field(g, node, "endpoint", () => g.pick(["198.18.0.1:51820", "[2001:db8::1]:51820"]), 0.4);
  field(g, node, "cpu", () => num(g), 0.4);
  field(g, node, "score", () => num(g), 0.3);
  field(g, node, "roles", () => list(g, ["ops", "worker", "x"]), 0.3);
  field(g, node, "owner", () => ({ name: g.pick(["ops", "x"]) }), 0.3);
  field(g, node, "hw", () => ({ vendor: g.pick(["amd", "intel"]), cores: g.int(64), secure_boot: g.chance(0.5) }), 0.3);
  field(g, node, "enrolled_at", () => keyDate(g, now), 0.3);
  const input: Record<string, unknown> = { kind: "mesh" };
  if (g.chance(ids.length > 1 ? 0.9 : 0.1)) {
    const id = g.pick(ids);
    input["mesh"] = g.chance(0.5) ? id : id.slice(id.indexOf("/") + 1);
  } else if (g.chance(0.1)) input["mesh"] = g.pick<unknown>(["nope", "q/swarm", "Swarm", 3, null]);
  input["node"] = g.chance(0.98) ? node : g.pick<unknown>([null, [], "n1"]);
  if (time !== undefined) input["time"] = time;
  return serialize(input);
}

// ---------------------------------------------------------------- inventories

/** Pins per network: usable ones, its network and broadcast addresses, and addresses outside it. */
const PINS: Record<string, string[]> = {
  "100.64.0.0/10": ["100.64.0.1", "100.64.0.2", "100.100.3.4", "100.64.0.0", "100.127.255.255", "100.128.0.1", "10.0.0.1"],
  "100.96.0.0/16": ["100.96.0.1", "100.96.0.2", "100.96.3.4", "100.96.0.0", "100.96.255.255", "100.97.0.1"],
  "100.64.7.0/24": ["100.64.7.1", "100.64.7.2", "100.64.7.200", "100.64.7.0", "100.64.7.255", "100.64.8.1"],
  "fd00:64::/64": ["fd00:64::1", "fd00:64::2", "fd00:64::ffff:ffff:ffff:ffff", "fd00:64::", "fd00:65::1", "100.64.0.1"],
};

/**
 * An inventory the inventory schema takes (docs/mesh.md): ids n0..., a few
 * nodes sharing a key or with a malformed one, pins on every sort of address.
 */
export function randomInventory(g: Rand, network: string, now: number): Record<string, unknown>[] {
  const keys: string[] = [];
  return Array.from({ length: 2 + g.int(10) }, (_, i) => {
    const node: Record<string, unknown> = { id: `n${i}` };
    const k = g.chance(0.85) ? Buffer.from(Array.from({ length: 32 }, () => g.int(256))).toString("base64") : publicKey(g);
    node["public_key"] = keys.length > 0 && g.chance(0.08) ? g.pick(keys) : typeof k === "string" ? k : "not a key";
    keys.push(node["public_key"] as string);
    node["tags"] = TAGS.filter(() => g.chance(0.35));
    if (g.chance(0.8) && !(node["tags"] as string[]).some((x) => x !== "laptop")) (node["tags"] as string[]).push(g.pick(TAGS.slice(0, 4)));
    if (g.chance(0.3)) node["address"] = g.pick(PINS[network]!);
    if (g.chance(0.4)) node["endpoint"] = g.pick(["198.18.0.1:51820", "[2001:db8::1]:51820", "node.example:51820"]);
    const at = g.chance(0.8) ? spell(g, now - g.int(300) * 86_400_000) : keyDate(g, now);
    if (g.chance(0.85) && (typeof at === "string" || (typeof at === "number" && at >= 0))) node["key_created_at"] = at;
    field(g, node, "attested", () => g.chance(0.9), 0.95);
    field(g, node, "tee", () => g.chance(0.5), 0.5);
    field(g, node, "region", () => g.pick(["eu", "us"]), 0.5);
    field(g, node, "cpu", () => num(g), 0.4);
    field(g, node, "roles", () => list(g, ["ops", "worker", "x"]), 0.3);
    field(g, node, "hw", () => ({ vendor: g.pick(["amd", "intel"]), cores: g.int(64), secure_boot: g.chance(0.5) }), 0.3);
    return node;
  });
}
