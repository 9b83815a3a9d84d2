/**
 * Random access policies and requests for the spec differential: expression
 * trees (spec-reference.ts `Node`) printed as policy text with randomly
 * minimal or extra parentheses, so the parser's precedence is under test
 * too, and requests written as JSON text (big numbers, `1e400`, `-0`, deep
 * paths, nulls, wrong types, empty and long lists, times at the edges of
 * risk and quarantine expiries), parsed with JSON.parse as a server would.
 */
import type { Clause, Node, RefPolicy, RefRule, RefStore } from "./spec-reference.js";

export class Rand {
  constructor(readonly next: () => number) {}
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

/** 2026-01-01T12:00:00Z: the engines' clock is NOON + 5 minutes. */
export const NOON = Date.parse("2026-01-01T12:00:00Z");
export const CLOCK = NOON + 5 * 60_000;

/** What risk() and quarantined() read, for both sides. Expiries sit on the request times below. */
export const STORE: RefStore = {
  raises: [
    { id: "u1", amount: 60, until: NOON + 3600_000 },
    { id: "admin", amount: 90, until: Infinity },
    { id: "u2", amount: 30, until: Infinity },
    { id: "u2", amount: 50, until: NOON + 30 * 60_000 },
    { id: "mallory", amount: 100, until: Infinity },
  ],
  quarantines: [
    { id: "ops-bot", until: NOON + 30 * 60_000 },
    { id: "mallory", until: Infinity },
  ],
};

// ---------------------------------------------------------------- vocabulary

export type Ty = "bool" | "str" | "num" | "list" | "time" | "dur" | "ip" | "obj";
const TYPES: Ty[] = ["bool", "str", "num", "list", "time", "dur", "ip", "obj"];

/** Attribute paths by the type they usually hold, string literals and `has` names: what the expressions of one kind of block read. */
export interface Vocab {
  attrs: Record<Exclude<Ty, "dur" | "ip">, string[]>;
  strs: string[];
  hasNames: string[];
}

const ATTRS: Vocab["attrs"] = {
  str: ["principal.id", "principal.dept", "resource.env", "resource.owner", "resource.type", "action", "context.ip", 'resource["x-y"]', "principal.profile.name.first", "principal.roles[0]", "resource.default", "context.geo.country"],
  num: ["principal.clearance", "resource.size", "context.score", "principal.profile.level", "resource.labels[1]"],
  list: ["principal.roles", "resource.tags", "principal.groups", "resource.labels"],
  bool: ["context.device.compliant", "principal.active"],
  time: ["context.mfa.verified_at", "resource.created", "principal.since"],
  obj: ["context", "context.device", "principal.profile", "context.geo", "resource", "principal.profile.name", "context.mfa"],
};
const HAS_NAMES = ["roles", "mfa", "device", "compliant", "verified_at", "level", "name", "x-y", "missing", "geo", "constructor", "__proto__"];

const ROLES = ["admin", "ops", "dev", "auditor", "sre"];
const STRS = [...ROLES, "prod", "staging", "read", "write", "delete", "node.restart", "node", "bucket", "job", "u1", "u2", "ADMIN", "Admin", "admin ", "é", "😀", "a*b", "a\\*b", "", "10.1.2.3", "x", "FR", "monday", "sunday"];
const GLOBS = ["adm*", "*", "node*", "*.restart", "u\\*", "a\\*b", "*a*b*", "", "ad*in", "*😀", "**", "*min", "a\\\\*", "d*v"];
const NUMS = [0, 1, 2, 3, 5, 10, 0.5, 3.25, 100, 9007199254740991, 0.1];
const DURS: { ms: number; raw: string }[] = [
  { ms: 15 * 60_000, raw: "15m" },
  { ms: 3600_000, raw: "1h" },
  { ms: 0, raw: "0s" },
  { ms: 500, raw: "500ms" },
  { ms: 5400_000, raw: "1h30m" },
  { ms: 90 * 86_400_000, raw: "90d" },
  { ms: 14 * 86_400_000, raw: "2w" },
  { ms: 30_000, raw: "30s" },
  { ms: 5 * 60_000, raw: "5m" },
];
const TIMES = ["2026-01-01T11:00:00Z", "2026-01-01T12:05:00Z", "2026-01-01T12:05:00.000+00:00", "2025-12-31T23:59:60Z", "2026-01-01T13:00:00+01:00", "2026-01-01t12:00:00z", "2026-01-01 11:59:59.999Z", "2000-02-29T00:00:00Z"];
const NETS = ["10.0.0.0/8", "192.168.0.0/16", "fd00::/8", "::ffff:10.0.0.0/104", "0.0.0.0/0", "10.1.2.3", "2001:db8::/32", "::/0"];
const OBJ_KEYS = ["tier", "x-y", "limit", "absent", "__proto__", "constructor"];
const DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/** What access rules read. */
export const ACCESS_VOCAB: Vocab = { attrs: ATTRS, strs: STRS, hasNames: HAS_NAMES };

/** `a.b["x"][0]` as a tree. */
export function pathNode(text: string): Node {
  const m = /^[A-Za-z_]\w*/.exec(text)!;
  let n: Node = { k: "root", name: m[0] };
  const rest = /\.(\w+)|\["([^"]*)"\]|\[(\d+)\]/g;
  rest.lastIndex = m[0].length;
  for (let s = rest.exec(text); s !== null; s = rest.exec(text)) {
    if (s[1] !== undefined) n = { k: "member", obj: n, name: s[1] };
    else if (s[2] !== undefined) n = { k: "index", obj: n, index: { k: "str", v: s[2] } };
    else n = { k: "index", obj: n, index: { k: "num", v: Number(s[3]) } };
  }
  return n;
}

