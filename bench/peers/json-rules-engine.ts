/**
 * Peer: json-rules-engine 7 with a simple dotted path resolver (instead of
 * the default JSONPath one). Facts: principal, action, resource, context.
 * Each workload policy is one rule whose event is { type: effect, params:
 * { id } }; targets and `when` conditions are an `all`, each `unless`
 * condition a `not`. The decision applies the workload's semantics to the
 * events that fired: any forbid denies, else any permit allows.
 */
import { Engine, type ConditionProperties, type NestedCondition, type RuleProperties } from "json-rules-engine";
import type { Cond, Expected, Json, WorkloadPolicy, WorkloadRequest } from "../workload.js";

/** The runtime facts of one request. */
export type JreFacts = Pick<WorkloadRequest, "principal" | "action" | "resource" | "context">;

const OPERATORS: Record<Cond["op"], string> = {
  "==": "equal",
  "!=": "notEqual",
  "<": "lessThan",
  "<=": "lessThanInclusive",
  ">": "greaterThan",
  ">=": "greaterThanInclusive",
  in: "in",
  contains: "contains",
};

/** `principal.roles` as fact `principal`, path `roles`; `action` as fact `action`. */
function factRef(attr: string): { fact: string; path?: string } {
  const dot = attr.indexOf(".");
  return dot < 0 ? { fact: attr } : { fact: attr.slice(0, dot), path: attr.slice(dot + 1) };
}

function jreCond(c: Cond): ConditionProperties {
  const value = c.ref !== undefined ? factRef(c.ref) : (c.value as Json);
  return { ...factRef(c.attr), operator: OPERATORS[c.op], value };
}

/** One workload policy as a json-rules-engine rule. */
export function toJreRule(p: WorkloadPolicy): RuleProperties {
  const all: NestedCondition[] = [];
  if (p.principalRole !== undefined) all.push({ fact: "principal", path: "roles", operator: "contains", value: p.principalRole });
  if (p.actions !== undefined) all.push({ fact: "action", operator: "in", value: p.actions });
  if (p.resourceType !== undefined) all.push({ fact: "resource", path: "type", operator: "equal", value: p.resourceType });
  all.push(...p.when.map(jreCond));
  all.push(...p.unless.map((u): NestedCondition => ({ not: jreCond(u) })));
  return { name: p.id, conditions: { all }, event: { type: p.effect, params: { id: p.id } } };
}

/** Reads `a.b.c` by plain property access (the default resolver is JSONPath). */
function simplePathResolver(value: unknown, path: string): unknown {
  let v = value;
  for (const key of path.split(".")) v = (v as Record<string, unknown> | null | undefined)?.[key];
  return v;
}

export function createJreEngine(policies: readonly WorkloadPolicy[]): {
  prepare: (req: WorkloadRequest) => JreFacts;
  run: (facts: JreFacts) => Promise<Awaited<ReturnType<Engine["run"]>>>;
  read: (out: Awaited<ReturnType<Engine["run"]>>) => Expected;
} {
  const engine = new Engine(policies.map(toJreRule), { pathResolver: simplePathResolver });
  return {
    prepare: (req) => ({ principal: req.principal, action: req.action, resource: req.resource, context: req.context }),
    run: (facts) => engine.run(facts as unknown as Record<string, unknown>),
    read: (out) => {
      const fired = (type: string): string[] => out.events.filter((e) => e.type === type).map((e) => String(e.params?.id));
      const forbids = fired("forbid");
      if (forbids.length > 0) return { decision: "deny", reasons: forbids };
      const permits = fired("permit");
      return permits.length > 0 ? { decision: "allow", reasons: permits } : { decision: "deny", reasons: [] };
    },
  };
}
