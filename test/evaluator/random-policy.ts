/**
 * Random access policies and requests over a small vocabulary, for the
 * oracle test: literal index tests (leading or not), missing attributes,
 * `has`, `??`, `in` lists and CIDRs, comparisons of mixed types, arithmetic,
 * builtins, `require`, `require mfa within`, and rules that error.
 */

export { prng } from "../support/prng.js";

export class Gen {
  constructor(readonly rand: () => number) {}
  int(n: number): number {
    return Math.floor(this.rand() * n);
  }
  chance(p: number): boolean {
    return this.rand() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  some<T>(xs: readonly T[], max: number): T[] {
    const n = 1 + this.int(max);
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(this.pick(xs));
    return out;
  }
}

export const ACTIONS = ["read", "write", "delete", "node.restart"];
export const TYPES = ["node", "bucket", "job"];
const ROLES = ["admin", "ops", "dev", "auditor"];
const ENVS = ["prod", "dev", "staging"];
const NOON = Date.parse("2026-01-01T12:00:00Z");

const STRING_ATTRS = ["principal.id", "principal.dept", "resource.env", "resource.owner", "context.ip", "resource.type", "action"];
const NUMBER_ATTRS = ["principal.clearance", "resource.size", "context.score"];
const LIST_ATTRS = ["principal.roles", "resource.tags"];
const ANY_ATTRS = [...STRING_ATTRS, ...NUMBER_ATTRS, ...LIST_ATTRS, "context.device.compliant", "principal.missing", "context.mfa.verified_at", 'resource["x-y"]'];

function str(g: Gen): string {
  return JSON.stringify(g.pick([...ACTIONS, ...TYPES, ...ROLES, ...ENVS, "u1", "u2", "10.1.2.3", "x"]));
}

function literal(g: Gen): string {
  switch (g.int(8)) {
    case 0:
    case 1:
      return str(g);
    case 2:
      return String(g.int(5));
    case 3:
      return g.pick(["true", "false"]);
    case 4:
      return g.pick(["15m", "1h", "0s"]);
    case 5:
      return `[${g.some(ROLES, 2).map((r) => JSON.stringify(r)).join(", ")}]`;
    case 6:
      return g.pick(['"2026-01-01T11:00:00Z"', '"2025-12-01T00:00:00Z"', "-1"]);
    default:
      return g.pick(["roles_c", "acts_c", "lim_c"]);
  }
}

function value(g: Gen, depth: number): string {
  switch (g.int(depth > 1 ? 6 : 9)) {
    case 0:
    case 1:
    case 2:
      return g.pick(ANY_ATTRS);
    case 3:
      return literal(g);
    case 4:
      return `(${g.pick(ANY_ATTRS)} ?? ${literal(g)})`;
    case 5:
      return `${g.pick(["size", "lower", "upper", "age", "hour", "risk", "ip"])}(${g.pick(ANY_ATTRS)})`;
    case 6:
      return `${g.pick(NUMBER_ATTRS)} ${g.pick(["+", "-", "*", "/"])} ${g.pick([...NUMBER_ATTRS, "0", "2"])}`;
    case 7:
      return "now";
    default:
      return `age(${g.pick(["context.mfa.verified_at", "resource.created", "principal.id"])})`;
  }
}

/** A boolean-ish expression (sometimes not boolean at all). */
export function condition(g: Gen, depth = 0): string {
  // Well-typed tests over attributes that are usually present: the rules
  // that decide most requests in real policies.
  if (g.chance(0.5)) {
    return g.pick([
      `principal.roles contains ${JSON.stringify(g.pick(ROLES))}`,
      `principal.roles contains_any roles_c`,
      `resource.env == ${JSON.stringify(g.pick(ENVS))}`,
      `resource.env in [${g.some(ENVS, 2).map((e) => JSON.stringify(e)).join(", ")}]`,
      `principal.clearance >= ${g.int(5)}`,
      `(context.device.compliant ?? false) == true`,
      `context has mfa`,
      `resource.owner == principal.id`,
      `principal.id in ["u1", "admin"]`,
    ]);
  }
  const k = g.int(depth > 1 ? 14 : 18);
  switch (k) {
    case 0:
      return `action == ${JSON.stringify(g.pick([...ACTIONS, "other"]))}`;
    case 1:
      return `action in [${g.some([...ACTIONS, "other"], 3).map((a) => JSON.stringify(a)).join(", ")}]`;
    case 2:
      return `resource.type == ${JSON.stringify(g.pick([...TYPES, "other"]))}`;
    case 3:
      return `resource.type in [${g.some(TYPES, 2).map((a) => JSON.stringify(a)).join(", ")}]`;
    case 4:
      return `${value(g, depth)} ${g.pick(["==", "!="])} ${value(g, depth)}`;
    case 5:
      return `${value(g, depth)} ${g.pick(["<", "<=", ">", ">="])} ${value(g, depth)}`;
    case 6:
      return `${value(g, depth)} in ${g.pick([literal(g), "roles_c", "acts_c", 'ip("10.0.0.0/8")', '[ip("10.0.0.0/8"), ip("192.168.0.0/16")]', g.pick(LIST_ATTRS)])}`;
    case 7:
      return `${g.pick(LIST_ATTRS)} ${g.pick(["contains", "contains_any", "contains_all"])} ${g.chance(0.5) ? str(g) : literal(g)}`;
    case 8:
      return `${g.pick(STRING_ATTRS)} ${g.pick(["like", "starts_with", "ends_with"])} ${g.pick(['"adm*"', '"node*"', '"*"', '"u\\\\*"', '"d"', "principal.id"])}`;
    case 9:
      return `${g.pick(["principal", "resource", "context", "context.mfa", "principal.roles", "principal.missing"])} has ${g.pick(["roles", "clearance", "missing", "mfa", "device", "verified_at", '"x-y"'])}`;
    case 10:
      return `(${g.pick(ANY_ATTRS)} ?? ${literal(g)}) ${g.pick(["==", "<"])} ${literal(g)}`;
    case 11:
      return g.pick(["true", "false", "principal.clearance", "context.device.compliant", "context.device.compliant ?? false"]);
    case 12:
      return `age(context.mfa.verified_at) <= ${g.pick(["15m", "1h", "30s"])}`;
    case 13:
      return `risk(principal.id) > ${g.int(80)}`;
    case 14:
      return `not ${condition(g, depth + 1)}`;
    case 15:
      return `(${condition(g, depth + 1)} and ${condition(g, depth + 1)})`;
    case 16:
      return `(${condition(g, depth + 1)} or ${condition(g, depth + 1)})`;
    default:
      return `${condition(g, depth + 1)} and ${condition(g, depth + 1)}`;
  }
}

function indexTest(g: Gen): string {
  return condition(g, 99).startsWith("action") || condition(g, 99).startsWith("resource.type")
    ? condition(g, 99)
    : g.pick([
        `action == ${JSON.stringify(g.pick(ACTIONS))}`,
        `action in [${g.some(ACTIONS, 2).map((a) => JSON.stringify(a)).join(", ")}]`,
        `resource.type == ${JSON.stringify(g.pick(TYPES))}`,
        `(action == ${JSON.stringify(g.pick(ACTIONS))} or action == ${JSON.stringify(g.pick(ACTIONS))})`,
        `action in acts_c`,
      ]);
}

/** A test on principal.roles of the forms the role index reads. */
function roleTest(g: Gen): string {
  return g.pick([
    `principal.roles contains ${JSON.stringify(g.pick(ROLES))}`,
    "principal.roles contains_any roles_c",
    `principal.roles contains_any [${g.some(ROLES, 2).map((r) => JSON.stringify(r)).join(", ")}]`,
    `${JSON.stringify(g.pick(ROLES))} in principal.roles`,
    `(principal.roles contains ${JSON.stringify(g.pick(ROLES))} or principal.roles contains ${JSON.stringify(g.pick(ROLES))})`,
    "principal.roles contains 3",
    'principal["roles"] contains "ops"',
  ]);
}

export function randomPolicy(g: Gen): string {
  const lines: string[] = [
    "package p",
    'const roles_c = ["admin", "ops"]',
    'const acts_c = ["read", "write"]',
    "const lim_c = 2 * 15m",
  ];
  const n = 1 + g.int(6);
  for (let i = 0; i < n; i++) {
    const effect = g.chance(0.65) ? "allow" : "deny";
    const clauses: string[] = [];
    if (g.chance(0.2)) clauses.push('tags ["T:1"]');
    if (g.chance(0.65)) {
      // Leading literal tests: what the index keys on, then maybe a role test.
      const tests = g.some([0, 1], 2).map(() => indexTest(g));
      if (g.chance(0.5)) tests.push(roleTest(g));
      if (g.chance(0.1)) tests.unshift(roleTest(g));
      clauses.push(`when ${tests.join(" and ")}`);
    } else if (g.chance(0.2)) {
      clauses.push(`when ${roleTest(g)}`);
    }
    const rest: string[] = [];
    const whens = g.int(3);
    for (let j = 0; j < whens; j++) rest.push(`when ${condition(g)}`);
    const unlesses = g.int(2);
    for (let j = 0; j < unlesses; j++) rest.push(`unless ${condition(g)}`);
    if (effect === "allow") {
      const reqs = g.int(3);
      for (let j = 0; j < reqs; j++) rest.push(`require ${condition(g)}${g.chance(0.5) ? ` else "need ${j}"` : ""}`);
      if (g.chance(0.35)) rest.push(g.chance(0.8) ? `require mfa within ${g.pick(["15m", "1h", "5m"])}` : "require mfa");
    }
    // Mostly keep when/unless before requires; sometimes shuffle everything.
    if (g.chance(0.3)) rest.sort(() => g.rand() - 0.5);
    clauses.push(...rest);
    lines.push(`${effect} "r${i}" {`, ...clauses.map((c) => `  ${c}`), "}");
  }
  return `${lines.join("\n")}\n`;
}

function maybe<T>(g: Gen, p: number, v: () => T): T | undefined {
  return g.chance(p) ? v() : undefined;
}

function anyValue(g: Gen): unknown {
  return g.pick<() => unknown>([
    () => g.pick(ROLES),
    () => g.int(5),
    () => null,
    () => true,
    () => [g.pick(ROLES)],
    () => ({ k: 1 }),
  ])();
}

function strip<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

export function randomInput(g: Gen): Record<string, unknown> {
  const principal = strip({
    id: maybe(g, 0.9, () => (g.chance(0.9) ? g.pick(["u1", "u2", "admin"]) : anyValue(g))),
    roles: maybe(g, 0.9, () => (g.chance(0.85) ? g.some(ROLES, 3) : g.chance(0.5) ? [g.pick(ROLES), anyValue(g)] : anyValue(g))),
    clearance: maybe(g, 0.85, () => (g.chance(0.9) ? g.int(5) : anyValue(g))),
    dept: maybe(g, 0.5, () => g.pick(["security", "ops", "Admin"])),
  });
  const resource = strip({
    type: maybe(g, 0.9, () => (g.chance(0.9) ? g.pick([...TYPES, "other"]) : anyValue(g))),
    env: maybe(g, 0.9, () => g.pick(ENVS)),
    owner: maybe(g, 0.5, () => g.pick(["u1", "u2"])),
    size: maybe(g, 0.5, () => (g.chance(0.8) ? g.int(10) : "big")),
    tags: maybe(g, 0.4, () => g.some(ROLES, 2)),
    created: maybe(g, 0.4, () => g.pick(["2026-01-01T00:00:00Z", "yesterday", 1767225600])),
    "x-y": maybe(g, 0.3, () => g.int(3)),
  });
  const mfaAt = g.pick<unknown>([
    new Date(NOON - g.int(90) * 60_000).toISOString(),
    (NOON - g.int(90) * 60_000) / 1000,
    "not a time",
    null,
  ]);
  const context = maybe(g, 0.85, () =>
    strip({
      mfa: maybe(g, 0.7, () => (g.chance(0.95) ? strip({ verified_at: maybe(g, 0.9, () => mfaAt) }) : "yes")),
      device: maybe(g, 0.7, () => (g.chance(0.9) ? strip({ compliant: maybe(g, 0.85, () => (g.chance(0.9) ? g.chance(0.6) : "yes")) }) : null)),
      ip: maybe(g, 0.6, () => g.pick(["10.1.2.3", "192.168.1.1", "8.8.8.8", "::ffff:10.0.0.1", "garbage"])),
      score: maybe(g, 0.5, () => (g.chance(0.7) ? g.int(100) : "high")),
    }),
  );
  const input: Record<string, unknown> = strip({
    principal: g.chance(0.98) ? principal : "nobody",
    action: g.chance(0.95) ? g.pick([...ACTIONS, "other"]) : g.pick<unknown>([3, null, ["read"]]),
    resource,
    context,
    time: g.pick<unknown>(["2026-01-01T12:00:00Z", NOON / 1000, undefined, "2026-01-01T12:30:00+00:30"]),
  });
  if (g.chance(0.01)) delete input["action"];
  return input;
}
