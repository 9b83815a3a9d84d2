/**
 * A reading of spec/LANGUAGE.md section 6 (mesh admission), and of the
 * decisions docs/language.md and docs/mesh.md record for it, for the mesh
 * spec differential (test/evaluator/spec-differential-blocks.test.ts). It
 * uses spec-reference.ts's expression evaluator and shares no code with
 * src/: not the key check, not the time reader, not the choice of mesh.
 *
 * What it holds the engine to:
 * - the input names its mesh (by name, or by id `package/name`) or there is
 *   exactly one; otherwise, and for a node without a string `id`, a
 *   `public_key` or a list of string `tags`, the input is refused (reject);
 * - a public key that is not 32 bytes of base64 (44 characters, the last
 *   one `=`, no bits past the 32 bytes) rejects with that reason;
 * - clauses in source order, stopping at the first that decides (section 3):
 *   a false `when`, a true `unless`, an unmet `require` reject with that
 *   clause as the reason; an error, a non-boolean, a missing, unreadable or
 *   future (beyond 5 minutes) `node.key_created_at` rejects with the error
 *   (fail closed); `admit` only when every clause passed. `key_age` is
 *   inclusive: a key exactly D old is young enough.
 */
import { evalNode, instant, RErr, type Env, type Node, type RefStore } from "./spec-reference.js";

export type MeshClause =
  | { k: "when" | "unless"; e: Node; line: number }
  | { k: "require"; e: Node; message: string | null; line: number }
  | { k: "key_age"; ms: number; raw: string; message: string | null; line: number };

/** `connect "from" -> "to" [ports [...]]`; `both` for `<->`. */
export interface RefConnect {
  from: string;
  to: string;
  both: boolean;
  ports: number[] | null;
}

export interface RefMesh {
  id: string;
  name: string;
  clauses: MeshClause[];
  /** The overlay network, as written. */
  network: string;
  connects: RefConnect[];
}

export interface MeshPolicy {
  consts: Map<string, Node>;
  meshes: RefMesh[];
}

export interface RefMeshDecision {
  decision: "admit" | "reject";
  mesh: string | null;
  rule: string | null;
  reasons: { rule: string | null; message: string }[];
  /** `rule@line`; one `null@0` for a refused input. */
  errors: string[];
}

/** Reasons whose text renders the clause's expression: the rendering is the engine's, the clause kind is what counts. */
export const WHEN_TEXT = "`when …` does not hold";
export const UNLESS_TEXT = "`unless …` holds";
export const REQUIRE_TEXT = "requirement not met: `…`";
export const BAD_KEY = "public key is not 32 bytes of base64";
export const FAILED_CLOSED = "evaluation error; rejected to fail closed";

const SKEW_MS = 5 * 60_000;
const MAX_MS = 8.64e15;
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
function own(o: Record<string, unknown>, k: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined;
}

/** 32 bytes in standard base64: 43 characters of 6 bits (258 bits, the last 2 zero) and one `=`. */
export function wireGuardKeyRef(v: unknown): boolean {
  if (typeof v !== "string" || v.length !== 44 || v[43] !== "=") return false;
  const sixes = Array.from(v.slice(0, 43), (c) => B64.indexOf(c));
  return sixes.every((x) => x >= 0) && (sixes[42]! & 0b11) === 0;
}

/** The mesh an input is for, or why there is none (docs/language.md section 6). */
function chooseRef(meshes: readonly RefMesh[], input: Record<string, unknown>): RefMesh | string {
  const want = own(input, "mesh");
  if (want === undefined) return meshes.length === 1 ? meshes[0]! : "no single mesh";
  if (typeof want !== "string") return "mesh not a string";
  const byId = meshes.find((m) => m.id === want);
  if (byId !== undefined) return byId;
  const named = meshes.filter((m) => m.name === want);
  return named.length === 1 ? named[0]! : "no such mesh";
}

