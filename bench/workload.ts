/**
 * The engine-neutral access workload (../shared/bench/workload, read in
 * place, never copied): policy sets of N = 10, 100 and 1,000 rules and 1,000
 * requests with the expected decision per N. N = 10,000 is derived here by
 * cloning the 1,000-rule set under new role and resource-type names, with a
 * matching derived request set, and its expectations come from the
 * reference loop of the workload's own semantics (peers/plain-loop.ts).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { decideReference, WORKLOAD_SEMANTICS } from "./peers/plain-loop.js";

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** A workload condition: `attr op value` or `attr op ref` (another attribute). */
export interface Cond {
  attr: string;
  op: "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "contains";
  value?: Json;
  ref?: string;
}

export interface WorkloadPolicy {
  id: string;
  effect: "permit" | "forbid";
  principalRole?: string;
  actions?: string[];
  resourceType?: string;
  when: Cond[];
  unless: Cond[];
}

export interface WorkloadRequest {
  id: string;
  principal: { id: string; roles: string[]; department: string; clearance: number };
  action: string;
  resource: { id: string; type: string; owner: string; env: string; classification: string };
  context: { device_compliant: boolean; mfa_age_seconds: number };
}

/** An expected decision and its determining policies (forbids on deny, permits on allow). */
export interface Expected {
  decision: "allow" | "deny";
  reasons: string[];
}

export interface Workload {
  n: number;
  policies: WorkloadPolicy[];
  requests: WorkloadRequest[];
  /** expected[i] is the decision for requests[i]. */
  expected: Expected[];
  /** True for N = 10,000: policies, requests and expectations made here. */
  derived: boolean;
}

export const SHIPPED_SIZES = [10, 100, 1000] as const;
export const DERIVED_SIZE = 10_000;
export const ALL_SIZES = [...SHIPPED_SIZES, DERIVED_SIZE] as const;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** Where the shared workload lives; read in place. */
export const WORKLOAD_DIR = path.resolve(repoRoot, "../shared/bench/workload");

interface PolicyFileJson {
  version: number;
  n: number;
  semantics: string;
  policies: WorkloadPolicy[];
}
interface RequestFileJson {
  version: number;
  requests: (WorkloadRequest & { expected: Record<string, Expected> })[];
}

function readJson<T>(name: string): T {
  return JSON.parse(readFileSync(path.join(WORKLOAD_DIR, name), "utf8")) as T;
}

let requestFile: RequestFileJson | undefined;

/** One of the shipped workloads (N = 10, 100 or 1,000), checked for shape. */
export function loadShippedWorkload(n: (typeof SHIPPED_SIZES)[number]): Workload {
  const file = readJson<PolicyFileJson>(`policies-${n}.json`);
  if (file.version !== 1 || file.n !== n || file.policies.length !== n) {
    throw new Error(`policies-${n}.json: expected version 1 with ${n} policies`);
  }
  if (file.semantics !== WORKLOAD_SEMANTICS) {
    throw new Error(`policies-${n}.json: its semantics text changed; update bench/peers/plain-loop.ts to match it`);
  }
  requestFile ??= readJson<RequestFileJson>("requests.json");
  const requests: WorkloadRequest[] = [];
  const expected: Expected[] = [];
  for (const r of requestFile.requests) {
    const { expected: byN, ...req } = r;
    const e = byN[String(n)];
    if (e === undefined) throw new Error(`requests.json: ${r.id} has no expected decision for N=${n}`);
    requests.push(req);
    expected.push(e);
  }
  return { n, policies: file.policies, requests, expected, derived: false };
}

/** The name a role or resource type takes in clone copy `c` (copy 0 keeps the original). */
export function cloneName(name: string, c: number): string {
  return c === 0 ? name : `${name}-c${c}`;
}