const str = (v: string): Node => ({ k: "str", v });
const num = (v: number): Node => ({ k: "num", v });
const bin = (op: string, l: Node, r: Node): Node => ({ k: "bin", op, l, r });
const call = (fn: string, arg: Node): Node => ({ k: "call", fn, arg });

// ---------------------------------------------------------------- expressions

export class ExprGen {
  /** Consts declared so far, by type. */
  readonly consts: { name: string; ty: Ty; node: Node }[] = [];
  constructor(
    readonly g: Rand,
    readonly vocab: Vocab = ACCESS_VOCAB,
  ) {}

  private constOf(ty: Ty): Node | null {
    const cs = this.consts.filter((c) => c.ty === ty);
    return cs.length === 0 ? null : { k: "const", name: this.g.pick(cs).name };
  }

  /** A value of type `ty` (sometimes deliberately of another); `pure`: no input, clock or store (a const). */
  expr(ty: Ty, depth: number, pure = false): Node {
    const g = this.g;
    // A value of another type: an attribute, whose type the checker cannot know (a literal would be SP2012).
    if (!pure && depth > 0 && g.chance(0.07)) return pathNode(g.pick(Object.values(this.vocab.attrs).flat()));
    if (g.chance(0.01) && depth > 0) ty = g.pick(TYPES);
    const leaf = depth >= 3;
    const attr = (t: keyof Vocab["attrs"]): Node => (pure ? this.literal(t === "obj" ? "list" : t) : pathNode(g.pick(this.vocab.attrs[t])));
    if (g.chance(0.12)) {
      const c = this.constOf(ty);
      if (c !== null) return c;
    }
    // A const object read by key, or an input list or object read at a computed position.
    if (!pure && depth > 0 && (ty === "str" || ty === "num") && g.chance(0.08)) {
      const o = this.constOf("obj");
      if (o !== null && g.chance(0.5)) {
        const key = g.pick(OBJ_KEYS);
        return g.chance(0.5) && /^[A-Za-z_]\w*$/.test(key) ? { k: "member", obj: o, name: key } : { k: "index", obj: o, index: g.chance(0.5) ? str(key) : this.expr("str", depth + 1) };
      }
      return g.chance(0.5) ? { k: "index", obj: attr("list"), index: this.expr("num", depth + 1) } : { k: "index", obj: attr("obj"), index: this.expr("str", depth + 1) };
    }
    switch (ty) {
      case "bool":
        return leaf ? (pure ? this.literal("bool") : g.chance(0.5) ? attr("bool") : this.literal("bool")) : this.condition(depth, pure);
      case "str":
        switch (leaf ? g.int(2) : g.int(9)) {
          case 0:
            return attr("str");
          case 1:
            return this.literal("str");
          case 2:
            return call(g.pick(["lower", "upper"]), this.expr("str", depth + 1, pure));
          case 3:
            return bin("+", this.expr("str", depth + 1, pure), this.expr("str", depth + 1, pure));
          case 4:
            return bin("??", this.expr("str", depth + 1, pure), this.literal("str"));
          case 5:
            return call("weekday", this.expr("time", depth + 1, pure));
          case 6:
            return call("type", this.expr(g.pick(TYPES), depth + 1, pure));
          default:
            return attr("str");
        }
      case "num":
        switch (leaf ? g.int(2) : g.int(10)) {
          case 0:
            return attr("num");
          case 1:
            return this.literal("num");
          case 2:
          case 3:
            return bin(g.pick(["+", "-", "*", "/"]), this.expr("num", depth + 1, pure), this.expr("num", depth + 1, pure));
          case 4:
            return { k: "neg", e: this.expr("num", depth + 1, pure) };
          case 5:
            return call("size", this.expr(g.pick(["list", "str", "obj"] as Ty[]), depth + 1, pure));
          case 6:
            return pure ? this.literal("num") : call("risk", this.expr("str", depth + 1));
          case 7:
            return call("hour", this.expr("time", depth + 1, pure));
          case 8:
            return bin("??", this.expr("num", depth + 1, pure), this.literal("num"));
          default:
            return attr("num");
        }
      case "list":
        switch (leaf ? g.int(2) : g.int(4)) {
          case 0:
            return attr("list");
          case 1:
            return this.literal("list");
          case 2:
            return bin("??", attr("list"), { k: "list", items: [] });
          default:
            return { k: "list", items: Array.from({ length: g.int(4) }, () => this.expr(g.pick(["str", "num"] as Ty[]), depth + 1, pure)) };
        }
      case "time":
        switch (leaf ? g.int(3) : g.int(6)) {
          case 0:
            return attr("time");
          case 1:
            return str(g.pick(TIMES));
          case 2:
            return pure ? num(g.pick([1767268800, 1767225600])) : { k: "now" };
          case 3:
            return pure ? str(g.pick(TIMES)) : bin(g.pick(["-", "+"]), { k: "now" }, this.expr("dur", depth + 1));
          case 4:
            return num(g.pick([1767268800, 1767225600, 1767269100]));
          default:
            return attr("time");
        }
      case "dur":
        switch (leaf ? 0 : g.int(6)) {
          case 0:
          case 1:
            return this.literal("dur");
          case 2:
            return pure ? this.literal("dur") : call("age", this.expr("time", depth + 1));
          case 3:
            return bin(g.pick(["+", "-"]), this.expr("dur", depth + 1, pure), this.expr("dur", depth + 1, pure));
          case 4:
            return g.chance(0.5) ? bin("*", this.expr("dur", depth + 1, pure), this.expr("num", depth + 1, pure)) : bin("/", this.expr("dur", depth + 1, pure), this.expr("num", depth + 1, pure));
          default:
            return pure ? { k: "neg", e: this.literal("dur") } : bin("-", { k: "now" }, { k: "now" });
        }
      case "ip":
        return g.chance(0.5) || pure ? call("ip", str(g.pick(NETS))) : call("ip", attr("str"));
      case "obj":
        return pure ? this.literal("list") : attr("obj");
    }
  }

