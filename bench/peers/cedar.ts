/**
 * Peer: @cedar-policy/cedar-wasm with a pre-parsed policy set
 * (preparsePolicySet once, statefulIsAuthorized per decision).
 *
 * Translation: principal `User::"<id>"` with attributes id, roles (a set),
 * department, clearance; resource `Resource::"<id>"` with type, owner, env,
 * classification; actions `Action::"<name>"`; the workload context as the
 * Cedar context. Each workload policy becomes one Cedar policy whose id is
 * the workload id, so Cedar's `diagnostics.reason` is comparable with the
 * expected reasons.
 *
 * Node 20 can abort in V8's deoptimizer with this package unless the process
 * runs with --no-turbo-inline-js-wasm-calls (npm run bench does).
 */
import type { Cond, Expected, Json, WorkloadPolicy, WorkloadRequest } from "../workload.js";

type CedarModule = typeof import("@cedar-policy/cedar-wasm/nodejs");
type StatefulCall = Parameters<CedarModule["statefulIsAuthorized"]>[0];

function cedarLiteral(v: Json): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "boolean") return String(v);
  if (typeof v === "number" && Number.isInteger(v)) return String(v);
  if (Array.isArray(v)) return `[${v.map(cedarLiteral).join(", ")}]`;
  throw new Error(`cedar: no literal for ${JSON.stringify(v)}`);
}

function actionUid(name: string): string {
  return `Action::${JSON.stringify(name)}`;
}

/** The workload attribute path as a Cedar expression (`principal.roles`, `action`). */
function cedarAttr(attr: string): string {
  const [root, ...rest] = attr.split(".");
  if (root !== "principal" && root !== "resource" && root !== "context" && root !== "action") {
    throw new Error(`cedar: unknown attribute root in ${attr}`);
  }
  if (root === "action" && rest.length > 0) throw new Error(`cedar: actions have no attributes (${attr})`);
  return [root, ...rest].join(".");
}

function cedarCond(c: Cond): string {
  const left = cedarAttr(c.attr);
  if (c.attr === "action") {
    // Actions are entities: compare with entity literals.
    if (c.ref !== undefined) throw new Error("cedar: action compared with an attribute");
    if (c.op === "==" || c.op === "!=") return `${left} ${c.op} ${actionUid(String(c.value))}`;
    if (c.op === "in" && Array.isArray(c.value)) return `${left} in [${c.value.map((a) => actionUid(String(a))).join(", ")}]`;
    throw new Error(`cedar: unsupported action test ${c.op}`);
  }
  const right = c.ref !== undefined ? cedarAttr(c.ref) : cedarLiteral(c.value!);
  switch (c.op) {
    case "in":
      return `${right}.contains(${left})`;
    case "contains":
      return `${left}.contains(${right})`;
    default:
      return `${left} ${c.op} ${right}`;
  }
}

/** One workload policy as Cedar text. */
export function toCedarPolicy(p: WorkloadPolicy): string {
  let action = "action";
  if (p.actions !== undefined) {
    action = p.actions.length === 1 ? `action == ${actionUid(p.actions[0]!)}` : `action in [${p.actions.map(actionUid).join(", ")}]`;
  }
  const when: string[] = [];
  if (p.principalRole !== undefined) when.push(`principal.roles.contains(${JSON.stringify(p.principalRole)})`);
  if (p.resourceType !== undefined) when.push(`resource.type == ${JSON.stringify(p.resourceType)}`);
  when.push(...p.when.map(cedarCond));
  const lines = [`${p.effect} (principal, ${action}, resource)`];
  if (when.length > 0) lines.push(`when { ${when.join(" && ")} }`);
  for (const u of p.unless) lines.push(`unless { ${cedarCond(u)} }`);
  return lines.join("\n") + ";";
}

/** A request as the arguments of statefulIsAuthorized (built before timing). */
export function toCedarCall(req: WorkloadRequest, policySetId: string): StatefulCall {
  const principal = { type: "User", id: req.principal.id };
  const resource = { type: "Resource", id: req.resource.id };
  return {
    principal,
    action: { type: "Action", id: req.action },
    resource,
    context: { ...req.context },
    preparsedPolicySetId: policySetId,
    entities: [
      { uid: principal, attrs: { ...req.principal }, parents: [] },
      { uid: resource, attrs: { ...req.resource }, parents: [] },
    ],
  };
}

let nextSetId = 0;

/** A pre-parsed Cedar policy set of the workload, with a call that decides one prepared request. */
export async function createCedarEngine(policies: readonly WorkloadPolicy[]): Promise<{
  prepare: (req: WorkloadRequest) => StatefulCall;
  run: (call: StatefulCall) => ReturnType<CedarModule["statefulIsAuthorized"]>;
  read: (answer: ReturnType<CedarModule["statefulIsAuthorized"]>) => Expected;
  version: string;
}> {
  const cedar: CedarModule = await import("@cedar-policy/cedar-wasm/nodejs");
  const staticPolicies: Record<string, string> = {};
  for (const p of policies) staticPolicies[p.id] = toCedarPolicy(p);
  const setId = `workload-${policies.length}-${nextSetId++}`;
  const parsed = cedar.preparsePolicySet(setId, { staticPolicies });
  if (parsed.type !== "success") {
    throw new Error(`cedar: policy set did not parse: ${parsed.errors.map((e) => e.message).join("; ")}`);
  }
  return {
    prepare: (req) => toCedarCall(req, setId),
    run: (call) => cedar.statefulIsAuthorized(call),
    read: (answer) => {
      if (answer.type !== "success") throw new Error(`cedar: ${answer.errors.map((e) => e.message).join("; ")}`);
      const { decision, diagnostics } = answer.response;
      if (diagnostics.errors.length > 0) {
        throw new Error(`cedar: evaluation errors: ${diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`).join("; ")}`);
      }
      return { decision, reasons: [...diagnostics.reason] };
    },
    version: cedar.getCedarVersion(),
  };
}
