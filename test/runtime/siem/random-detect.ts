/**
 * Random detect rules and event streams over a small vocabulary, for the
 * index differential test: every form the index recognises (==, in,
 * contains, contains_any, `k in P`, `or` chains, consts, `["x"]` steps),
 * forms it must not (`!=`, `not`, `??`, mixed-path `or`, risk()), and
 * events that make those tests true, false, missing, a type error (a string
 * where an object is expected, a list where a primitive is), null, or a
 * number where a string is. Not a test file itself.
 */
import { Gen } from "../../evaluator/random-policy.js";

export { Gen };
export { prng } from "../../support/prng.js";

const CATS = ["auth", "net", "proc"];
const ACTIONS = ["login", "logout", "connect"];
const ROLES = ["admin", "ops"];
const USERS = ["u1", "u2", "u3"];

const q = (s: string) => JSON.stringify(s);

/** One conjunct, indexable or not. */
function conjunct(g: Gen): string {
  switch (g.int(23)) {
    case 0:
    case 1:
      return `event.category == ${q(g.pick(CATS))}`;
    case 2:
      return `${q(g.pick(CATS))} == event.category`;
    case 3:
      return `event.category in [${g.some(CATS, 2).map(q).join(", ")}]`;
    case 4:
    case 5:
      return `event.action == ${q(g.pick(ACTIONS))}`;
    case 6:
      return `event["action"] in [${g.some(ACTIONS, 2).map(q).join(", ")}]`;
    case 7:
      return `event.code == ${g.pick(["1", '"1"', "2"])}`;
    case 8:
      return `event.code in [1, 2, "3"]`;
    case 9:
      return `user.roles contains ${q(g.pick(ROLES))}`;
    case 10:
      return `${q(g.pick(ROLES))} in user.roles`;
    case 11:
      return `user.roles contains_any [${g.some(ROLES, 2).map(q).join(", ")}]`;
    case 12:
      return `(event.category == ${q(g.pick(CATS))} or event.category == ${q(g.pick(CATS))})`;
    case 13:
      return `(user.roles contains ${q(g.pick(ROLES))} or user.roles == ${q(g.pick(ROLES))})`;
    case 14:
      return `(user.roles == ${q(g.pick(ROLES))} or user.roles contains ${q(g.pick(ROLES))})`;
    case 15:
      return `event.category == cat_c`;
    case 16:
      return `event.flag == ${g.pick(["true", "false"])}`;
    // Not indexable: they must end the chain.
    case 17:
      return `event.outcome != "failure"`;
    case 18:
      return `not (event.action == ${q(g.pick(ACTIONS))})`;
    case 19:
      return `(event.outcome ?? "none") == "success"`;
    case 20:
      return `risk(user.name) >= 20`;
    // A bare field: a boolean, or a value of another type (not true, an error inside `and`).
    case 21:
      return `event.flag`;
    default:
      return `(event.action == ${q(g.pick(ACTIONS))} or user.roles contains "admin")`;
  }
}

function condition(g: Gen): string {
  return Array.from({ length: 1 + g.int(3) }, () => conjunct(g)).join(" and ");
}

function rule(g: Gen, i: number): string {
  const lines: string[] = [`detect "r${i}" {`];
  const kind = g.int(5);
  const where = () => {
    lines.push(`  where ${condition(g)}`);
    if (g.chance(0.2)) lines.push(`  where ${condition(g)}`);
  };
  if (kind === 0) where();
  else if (kind === 1 || kind === 2) {
    where();
    lines.push(`  by user.name within ${g.pick(["1s", "5s"])}`);
    lines.push(kind === 1 ? `  having count ${g.pick([">=", ">", "=="])} ${1 + g.int(3)}` : `  having distinct event.action >= ${1 + g.int(2)}`);
  } else {
    if (g.chance(0.3)) where();
    lines.push(`  by user.name within 5s`);
    lines.push(`  ${g.chance(0.7) ? "sequence" : "all"} {`);
    const steps = 1 + g.int(3);
    for (let s = 0; s < steps; s++) lines.push(`    s${s}: ${condition(g)}${g.chance(0.3) ? ` count ${g.pick([">=", ">", "==", "!=", "<", "<="])} ${1 + g.int(2)}` : ""}`);
    lines.push("  }");
  }
  if (g.chance(0.3)) lines.push(`  then risk user.name + ${g.pick([10, 20, 40])} for ${g.pick(["2s", "10s"])}`);
  lines.push("}");
  return lines.join("\n");
}

export function randomRules(g: Gen, n: number): string {
  return [`const cat_c = ${q(g.pick(CATS))}`, ...Array.from({ length: n }, (_, i) => rule(g, i))].join("\n");
}

/** A value for a path: usually a sensible one, sometimes the wrong type, null, or absent (undefined). */
function value(g: Gen, sensible: () => unknown): unknown {
  switch (g.int(12)) {
    case 0:
      return undefined;
    case 1:
      return null;
    case 2:
      return [sensible(), sensible()];
    case 3:
      return { x: 1 };
    case 4:
      return 1;
    default:
      return sensible();
  }
}

function set(o: Record<string, unknown>, k: string, v: unknown): void {
  if (v !== undefined) o[k] = v;
}

export function randomEvent(g: Gen, t: number): unknown {
  const ev: Record<string, unknown> = { "@timestamp": new Date(t).toISOString() };
  if (g.chance(0.05)) ev.event = g.pick(["a string", 7, ["auth"]]);
  else if (!g.chance(0.05)) {
    const e: Record<string, unknown> = {};
    set(e, "category", value(g, () => g.pick(CATS)));
    set(e, "action", value(g, () => g.pick(ACTIONS)));
    set(e, "code", value(g, () => g.pick([1, 2, "1", "3"])));
    set(e, "outcome", value(g, () => g.pick(["success", "failure"])));
    set(e, "flag", value(g, () => g.chance(0.5)));
    ev.event = e;
  }
  if (!g.chance(0.05)) {
    const u: Record<string, unknown> = {};
    set(u, "name", g.chance(0.95) ? g.pick(USERS) : value(g, () => g.pick(USERS)));
    const roles = g.int(6);
    if (roles < 3) u.roles = g.some(ROLES, 2);
    else if (roles === 3) u.roles = g.pick(ROLES);
    else if (roles === 4) u.roles = [];
    ev.user = u;
  }
  return ev;
}