  literal(ty: Ty): Node {
    const g = this.g;
    switch (ty) {
      case "bool":
        return { k: "bool", v: g.chance(0.5) };
      case "str":
        return str(g.pick(this.vocab.strs));
      case "num":
        return num(g.pick(NUMS));
      case "dur": {
        const d = g.pick(DURS);
        return { k: "dur", ...d };
      }
      case "time":
        return str(g.pick(TIMES));
      case "ip":
        return call("ip", str(g.pick(NETS)));
      default: {
        const n = g.int(4);
        return { k: "list", items: Array.from({ length: n }, () => (g.chance(0.8) ? str(g.pick(ROLES)) : this.literal(g.pick(["num", "bool", "str"] as Ty[])))) };
      }
    }
  }

  condition(depth: number, pure = false): Node {
    const g = this.g;
    const d = depth + 1;
    const e = (t: Ty) => this.expr(t, d, pure);
    switch (g.int(17)) {
      case 0: {
        const t = g.pick(TYPES);
        return bin(g.pick(["==", "!="]), e(t), g.chance(0.8) ? e(t) : e(g.pick(TYPES)));
      }
      case 1: {
        const t = g.pick(["num", "dur", "time"] as Ty[]);
        return bin(g.pick(["<", "<=", ">", ">="]), e(t), e(t));
      }
      case 2:
        return bin("in", e(g.pick(["str", "num"] as Ty[])), g.chance(0.7) ? { k: "list", items: Array.from({ length: g.int(5) }, () => this.literal(g.pick(["str", "str", "num"] as Ty[]))) } : e("list"));
      case 3: {
        const nets = this.constOf("list");
        const right = g.pick<() => Node>([
          () => call("ip", str(g.pick(NETS))),
          () => ({ k: "list", items: [call("ip", str(g.pick(NETS))), call("ip", str(g.pick(NETS)))] }),
          () => ({ k: "list", items: [call("ip", str(g.pick(NETS))), str(g.pick(this.vocab.strs))] }),
          () => nets ?? call("ip", str("10.0.0.0/8")),
        ])();
        return bin("in", g.chance(0.7) ? e("str") : e("ip"), right);
      }
      case 4:
        return bin("contains", e("list"), e(g.pick(["str", "str", "num"] as Ty[])));
      case 5:
        return bin(g.pick(["contains_any", "contains_all"]), e("list"), e("list"));
      case 6:
        return bin(g.pick(["like", "like", "starts_with", "ends_with"]), e("str"), g.chance(0.8) ? str(g.pick(GLOBS)) : e("str"));
      case 7:
        return { k: "has", obj: e("obj"), name: g.pick(this.vocab.hasNames) };
      case 8:
        return { k: "not", e: e("bool") };
      case 9:
      case 10:
        return bin(g.pick(["and", "or"]), e("bool"), e("bool"));
      case 11:
        return g.chance(0.5) ? e("bool") : bin("??", e("bool"), this.literal("bool"));
      case 12:
        if (pure) return bin("==", e("num"), e("num"));
        return g.chance(0.5) ? bin(g.pick([">=", ">", "<"]), call("risk", e("str")), num(g.pick([0, 50, 60, 80, 90, 100]))) : call("quarantined", e("str"));
      case 13:
        return g.chance(0.5) ? bin(g.pick(["<", ">="]), call("hour", e("time")), num(g.int(24))) : bin("in", call("weekday", e("time")), { k: "list", items: [str(g.pick(DAYS)), str(g.pick(DAYS))] });
      case 14:
        return bin("==", call("type", e(g.pick(TYPES))), str(g.pick(["string", "number", "null", "list", "object", "boolean", "time", "duration"])));
      case 15:
        return bin("in", e("str"), e("list"));
      default:
        return this.literal("bool");
    }
  }
}