/** Why the engine refuses a mesh input before admission; a mesh when it takes it. */
export function refuseMesh(meshes: readonly RefMesh[], input: unknown): RefMesh | string {
  if (!isObj(input)) return "not an object";
  if (own(input, "kind") !== "mesh") return "kind";
  const node = own(input, "node");
  if (!isObj(node)) return "node";
  if (typeof own(node, "id") !== "string") return "node.id";
  if (own(node, "public_key") === undefined) return "node.public_key";
  const tags = own(node, "tags");
  if (!Array.isArray(tags) || !tags.every((x) => typeof x === "string")) return "node.tags";
  const t = own(input, "time");
  if (t !== undefined && !(typeof t === "string" || typeof t === "number")) return "time type";
  if (t !== undefined && Number.isNaN(instant(t))) return "time value";
  return chooseRef(meshes, input);
}

export function decideMeshRef(policy: MeshPolicy, input: unknown, clockMs: number, store: RefStore): RefMeshDecision {
  const mesh = refuseMesh(policy.meshes, input);
  if (typeof mesh === "string") return { decision: "reject", mesh: null, rule: null, reasons: [{ rule: null, message: "invalid input" }], errors: ["null@0"] };
  const inp = input as Record<string, unknown>;
  const node = own(inp, "node") as Record<string, unknown>;
  const base = { mesh: mesh.name, rule: mesh.id };
  const reject = (message: string, errors: string[] = []): RefMeshDecision => ({ decision: "reject", ...base, reasons: [{ rule: mesh.id, message }], errors });
  if (!wireGuardKeyRef(own(node, "public_key"))) return reject(BAD_KEY);
  const t = own(inp, "time");
  let now = t === undefined ? clockMs : instant(t);
  if (!(Math.abs(now) <= MAX_MS)) now = NaN;
  const env: Env = { input: inp, now, store, consts: policy.consts };
  for (const cl of mesh.clauses) {
    if (cl.k === "key_age") {
      const at = own(node, "key_created_at");
      const ms = at === undefined ? NaN : instant(at);
      if (Number.isNaN(ms) || Number.isNaN(now) || ms - now > SKEW_MS) return reject(FAILED_CLOSED, [`${mesh.id}@${cl.line}`]);
      if (now - ms > cl.ms) return reject(cl.message ?? `WireGuard key is older than ${cl.raw}`);
      continue;
    }
    const v = evalNode(cl.e, env);
    if (v instanceof RErr || typeof v !== "boolean") return reject(FAILED_CLOSED, [`${mesh.id}@${cl.line}`]);
    if (cl.k === "when" && !v) return reject(WHEN_TEXT);
    if (cl.k === "unless" && v) return reject(UNLESS_TEXT);
    if (cl.k === "require" && !v) return reject(cl.message ?? REQUIRE_TEXT);
  }
  return { decision: "admit", ...base, reasons: [], errors: [] };
}

/** An engine mesh decision in the reference's terms. */
export function comparableMesh(d: {
  decision: string;
  mesh: string | null;
  rule: string | null;
  reasons: { rule: string | null; message: string }[];
  errors: { rule: string | null; span: { line: number } | null }[];
}): RefMeshDecision {
  const text = (m: string) => {
    if (/^`when .*` does not hold$/s.test(m)) return WHEN_TEXT;
    if (/^`unless .*` holds$/s.test(m)) return UNLESS_TEXT;
    if (m.startsWith("requirement not met: `")) return REQUIRE_TEXT;
    return m;
  };
  let errors = d.errors.map((e) => `${e.rule}@${e.span?.line ?? 0}`);
  if (d.rule === null && errors.length > 1 && errors.every((e) => e === "null@0")) errors = ["null@0"];
  return { decision: d.decision as RefMeshDecision["decision"], mesh: d.mesh, rule: d.rule, reasons: d.reasons.map((r) => ({ rule: r.rule, message: text(r.message) })), errors };
}
