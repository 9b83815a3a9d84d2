/**
 * The plain JavaScript loop: the workload's own `semantics` text, written
 * literally, with no index. Two uses:
 *  - `decideReference` is the oracle that derives expected decisions for
 *    N = 10,000 (and is checked to reproduce the shipped ones at 10/100/1000);
 *  - `createPlainLoopEngine` is the peer "plain unindexed JS loop" in the
 *    benchmark: the same semantics with paths split once, forbids scanned
 *    first and the first applying permit deciding.
 */
import type { Cond, Expected, Json, WorkloadPolicy, WorkloadRequest } from "../workload.js";

/**
 * The `semantics` field this file implements, verbatim. The loader refuses
 * a workload whose text differs, so a changed workload cannot silently be
 * decided by stale code.
 */
export const WORKLOAD_SEMANTICS =
  "Deny by default. A policy applies when principal.roles contains principalRole (if given), action is in actions (if given), resource.type == resourceType (if given), every `when` condition holds and no `unless` condition holds. Decision is deny if any forbid applies, else allow if any permit applies, else deny. Cond {attr, op, value} compares the attribute with a literal; {attr, op, ref} compares two attributes. ops: == != < <= > >= in (attr is one of the value list) contains (attr list contains value). Attributes are never missing in this workload.";

/** Reads a dotted attribute path (`principal.roles`, `action`) from a request. */
export function readAttr(req: WorkloadRequest, attr: string): Json {
  let v: unknown = req;
  for (const key of attr.split(".")) {
    if (v === null || typeof v !== "object" || !(key in v)) {
      // The semantics say attributes are never missing; a miss is a workload bug.
      throw new Error(`request ${req.id}: attribute ${attr} is missing`);
    }
    v = (v as Record<string, unknown>)[key];
  }
  return v as Json;
}

function isScalar(v: Json): v is string | number | boolean {
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean";
}

/** One condition, compared exactly as the semantics text says. */
export function holds(cond: Cond, left: Json, right: Json): boolean {
  switch (cond.op) {
    case "==":
    case "!=": {
      if (!isScalar(left) || !isScalar(right)) throw new Error(`unsupported ${cond.op} on non-scalars (${cond.attr})`);
      return cond.op === "==" ? left === right : left !== right;
    }
    case "<":
    case "<=":
    case ">":
    case ">=": {
      if (typeof left !== "number" || typeof right !== "number") throw new Error(`${cond.op} needs numbers (${cond.attr})`);
      if (cond.op === "<") return left < right;
      if (cond.op === "<=") return left <= right;
      if (cond.op === ">") return left > right;
      return left >= right;
    }
    case "in":
      if (!Array.isArray(right)) throw new Error(`in needs a list value (${cond.attr})`);
      return right.includes(left);
    case "contains":
      if (!Array.isArray(left)) throw new Error(`contains needs a list attribute (${cond.attr})`);
      return left.includes(right);
  }
}

function condHolds(req: WorkloadRequest, cond: Cond): boolean {
  const right = cond.ref !== undefined ? readAttr(req, cond.ref) : cond.value!;
  return holds(cond, readAttr(req, cond.attr), right);
}

/** A policy applies: its targets match, every `when` holds, no `unless` holds. */
export function applies(p: WorkloadPolicy, req: WorkloadRequest): boolean {
  if (p.principalRole !== undefined && !req.principal.roles.includes(p.principalRole)) return false;
  if (p.actions !== undefined && !p.actions.includes(req.action)) return false;
  if (p.resourceType !== undefined && req.resource.type !== p.resourceType) return false;
  for (const c of p.when) if (!condHolds(req, c)) return false;
  for (const c of p.unless) if (condHolds(req, c)) return false;
  return true;
}

/**
 * The reference decision with every determining policy, in policy order:
 * the applying forbids on deny, the applying permits on allow (what the
 * workload's `expected[N].reasons` lists).
 */
export function decideReference(policies: readonly WorkloadPolicy[], req: WorkloadRequest): Expected {
  const forbids: string[] = [];
  const permits: string[] = [];
  for (const p of policies) {
    if (applies(p, req)) (p.effect === "forbid" ? forbids : permits).push(p.id);
  }
  if (forbids.length > 0) return { decision: "deny", reasons: forbids };
  if (permits.length > 0) return { decision: "allow", reasons: permits };
  return { decision: "deny", reasons: [] };
}

// ------------------------------------------------------------ the timed peer

interface LoopCond {
  op: Cond["op"];
  attr: string;
  path: string[];
  refPath: string[] | undefined;
  value: Json | undefined;
}

interface LoopPolicy {
  id: string;
  role: string | undefined;
  actions: string[] | undefined;
  type: string | undefined;
  when: LoopCond[];
  unless: LoopCond[];
}

/** The outcome of one plain-loop decision: the deciding policy, if any. */
export interface LoopDecision {
  decision: "allow" | "deny";
  rule: string | undefined;
}

function read(req: WorkloadRequest, path: string[]): Json {
  let v: unknown = req;
  for (let i = 0; i < path.length; i++) v = (v as Record<string, unknown>)[path[i]!];
  return v as Json;
}

function loopCondHolds(req: WorkloadRequest, c: LoopCond): boolean {
  return holds(c as Cond, read(req, c.path), c.refPath !== undefined ? read(req, c.refPath) : c.value!);
}

function loopApplies(p: LoopPolicy, req: WorkloadRequest): boolean {
  if (p.role !== undefined && !req.principal.roles.includes(p.role)) return false;
  if (p.actions !== undefined && !p.actions.includes(req.action)) return false;
  if (p.type !== undefined && req.resource.type !== p.type) return false;
  for (let i = 0; i < p.when.length; i++) if (!loopCondHolds(req, p.when[i]!)) return false;
  for (let i = 0; i < p.unless.length; i++) if (loopCondHolds(req, p.unless[i]!)) return false;
  return true;
}

/**
 * The plain unindexed loop as a benchmark engine: every forbid, then permits
 * until the first that applies. Paths are split once, nothing else is
 * prepared.
 */
export function createPlainLoopEngine(policies: readonly WorkloadPolicy[]): (req: WorkloadRequest) => LoopDecision {
  const prep = (c: Cond): LoopCond => ({
    op: c.op,
    attr: c.attr,
    path: c.attr.split("."),
    refPath: c.ref?.split("."),
    value: c.value,
  });
  const toLoop = (p: WorkloadPolicy): LoopPolicy => ({
    id: p.id,
    role: p.principalRole,
    actions: p.actions,
    type: p.resourceType,
    when: p.when.map(prep),
    unless: p.unless.map(prep),
  });
  const forbids = policies.filter((p) => p.effect === "forbid").map(toLoop);
  const permits = policies.filter((p) => p.effect === "permit").map(toLoop);
  return (req) => {
    for (let i = 0; i < forbids.length; i++) {
      if (loopApplies(forbids[i]!, req)) return { decision: "deny", rule: forbids[i]!.id };
    }
    for (let i = 0; i < permits.length; i++) {
      if (loopApplies(permits[i]!, req)) return { decision: "allow", rule: permits[i]!.id };
    }
    return { decision: "deny", rule: undefined };
  };
}