// ---------------------------------------------------------------- printing

const PREC: Record<string, number> = { or: 1, and: 2, "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4, in: 4, contains: 4, contains_any: 4, contains_all: 4, like: 4, starts_with: 4, ends_with: 4, "??": 5, "+": 6, "-": 6, "*": 7, "/": 7 };

function precOf(n: Node): number {
  switch (n.k) {
    case "bin":
      return PREC[n.op]!;
    case "not":
      return 3;
    case "has":
      return 4;
    case "neg":
      return 8;
    case "member":
    case "index":
    case "call":
      return 9;
    default:
      return 10;
  }
}

export class Printer {
  constructor(private readonly g: Rand) {}

  print(n: Node, min = 0): string {
    const p = precOf(n);
    const text = this.bare(n, p);
    return p < min || (p < 9 && this.g.chance(0.12)) ? `(${text})` : text;
  }

  private string(s: string): string {
    const q = JSON.stringify(s);
    // The spec's own spelling of a glob's literal star: "a\*b" is the string a\*b, as "a\\*b" is.
    return this.g.chance(0.5) ? q.replace(/\\\\\*/g, "\\*") : q;
  }

  private bare(n: Node, p: number): string {
    switch (n.k) {
      case "str":
        return this.string(n.v);
      case "num":
        return String(n.v);
      case "bool":
        return String(n.v);
      case "dur":
        return n.raw;
      case "list":
        return `[${n.items.map((i) => this.print(i)).join(", ")}]`;
      case "obj":
        return `{ ${n.entries.map(([k, v]) => `${/^[A-Za-z_]\w*$/.test(k) && this.g.chance(0.5) ? k : JSON.stringify(k)}: ${this.print(v)}`).join(", ")} }`;
      case "root":
      case "const":
        return n.name;
      case "now":
        return "now";
      case "member":
        return `${this.print(n.obj, 9)}.${n.name}`;
      case "index":
        return `${this.print(n.obj, 9)}[${this.print(n.index)}]`;
      case "has":
        return `${this.print(n.obj, 5)} has ${/^[A-Za-z_]\w*$/.test(n.name) && !["and", "or", "not", "in", "has", "true", "false"].includes(n.name) ? n.name : JSON.stringify(n.name)}`;
      case "call":
        return `${n.fn}(${this.print(n.arg)})`;
      case "not":
        return `not ${this.print(n.e, 3)}`;
      case "neg":
        return `-${this.print(n.e, 9)}`;
      case "bin": {
        if (p === 4) return `${this.print(n.l, 5)} ${n.op} ${this.print(n.r, 5)}`;
        return `${this.print(n.l, p)} ${n.op} ${this.print(n.r, p + 1)}`;
      }
    }
  }
}

// ---------------------------------------------------------------- policies

/** A clause before its line is known (Omit over each member of the union). */
type ClauseBody = Clause extends unknown ? (Clause extends infer C ? (C extends Clause ? Omit<C, "line"> : never) : never) : never;

export interface GeneratedPolicy {
  text: string;
  policy: RefPolicy;
}

function indexTest(g: Rand): Node {
  return g.pick<() => Node>([
    () => bin("==", pathNode("action"), str(g.pick(["read", "write", "delete", "node.restart"]))),
    () => bin("in", pathNode("action"), { k: "list", items: [str(g.pick(["read", "write"])), str(g.pick(["delete", "node.restart"]))] }),
    () => bin("==", pathNode("resource.type"), str(g.pick(["node", "bucket", "job"]))),
    () => bin("contains", pathNode("principal.roles"), str(g.pick(ROLES))),
    () => bin("in", str(g.pick(ROLES)), pathNode("principal.roles")),
    () => bin("contains_any", pathNode("principal.roles"), { k: "list", items: [str(g.pick(ROLES)), str(g.pick(ROLES))] }),
  ])();
}

/** Up to five consts of random types, declared on `lines` and known to `x`. */
export function declareConsts(g: Rand, x: ExprGen, pr: Printer, lines: string[], prefix = "c"): Map<string, Node> {
  const consts = new Map<string, Node>();
  const nConsts = g.int(6);
  for (let i = 0; i < nConsts; i++) {
    const ty = g.pick<Ty>(["list", "list", "num", "str", "dur", "bool", "ip", "time", "obj"]);
    let node: Node;
    if (ty === "obj") node = { k: "obj", entries: OBJ_KEYS.slice(0, 3 + g.int(3)).filter(() => g.chance(0.8)).map((k) => [k, x.literal(g.pick(["str", "num", "list"] as Ty[]))] as [string, Node]) };
    else if (ty === "list" && g.chance(0.3)) node = { k: "list", items: Array.from({ length: 12 + g.int(12) }, (_, j) => str(j % 3 === 0 ? g.pick(ROLES) : `g${g.int(40)}`)) };
    else if (ty === "list" && g.chance(0.3)) node = { k: "list", items: [call("ip", str(g.pick(NETS))), call("ip", str(g.pick(NETS)))] };
    else node = x.expr(ty, 1, true);
    const name = `${prefix}${i}`;
    consts.set(name, node);
    x.consts.push({ name, ty, node });
    lines.push(`const ${name} = ${pr.print(node)}`);
  }
  return consts;
}

export function randomPolicy(g: Rand): GeneratedPolicy {
  const x = new ExprGen(g);
  const pr = new Printer(g);
  const lines = ["package p"];
  const consts = declareConsts(g, x, pr, lines);
  const rules: RefRule[] = [];
  const n = 1 + g.int(6);
  for (let i = 0; i < n; i++) {
    const effect = g.chance(0.6) ? "allow" : "deny";
    const id = `p/r${i}`;
    lines.push(`${effect} "r${i}" {`);
    if (g.chance(0.2)) lines.push('  tags ["T:1"]');
    const pending: { text: string; clause: ClauseBody }[] = [];
    if (g.chance(0.6)) {
      let lead = indexTest(g);
      if (g.chance(0.5)) lead = bin("and", lead, indexTest(g));
      if (g.chance(0.3)) lead = bin("and", lead, x.condition(1));
      pending.push({ text: "when", clause: { k: "when", e: lead } });
    }
    const rest: { text: string; clause: ClauseBody }[] = [];
    for (let j = g.int(3); j > 0; j--) rest.push({ text: "when", clause: { k: "when", e: x.condition(0) } });
    for (let j = g.int(2); j > 0; j--) rest.push({ text: "unless", clause: { k: "unless", e: x.condition(0) } });
    if (effect === "allow") {
      for (let j = g.int(3); j > 0; j--) {
        const message = g.chance(0.5) ? `need ${j}` : null;
        rest.push({ text: "require", clause: { k: "require", e: x.condition(0), message } });
      }
      if (g.chance(0.4)) {
        const within = g.chance(0.8) ? g.pick(DURS.filter((d) => d.ms > 0)) : null;
        rest.push({ text: "mfa", clause: { k: "mfa", within } });
      }
    }
    if (g.chance(0.3)) rest.sort(() => g.next() - 0.5);
    const clauses: Clause[] = [];
    for (const c of [...pending, ...rest]) {
      const cl = c.clause;
      let line: string;
      if (cl.k === "mfa") line = cl.within === null ? "require mfa" : `require mfa within ${cl.within.raw}`;
      else if (cl.k === "require") line = `require ${pr.print(cl.e)}${cl.message !== null ? ` else ${JSON.stringify(cl.message)}` : ""}`;
      else line = `${cl.k} ${pr.print(cl.e)}`;
      lines.push(`  ${line}`);
      clauses.push({ ...cl, line: lines.length } as Clause);
    }
    lines.push("}");
    rules.push({ id, effect, clauses });
  }
  return { text: `${lines.join("\n")}\n`, policy: { consts, rules } };
}

// ---------------------------------------------------------------- requests

/** A number written as JSON text the way a client may send it; JSON.parse decides what it becomes. */
export class Raw {
  constructor(readonly text: string) {}
}
export const RAW_NUMBERS = ["1e400", "-1e400", "-0", "1e-400", "9007199254740993", "1E2", "0.30000000000000004", "1e308", "5e-324", "-1", "1767268800"];
export const WEIRD: unknown[] = ["", "ADMIN", "2026-01-01T12:00:00Z", "10.1.2.3/8", true, false, [], {}, [[]], [null], { k: 1 }, 0, ...RAW_NUMBERS.map((t) => new Raw(t))];
const IPS = ["10.1.2.3", "10.0.0.1", "192.168.1.1", "8.8.8.8", "::ffff:10.0.0.1", "::ffff:8.8.8.8", "fd00::1", "2001:db8::5", "010.1.2.3", "10.1.2", "256.1.1.1", "10.1.2.3/8", "garbage", "", "::1", "fe80::1%eth0", "::10.1.2.3", "FD00::A"];
const INPUT_TIMES = ["2026-01-01T12:00:00Z", "2026-01-01T13:00:00Z", "2026-01-01T12:59:59.999Z", "2026-01-01T12:30:00+00:30", "2026-01-01T12:30:00Z", "2026-01-01T12:29:59.999999Z", "2026-02-29T12:00:00Z", "yesterday", "2026-01-01T24:00:00Z"];
const MFA_TIMES = ["2026-01-01T11:50:00Z", "2026-01-01T11:00:00Z", "2026-01-01T12:04:00Z", "2026-01-01T11:45:00Z", "2026-01-01T12:10:00Z", "2026-01-01T11:50:00.000-00:00", "not a time", "2026-13-01T00:00:00Z"];

export function serialize(v: unknown): string {
  if (v instanceof Raw) return v.text;
  if (Array.isArray(v)) return `[${v.map(serialize).join(",")}]`;
  if (typeof v === "object" && v !== null) return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${serialize(x)}`).join(",")}}`;
  return JSON.stringify(v);
}

export function randomRequest(g: Rand): string {
  /** Usually `make()`, sometimes absent, null or a value of another type. */
  const field = (o: Record<string, unknown>, key: string, make: () => unknown, present = 0.8): void => {
    const r = g.next();
    if (r < present) o[key] = make();
    else if (r < present + (1 - present) * 0.4) return;
    else if (r < present + (1 - present) * 0.6) o[key] = null;
    else o[key] = g.pick(WEIRD);
  };
  const num = (): unknown => (g.chance(0.85) ? g.int(6) : g.pick(RAW_NUMBERS.map((t) => new Raw(t))));
  const time = (): unknown => (g.chance(0.7) ? g.pick(MFA_TIMES) : g.pick<unknown>([1767268800 - g.int(7200), new Raw("1e13"), -1, 1767269400]));
  const list = (): unknown[] => {
    if (g.chance(0.1)) return [];
    if (g.chance(0.1)) return Array.from({ length: 30 + g.int(20) }, (_, j) => (j % 7 === 0 ? g.pick(ROLES) : g.chance(0.9) ? `g${g.int(40)}` : g.pick(WEIRD)));
    return Array.from({ length: 1 + g.int(3) }, () => (g.chance(0.9) ? g.pick(ROLES) : g.pick(WEIRD)));
  };
  const principal: Record<string, unknown> = {};
  field(principal, "id", () => g.pick(["u1", "u2", "admin", "ops-bot", "mallory", "nobody"]), 0.9);
  field(principal, "roles", list, 0.9);
  field(principal, "clearance", num);
  field(principal, "dept", () => g.pick(["security", "ops", "Admin", "ADMIN"]), 0.5);
  field(principal, "active", () => g.chance(0.7), 0.6);
  field(principal, "since", time, 0.5);
  field(principal, "groups", list, 0.5);
  field(principal, "profile", () => {
    const p: Record<string, unknown> = {};
    field(p, "level", num);
    field(p, "name", () => {
      const n: Record<string, unknown> = {};
      field(n, "first", () => g.pick(["ada", "Ada", "ADMIN", "é"]));
      return n;
    });
    return p;
  }, 0.6);
  const resource: Record<string, unknown> = {};
  field(resource, "type", () => g.pick(["node", "bucket", "job", "other"]), 0.9);
  field(resource, "env", () => g.pick(["prod", "dev", "staging"]), 0.85);
  field(resource, "owner", () => g.pick(["u1", "u2", "admin"]), 0.5);
  field(resource, "size", num, 0.6);
  field(resource, "tags", list, 0.5);
  field(resource, "labels", () => (g.chance(0.5) ? [g.int(3), g.int(3)] : list()), 0.4);
  field(resource, "created", time, 0.5);
  field(resource, "x-y", () => g.pick(["a", "b"]), 0.3);
  field(resource, "default", () => g.pick(["adm", "node.restart", "x"]), 0.3);
  const context: Record<string, unknown> = {};
  field(context, "ip", () => g.pick(IPS), 0.7);
  field(context, "mfa", () => {
    const m: Record<string, unknown> = {};
    field(m, "verified_at", time, 0.85);
    return m;
  }, 0.7);
  field(context, "device", () => {
    const d: Record<string, unknown> = {};
    field(d, "compliant", () => g.chance(0.6), 0.85);
    return d;
  }, 0.7);
  field(context, "score", num, 0.5);
  field(context, "geo", () => ({ country: g.pick(["FR", "XX", "de"]) }), 0.4);
  const input: Record<string, unknown> = {};
  if (g.chance(0.02)) input["kind"] = g.pick(["access", "Access", 3]);
  field(input, "principal", () => principal, 0.98);
  field(input, "action", () => g.pick(["read", "write", "delete", "node.restart", "other"]), 0.97);
  field(input, "resource", () => resource, 0.98);
  field(input, "context", () => context, 0.95);
  const t = g.int(10);
  if (t < 4) input["time"] = g.pick(INPUT_TIMES.slice(0, 6));
  else if (t === 4) input["time"] = g.pick<unknown>([1767268800, 1767272400, new Raw("1e13"), new Raw("1e400"), null, INPUT_TIMES[6], INPUT_TIMES[7], INPUT_TIMES[8]]);
  return serialize(input);
}
