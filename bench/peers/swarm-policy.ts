/**
 * Ours: the workload translated into `.policy` text and compiled with the
 * library's `compile(text, { file })`.
 *
 * forbid -> `deny`, permit -> `allow`; the action and resource.type tests go
 * FIRST in the first `when` (that is what the compiler's index reads), then
 * the role test and the workload's `when` conditions; each `unless`
 * condition becomes its own `unless` clause (none may hold).
 */
import { compile, type AccessDecision, type Decision, type Engine, type EngineOptions } from "../../src/index.js";
import type { Cond, Json, WorkloadPolicy } from "../workload.js";

/** The package every translated rule lives in; rule ids are `bench/<workload id>`. */
export const BENCH_PACKAGE = "bench";

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** An attribute path as a policy expression: `principal.roles`, or `a["x-y"]` where needed. */
export function policyPath(attr: string): string {
  const [root, ...rest] = attr.split(".");
  if (root === undefined || !IDENT.test(root)) throw new Error(`policy: bad attribute root in ${attr}`);
  return root + rest.map((k) => (IDENT.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`)).join("");
}

/** A JSON literal as a policy literal (strings use JSON escapes, as the language does). */
export function policyLiteral(v: Json): string {
  if (typeof v === "string" || typeof v === "boolean") return JSON.stringify(v);
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new Error(`policy: no literal for ${v}`);
    return String(v);
  }
  if (Array.isArray(v)) return `[${v.map(policyLiteral).join(", ")}]`;
  throw new Error(`policy: no literal for ${JSON.stringify(v)}`);
}

export function policyCond(c: Cond): string {
  const right = c.ref !== undefined ? policyPath(c.ref) : policyLiteral(c.value!);
  return `${policyPath(c.attr)} ${c.op} ${right}`;
}

/** One workload policy as one rule. */
export function toPolicyRule(p: WorkloadPolicy): string {
  const when: string[] = [];
  if (p.actions !== undefined) {
    when.push(p.actions.length === 1 ? `action == ${policyLiteral(p.actions[0]!)}` : `action in ${policyLiteral(p.actions)}`);
  }
  if (p.resourceType !== undefined) when.push(`resource.type == ${policyLiteral(p.resourceType)}`);
  if (p.principalRole !== undefined) when.push(`principal.roles contains ${policyLiteral(p.principalRole)}`);
  when.push(...p.when.map(policyCond));
  const lines = [`${p.effect === "forbid" ? "deny" : "allow"} ${JSON.stringify(p.id)} {`];
  if (when.length > 0) lines.push(`  when ${when.join(" and ")}`);
  for (const u of p.unless) lines.push(`  unless ${policyCond(u)}`);
  lines.push("}");
  return lines.join("\n");
}

/** The whole workload as one `.policy` file. */
export function toPolicyText(policies: readonly WorkloadPolicy[]): string {
  return [`package ${BENCH_PACKAGE}`, "", ...policies.map((p) => toPolicyRule(p) + "\n")].join("\n");
}

/** The workload id of a rule id `bench/<id>`, or undefined when there is no rule. */
export function workloadId(ruleId: string | null | undefined): string | undefined {
  if (ruleId === null || ruleId === undefined) return undefined;
  const prefix = `${BENCH_PACKAGE}/`;
  return ruleId.startsWith(prefix) ? ruleId.slice(prefix.length) : ruleId;
}

// ------------------------------------------------------------- the engine

/** The access input of one request, built before timing. */
export interface OursInput {
  kind: "access";
  principal: unknown;
  action: string;
  resource: unknown;
  context: unknown;
}

/** What the check reads from one of our decisions, rule ids as workload ids. */
export interface OursVerdict {
  decision: AccessDecision["decision"];
  /** The deciding rule; null when none decided. */
  rule: string | null;
  /** The rules behind the reasons (applicable denies on deny, granting allows on allow). */
  reasons: string[];
  errors: unknown[];
}

/** Compiles the workload's `.policy` translation with the library's `compile`. */
export function createOursEngine(
  policies: readonly WorkloadPolicy[],
  file = "bench.policy",
  options: EngineOptions = {},
): {
  compileMs: number;
  engine: Engine;
  prepare: (req: { principal: unknown; action: string; resource: unknown; context: unknown }) => OursInput;
  run: (input: OursInput) => Decision;
  read: (d: Decision) => OursVerdict;
} {
  const text = toPolicyText(policies);
  const t0 = performance.now();
  const engine = compile(text, { file, ...options });
  const compileMs = performance.now() - t0;
  const errors = engine.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) throw new Error(`ours: translated workload has errors: ${errors[0]!.code} ${errors[0]!.message}`);
  return {
    compileMs,
    engine,
    prepare: (req) => ({ kind: "access", principal: req.principal, action: req.action, resource: req.resource, context: req.context }),
    run: (input) => engine.evaluate(input),
    read: (d) => {
      const a = d as AccessDecision;
      return {
        decision: a.decision,
        rule: workloadId(a.rule) ?? null,
        reasons: a.reasons.flatMap((r) => (r.rule === null ? [] : [workloadId(r.rule)!])),
        errors: a.errors,
      };
    },
  };
}
