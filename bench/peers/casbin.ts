/**
 * Peer: casbin (node-casbin) with one fixed ABAC matcher and the permits as
 * data lines (p = id, role, acts, rtype, env, clearance, device, mfa).
 *
 * Every workload permit has the same shape (role, actions, resource type,
 * then env ==, clearance >=, device_compliant ==, mfa_age_seconds <), which
 * is what lets them be data; a permit of any other shape is refused, never
 * silently mistranslated. The few forbids have shapes of their own, so they
 * are written into the matcher as `&& !(forbid)` terms after the permit
 * test: a line matches when its permit applies and no forbid does, which is
 * the workload's deny-overrides semantics under casbin's
 * `some(where (p.eft == allow))`.
 */
import { newEnforcer, newModelFromString, type Enforcer } from "casbin";
import type { Cond, Expected, Json, WorkloadPolicy, WorkloadRequest } from "../workload.js";

/** The request as casbin's r = sub, act, obj, ctx. */
export type CasbinRequest = [WorkloadRequest["principal"], string, WorkloadRequest["resource"], WorkloadRequest["context"]];

// `hasItem(list, x)`: membership, as a custom function (casbin's own `in`
// operator binds looser than `&&` and rewrites parenthesised lists).
const PERMIT_MATCH = [
  "hasItem(r.sub.roles, p.role)",
  "hasWord(p.acts, r.act)",
  "r.obj.type == p.rtype",
  "r.obj.env == p.env",
  "r.sub.clearance >= p.clearance",
  'r.ctx.device_compliant == (p.device == "true")',
  "r.ctx.mfa_age_seconds < p.mfa",
].join(" && ");

function casbinAttr(attr: string): string {
  const [root, ...rest] = attr.split(".");
  const base = { principal: "r.sub", action: "r.act", resource: "r.obj", context: "r.ctx" }[root!];
  if (base === undefined) throw new Error(`casbin: unknown attribute root in ${attr}`);
  return [base, ...rest].join(".");
}

function casbinLiteral(v: Json): string {
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(casbinLiteral).join(", ")}]`;
  throw new Error(`casbin: no literal for ${JSON.stringify(v)}`);
}

function casbinCond(c: Cond): string {
  const left = casbinAttr(c.attr);
  const right = c.ref !== undefined ? casbinAttr(c.ref) : casbinLiteral(c.value!);
  if (c.op === "in") return `hasItem(${right}, ${left})`;
  if (c.op === "contains") return `hasItem(${left}, ${right})`;
  return `${left} ${c.op} ${right}`;
}

/** A forbid as one matcher term that is true when the forbid applies. */
export function forbidTerm(p: WorkloadPolicy): string {
  const parts: string[] = [];
  if (p.principalRole !== undefined) parts.push(`hasItem(r.sub.roles, ${JSON.stringify(p.principalRole)})`);
  if (p.actions !== undefined) parts.push(`hasItem(${casbinLiteral(p.actions)}, r.act)`);
  if (p.resourceType !== undefined) parts.push(`r.obj.type == ${JSON.stringify(p.resourceType)}`);
  parts.push(...p.when.map(casbinCond));
  parts.push(...p.unless.map((u) => `!(${casbinCond(u)})`));
  return parts.length === 0 ? "true" : `(${parts.join(" && ")})`;
}

const PERMIT_SHAPE: readonly [string, Cond["op"], string][] = [
  ["resource.env", "==", "string"],
  ["principal.clearance", ">=", "number"],
  ["context.device_compliant", "==", "boolean"],
  ["context.mfa_age_seconds", "<", "number"],
];

/** A permit as a data line, or an error naming what does not fit the fixed matcher. */
export function permitLine(p: WorkloadPolicy): string[] {
  const fits =
    p.principalRole !== undefined &&
    p.actions !== undefined &&
    p.resourceType !== undefined &&
    p.unless.length === 0 &&
    p.when.length === PERMIT_SHAPE.length &&
    p.when.every((c, i) => c.ref === undefined && c.attr === PERMIT_SHAPE[i]![0] && c.op === PERMIT_SHAPE[i]![1] && typeof c.value === PERMIT_SHAPE[i]![2]);
  if (!fits) throw new Error(`casbin: permit ${p.id} does not fit the fixed ABAC matcher`);
  return [p.id, p.principalRole!, p.actions!.join(" "), p.resourceType!, ...p.when.map((c) => String(c.value))];
}

/** The casbin model text for a workload's forbids. */
export function casbinModel(policies: readonly WorkloadPolicy[]): string {
  const forbids = policies.filter((p) => p.effect === "forbid").map((p) => ` && !${forbidTerm(p)}`);
  return [
    "[request_definition]",
    "r = sub, act, obj, ctx",
    "[policy_definition]",
    "p = id, role, acts, rtype, env, clearance, device, mfa",
    "[policy_effect]",
    "e = some(where (p.eft == allow))",
    "[matchers]",
    `m = ${PERMIT_MATCH}${forbids.join("")}`,
  ].join("\n");
}

export async function createCasbinEngine(policies: readonly WorkloadPolicy[]): Promise<{
  prepare: (req: WorkloadRequest) => CasbinRequest;
  run: (r: CasbinRequest) => [boolean, string[]];
  read: (out: [boolean, string[]]) => { decision: Expected["decision"]; rule: string | undefined };
}> {
  const lines = policies.filter((p) => p.effect === "permit").map(permitLine);
  const enforcer: Enforcer = await newEnforcer(newModelFromString(casbinModel(policies)));
  await enforcer.addFunction("hasItem", (list: unknown, x: unknown) => Array.isArray(list) && list.includes(x));
  await enforcer.addFunction("hasWord", (words: string, x: string) => ` ${words} `.includes(` ${x} `));
  if (lines.length > 0) await enforcer.addPolicies(lines);
  return {
    prepare: (req) => [req.principal, req.action, req.resource, req.context],
    run: (r) => enforcer.enforceExSync(...r),
    // On allow casbin names the matching line; a deny names nothing.
    read: ([allowed, line]) => ({ decision: allowed ? "allow" : "deny", rule: allowed ? line[0] : undefined }),
  };
}