function renameCond(cond: Cond, c: number): Cond {
  // Conditions that test roles or resource types follow their copy's names.
  const renames =
    (cond.attr === "principal.roles" && cond.op === "contains") ||
    (cond.attr === "resource.type" && (cond.op === "==" || cond.op === "!=" || cond.op === "in"));
  if (!renames || cond.value === undefined) return cond;
  const v = cond.value;
  const value = Array.isArray(v) ? v.map((x) => (typeof x === "string" ? cloneName(x, c) : x)) : typeof v === "string" ? cloneName(v, c) : v;
  return { ...cond, value };
}

function clonePolicy(p: WorkloadPolicy, c: number, id: string): WorkloadPolicy {
  const out: WorkloadPolicy = { ...p, id, when: p.when.map((x) => renameCond(x, c)), unless: p.unless.map((x) => renameCond(x, c)) };
  if (p.principalRole !== undefined) out.principalRole = cloneName(p.principalRole, c);
  if (p.resourceType !== undefined) out.resourceType = cloneName(p.resourceType, c);
  return out;
}

/**
 * A request moved into clone copy `c`: its resource type takes the copy's
 * name, and the principal holds its roles under both names, so the copy's
 * permits see it exactly as the originals see the original request while the
 * forbids (which name original roles like `admin` and `auditor`) still apply.
 */
export function cloneRequest(r: WorkloadRequest, c: number): WorkloadRequest {
  if (c === 0) return r;
  return {
    ...r,
    principal: { ...r.principal, roles: [...r.principal.roles, ...r.principal.roles.map((x) => cloneName(x, c))] },
    resource: { ...r.resource, type: cloneName(r.resource.type, c) },
  };
}

/** How a derived workload was built, for the report and the tests. */
export interface Derivation {
  /** Number of clone copies of the base permits (the last may be partial). */
  copies: number;
  /** Permits per full copy. */
  permitsPerCopy: number;
  /** copyOf[i] is the clone copy request i was moved into. */
  copyOf: number[];
}

const derivations = new WeakMap<Workload, Derivation>();

/** How `w` was derived from its base, or undefined for a shipped workload. */
export function derivationOf(w: Workload): Derivation | undefined {
  return derivations.get(w);
}

/**
 * N rules derived from `base`: its forbids unchanged, then its permits cloned
 * copy after copy (ids continue `permit-NNNN`) until there are N rules.
 * Request i moves into copy i mod copies. Expectations come from the
 * reference loop.
 */
export function deriveWorkload(base: Workload, n: number): Workload {
  const forbids = base.policies.filter((p) => p.effect === "forbid");
  const permits = base.policies.filter((p) => p.effect === "permit");
  permits.forEach((p, j) => {
    if (p.id !== permitId(j + 1)) throw new Error(`base workload: expected ${permitId(j + 1)}, found ${p.id}`);
  });
  const needed = n - forbids.length;
  if (needed < permits.length) throw new Error(`deriveWorkload: N=${n} is smaller than the base`);
  const policies: WorkloadPolicy[] = [...forbids];
  for (let k = 0; k < needed; k++) {
    const c = Math.floor(k / permits.length);
    policies.push(clonePolicy(permits[k % permits.length]!, c, permitId(k + 1)));
  }
  const copies = Math.ceil(needed / permits.length);
  const copyOf = base.requests.map((_, i) => i % copies);
  const requests = base.requests.map((r, i) => cloneRequest(r, copyOf[i]!));
  const expected = requests.map((r) => decideReference(policies, r));
  const w: Workload = { n, policies, requests, expected, derived: true };
  derivations.set(w, { copies, permitsPerCopy: permits.length, copyOf });
  return w;
}

function permitId(k: number): string {
  return `permit-${String(k).padStart(4, "0")}`;
}

const cache = new Map<number, Workload>();

/** The workload of size N (10, 100, 1,000 shipped; 10,000 derived), built once per process. */
export function loadWorkload(n: number): Workload {
  let w = cache.get(n);
  if (w !== undefined) return w;
  if (n === 10 || n === 100 || n === 1000) w = loadShippedWorkload(n);
  else if (n === DERIVED_SIZE) w = deriveWorkload(loadWorkload(1000), n);
  else throw new Error(`no workload of size ${n}`);
  cache.set(n, w);
  return w;
}
