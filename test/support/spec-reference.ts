/**
 * A second, independent reading of spec/LANGUAGE.md sections 3 and 4 (and
 * the decisions docs/language.md records), for the spec differential
 * (test/evaluator/spec-differential.test.ts). Unlike src/evaluator/
 * reference.ts it shares nothing with the engine: not the parser (it walks
 * its own expression trees, which spec-policy-gen.ts prints as policy text),
 * not the RFC 3339, IP or glob readers, not equality, not the input checks.
 * It is written to be obviously right, not fast: plain recursion, BigInt for
 * addresses, every case spelled out.
 */

// ---------------------------------------------------------------- trees

/** An expression, as the generator builds it and the printer writes it. */
export type Node =
  | { k: "str"; v: string }
  | { k: "num"; v: number }
  | { k: "bool"; v: boolean }
  | { k: "dur"; ms: number; raw: string }
  | { k: "list"; items: Node[] }
  | { k: "obj"; entries: [string, Node][] }
  | { k: "root"; name: string }
  | { k: "const"; name: string }
  | { k: "now" }
  | { k: "member"; obj: Node; name: string }
  | { k: "index"; obj: Node; index: Node }
  | { k: "has"; obj: Node; name: string }
  | { k: "call"; fn: string; arg: Node }
  | { k: "not"; e: Node }
  | { k: "neg"; e: Node }
  | { k: "bin"; op: string; l: Node; r: Node };

export type Clause =
  | { k: "when" | "unless"; e: Node; line: number }
  | { k: "require"; e: Node; message: string | null; line: number }
  | { k: "mfa"; within: { ms: number; raw: string } | null; line: number };

export interface RefRule {
  id: string;
  effect: "allow" | "deny";
  clauses: Clause[];
}

export interface RefPolicy {
  consts: Map<string, Node>;
  rules: RefRule[];
}

// ---------------------------------------------------------------- values

export class RDur {
  constructor(readonly ms: number) {}
}
export class RTime {
  constructor(readonly ms: number) {}
}
export class RIp {
  /** `net`: the address with host bits cleared; IPv4 in the low 32 bits. */
  constructor(
    readonly v6: boolean,
    readonly net: bigint,
    readonly prefix: number,
  ) {}
}
/** An evaluation error; `missing` for an absent attribute (what `??` replaces). */
export class RErr {
  constructor(
    readonly why: string,
    readonly missing = false,
  ) {}
}

type V = unknown;

const MAX_MS = 8.64e15;

function isObj(v: V): v is Record<string, V> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof RDur) && !(v instanceof RTime) && !(v instanceof RIp);
}
function own(o: Record<string, V>, k: string): V {
  return Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined;
}

// ---------------------------------------------------------------- RFC 3339, epoch seconds

const RFC = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

function leap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** Days from 1970-01-01 to y-m-d (proleptic Gregorian), by counting. */
function daysFromEpoch(y: number, m: number, d: number): number {
  let days = 0;
  if (y >= 1970) for (let i = 1970; i < y; i++) days += leap(i) ? 366 : 365;
  else for (let i = y; i < 1970; i++) days -= leap(i) ? 366 : 365;
  const dim = [31, leap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  for (let i = 0; i < m - 1; i++) days += dim[i]!;
  return days + d - 1;
}

/** Epoch ms of an RFC 3339 string; NaN when it is not one (calendar checked, :60 counts as the next second). */
export function rfcMs(s: string): number {
  const m = RFC.exec(s);
  if (m === null) return NaN;
  const [y, mo, d, h, mi, se] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  const dim = [31, leap(y!) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > dim[mo! - 1]! || h! > 23 || mi! > 59 || se! > 60) return NaN;
  const frac = m[7] === undefined ? 0 : Number(m[7].slice(1).padEnd(3, "0").slice(0, 3));
  let off = 0;
  if (m[8] === undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return NaN;
    off = (oh * 60 + om) * 60_000 * (m[9] === "-" ? -1 : 1);
  }
  return daysFromEpoch(y!, mo!, d!) * 86_400_000 + ((h! * 60 + mi!) * 60 + se!) * 1000 + frac - off;
}

/** A time-like value as epoch ms: a time, an RFC 3339 string or epoch seconds (within a Date's range). */
export function instant(v: V): number {
  if (v instanceof RTime) return v.ms;
  if (typeof v === "string") return rfcMs(v);
  if (typeof v === "number" && Number.isFinite(v) && Math.abs(v * 1000) <= MAX_MS) return v * 1000;
  return NaN;
}

// ---------------------------------------------------------------- IP addresses

function v4Word(s: string): bigint | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  let w = 0n;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return null;
    w = (w << 8n) | BigInt(p);
  }
  return w;
}

function v6Word(s: string): bigint | null {
  let tail: bigint[] = [];
  let text = s;
  const lastColon = s.lastIndexOf(":");
  if (s.slice(lastColon + 1).includes(".")) {
    // A dotted IPv4 tail stands for the last two groups.
    const w = v4Word(s.slice(lastColon + 1));
    if (w === null) return null;
    tail = [w >> 16n, w & 0xffffn];
    text = s.slice(0, lastColon + 1);
    if (!text.endsWith("::")) text = text.slice(0, -1);
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (h: string): string[] => (h === "" ? [] : h.split(":"));
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  if (![...left, ...right].every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  const hex = (g: string) => BigInt(`0x${g}`);
  const l = left.map(hex);
  const r = [...right.map(hex), ...tail];
  let all: bigint[];
  if (halves.length === 2) {
    if (l.length + r.length > 7) return null;
    all = [...l, ...Array<bigint>(8 - l.length - r.length).fill(0n), ...r];
  } else {
    if (r.length + l.length !== 8) return null;
    all = [...l, ...r];
  }
  return all.reduce((acc, g) => (acc << 16n) | g, 0n);
}

/** `ip(s)`: an address or a range; IPv4-mapped IPv6 (/96 and longer) is the IPv4 one; host bits cleared. */
export function parseIpRef(s: string): RIp | null {
  const slash = s.split("/");
  if (slash.length > 2) return null;
  let prefix: number | null = null;
  if (slash.length === 2) {
    if (!/^(0|[1-9]\d{0,2})$/.test(slash[1]!)) return null;
    prefix = Number(slash[1]);
  }
  const addr = slash[0]!;
  let v6 = false;
  let w = v4Word(addr);
  if (w === null) {
    if (!addr.includes(":")) return null;
    w = v6Word(addr);
    v6 = true;
    if (w === null) return null;
  }
  const bits = v6 ? 128 : 32;
  let p = prefix ?? bits;
  if (p > bits) return null;
  if (v6 && w >> 32n === 0xffffn && p >= 96) {
    v6 = false;
    w &= 0xffffffffn;
    p -= 96;
  }
  const width = BigInt(v6 ? 128 : 32);
  const mask = p === 0 ? 0n : ((1n << BigInt(p)) - 1n) << (width - BigInt(p));
  return new RIp(v6, w & mask, p);
}

function ipContains(range: RIp, a: RIp): boolean {
  if (range.v6 !== a.v6 || a.prefix < range.prefix) return false;
  const width = BigInt(range.v6 ? 128 : 32);
  const shift = width - BigInt(range.prefix);
  return a.net >> shift === range.net >> shift;
}

// ---------------------------------------------------------------- equality, order

function finiteNum(v: V): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** `==`: same type and value, deeply; a time equals the same instant as text or epoch seconds. */
export function eq(a: V, b: V): boolean {
  if (a instanceof RTime || b instanceof RTime) {
    const [t, o] = a instanceof RTime ? [a, b] : [b as RTime, a];
    if (o instanceof RTime) return o.ms === t.ms;
    if (typeof o === "string" || typeof o === "number") return instant(o) === t.ms;
    return false;
  }
  if (a instanceof RDur || b instanceof RDur) return a instanceof RDur && b instanceof RDur && a.ms === b.ms;
  if (a instanceof RIp || b instanceof RIp) return a instanceof RIp && b instanceof RIp && a.v6 === b.v6 && a.prefix === b.prefix && a.net === b.net;
  if (typeof a === "number" || typeof b === "number") return finiteNum(a) && finiteNum(b) && a === b;
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => eq(x, b[i]));
  if (isObj(a) || isObj(b)) {
    if (!isObj(a) || !isObj(b)) return false;
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && eq(a[k], b[k]));
  }
  return a === b;
}

function order(a: V, b: V): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (a instanceof RDur && b instanceof RDur) return a.ms - b.ms;
  const timeLike = (x: V) => x instanceof RTime || typeof x === "string" || typeof x === "number";
  if ((a instanceof RTime || b instanceof RTime) && timeLike(a) && timeLike(b)) return instant(a) - instant(b);
  if (typeof a === "string" && typeof b === "string") return rfcMs(a) - rfcMs(b);
  return NaN;
}

// ---------------------------------------------------------------- glob

/** `like`: `*` any run, a backslash makes the next character literal; whole string; by backtracking-free DP. */
export function globRef(pattern: string, s: string): boolean {
  const toks: (string | null)[] = []; // null is a star
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\" && i + 1 < pattern.length) toks.push(pattern[++i]!);
    else toks.push(c === "*" ? null : c);
  }
  // can[j]: the first i characters of s match the first j tokens.
  let can = new Array<boolean>(toks.length + 1).fill(false);
  can[0] = true;
  for (let j = 1; j <= toks.length; j++) can[j] = can[j - 1]! && toks[j - 1] === null;
  for (let i = 1; i <= s.length; i++) {
    const next = new Array<boolean>(toks.length + 1).fill(false);
    for (let j = 1; j <= toks.length; j++) {
      const t = toks[j - 1];
      next[j] = t === null ? next[j - 1]! || can[j]! : can[j - 1]! && t === s[i - 1];
    }
    can = next;
  }
  return can[toks.length]!;
}

// ---------------------------------------------------------------- stores

/** Risk raises and quarantines, as the reference sees them: visible while now < until. */
export interface RefStore {
  raises: { id: string; amount: number; until: number }[];
  quarantines: { id: string; until: number }[];
}

// ---------------------------------------------------------------- expressions

export interface Env {
  /** The input, or null while folding consts. */
  input: Record<string, V> | null;
  /** Epoch ms of now; NaN when unavailable. */
  now: number;
  store: RefStore;
  consts: Map<string, Node>;
}

const BOOL_OPS = new Set(["and", "or"]);

export function evalNode(e: Node, env: Env, depth = 0): V | RErr {
  if (depth > 200) throw new Error("const cycle in a generated policy");
  const ev = (x: Node) => evalNode(x, env, depth + 1);
  switch (e.k) {
    case "str":
    case "num":
    case "bool":
      return e.v;
    case "dur":
      return new RDur(e.ms);
    case "list": {
      const out: V[] = [];
      for (const it of e.items) {
        const v = ev(it);
        if (v instanceof RErr) return v;
        out.push(v);
      }
      return out;
    }
    case "obj": {
      const out: Record<string, V> = {};
      for (const [key, it] of e.entries) {
        const v = ev(it);
        if (v instanceof RErr) return v;
        Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    case "root": {
      if (env.input === null) return new RErr("root in a const");
      const v = own(env.input, e.name);
      return v === undefined ? new RErr(`missing ${e.name}`, true) : v;
    }
    case "const": {
      const c = env.consts.get(e.name);
      return c === undefined ? new RErr(`no const ${e.name}`) : evalNode(c, { ...env, input: null }, depth + 1);
    }
    case "now":
      return Number.isNaN(env.now) ? new RErr("now unavailable") : new RTime(env.now);
    case "member": {
      const o = ev(e.obj);
      if (o instanceof RErr) return o;
      if (o === null) return new RErr(`missing .${e.name} (through null)`, true);
      if (!isObj(o)) return new RErr(`.${e.name} of a non-object`);
      const v = own(o, e.name);
      return v === undefined ? new RErr(`missing .${e.name}`, true) : v;
    }
    case "index": {
      const o = ev(e.obj);
      if (o instanceof RErr) return o;
      const i = ev(e.index);
      if (i instanceof RErr) return i;
      if (o === null) return new RErr("index through null", true);
      if (Array.isArray(o) && typeof i === "number" && Number.isInteger(i)) return i >= 0 && i < o.length ? o[i] : new RErr("index out of range", true);
      if (isObj(o) && typeof i === "string") {
        const v = own(o, i);
        return v === undefined ? new RErr(`missing [${i}]`, true) : v;
      }
      return new RErr("bad index");
    }
    case "has": {
      const o = ev(e.obj);
      if (o instanceof RErr) return o;
      return isObj(o) && own(o, e.name) !== undefined;
    }
    case "call":
      return call(e.fn, e.arg, env, depth);
    case "not": {
      const v = ev(e.e);
      if (v instanceof RErr) return v;
      return typeof v === "boolean" ? !v : new RErr("not of a non-boolean");
    }
    case "neg": {
      const v = ev(e.e);
      if (v instanceof RErr) return v;
      if (typeof v === "number") return -v;
      if (v instanceof RDur) return new RDur(-v.ms);
      return new RErr("unary minus of a non-number");
    }
    case "bin":
      return binary(e.op, e.l, e.r, env, depth);
  }
}

function call(fn: string, argNode: Node, env: Env, depth: number): V | RErr {
  const a = evalNode(argNode, env, depth + 1);
  if (a instanceof RErr) return a;
  switch (fn) {
    case "ip":
      if (typeof a !== "string") return new RErr("ip of a non-string");
      return parseIpRef(a) ?? new RErr("invalid ip");
    case "size":
      if (typeof a === "string") return Array.from(a).length;
      if (Array.isArray(a)) return a.length;
      if (isObj(a)) return Object.keys(a).length;
      return new RErr("size of a scalar");
    case "lower":
    case "upper":
      if (typeof a !== "string") return new RErr(`${fn} of a non-string`);
      return fn === "lower" ? a.toLowerCase() : a.toUpperCase();
    case "type":
      if (a === null) return "null";
      if (typeof a === "string") return "string";
      if (typeof a === "number") return Number.isFinite(a) ? "number" : "unsupported";
      if (typeof a === "boolean") return "boolean";
      if (Array.isArray(a)) return "list";
      if (a instanceof RDur) return "duration";
      if (a instanceof RIp) return "ip";
      if (a instanceof RTime) return "time";
      return "object";
    case "hour":
    case "weekday":
    case "age": {
      const ms = instant(a);
      if (Number.isNaN(ms)) return new RErr(`${fn} of a non-time`);
      const day = Math.floor(ms / 86_400_000);
      if (fn === "hour") return Math.floor((ms - day * 86_400_000) / 3_600_000);
      if (fn === "weekday") return ["thursday", "friday", "saturday", "sunday", "monday", "tuesday", "wednesday"][((day % 7) + 7) % 7];
      if (Number.isNaN(env.now)) return new RErr("now unavailable");
      return new RDur(env.now - ms);
    }
    case "risk": {
      if (typeof a !== "string") return new RErr("risk of a non-string");
      if (Number.isNaN(env.now)) return new RErr("now unavailable");
      let sum = 0;
      for (const r of env.store.raises) if (r.id === a && env.now < r.until) sum += r.amount;
      return Math.min(100, sum);
    }
    case "quarantined":
      if (typeof a !== "string") return new RErr("quarantined of a non-string");
      if (Number.isNaN(env.now)) return new RErr("now unavailable");
      return env.store.quarantines.some((q) => q.id === a && env.now < q.until);
    default:
      return new RErr(`unknown function ${fn}`);
  }
}

function asAddress(v: V): RIp | null {
  if (v instanceof RIp) return v;
  if (typeof v === "string" && !v.includes("/")) return parseIpRef(v);
  return null;
}

function fin(n: number): V | RErr {
  return Number.isFinite(n) ? n : new RErr("overflow");
}
function dur(ms: number): V | RErr {
  return Number.isFinite(ms) ? new RDur(ms) : new RErr("overflow");
}
function time(ms: number): V | RErr {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_MS ? new RTime(ms) : new RErr("overflow");
}

function binary(op: string, ln: Node, rn: Node, env: Env, depth: number): V | RErr {
  const ev = (x: Node) => evalNode(x, env, depth + 1);
  if (BOOL_OPS.has(op)) {
    const a = ev(ln);
    if (a instanceof RErr) return a;
    if (typeof a !== "boolean") return new RErr(`${op} of a non-boolean`);
    if (op === "and" ? !a : a) return a;
    const b = ev(rn);
    if (b instanceof RErr) return b;
    return typeof b === "boolean" ? b : new RErr(`${op} of a non-boolean`);
  }
  if (op === "??") {
    const a = ev(ln);
    return a instanceof RErr && a.missing ? ev(rn) : a;
  }
  const a = ev(ln);
  if (a instanceof RErr) return a;
  const b = ev(rn);
  if (b instanceof RErr) return b;
  switch (op) {
    case "==":
      return eq(a, b);
    case "!=":
      return !eq(a, b);
    case "<":
    case "<=":
    case ">":
    case ">=": {
      const d = order(a, b);
      if (Number.isNaN(d)) return new RErr(`${op} of unordered values`);
      return op === "<" ? d < 0 : op === "<=" ? d <= 0 : op === ">" ? d > 0 : d >= 0;
    }
    case "in": {
      if (b instanceof RIp) {
        const x = asAddress(a);
        return x === null ? new RErr("in a range: not an address") : ipContains(b, x);
      }
      if (!Array.isArray(b)) return new RErr("in a non-list");
      if (b.some((x) => x instanceof RIp)) {
        const x = asAddress(a);
        if (x === null) return new RErr("in ranges: not an address");
        return b.some((r) => (r instanceof RIp ? ipContains(r, x) : eq(a, r)));
      }
      return b.some((x) => eq(a, x));
    }
    case "contains":
      return Array.isArray(a) ? a.some((x) => eq(x, b)) : new RErr("contains on a non-list");
    case "contains_any":
    case "contains_all":
      if (!Array.isArray(a) || !Array.isArray(b)) return new RErr(`${op} of non-lists`);
      return op === "contains_any" ? b.some((y) => a.some((x) => eq(x, y))) : b.every((y) => a.some((x) => eq(x, y)));
    case "like":
    case "starts_with":
    case "ends_with":
      if (typeof a !== "string" || typeof b !== "string") return new RErr(`${op} of non-strings`);
      return op === "like" ? globRef(b, a) : op === "starts_with" ? a.startsWith(b) : a.endsWith(b);
    case "+":
      if (typeof a === "number" && typeof b === "number") return fin(a + b);
      if (typeof a === "string" && typeof b === "string") return a + b;
      if (a instanceof RDur && b instanceof RDur) return dur(a.ms + b.ms);
      if (a instanceof RTime && b instanceof RDur) return time(a.ms + b.ms);
      if (a instanceof RDur && b instanceof RTime) return time(a.ms + b.ms);
      return new RErr("+ of wrong types");
    case "-":
      if (typeof a === "number" && typeof b === "number") return fin(a - b);
      if (a instanceof RDur && b instanceof RDur) return dur(a.ms - b.ms);
      if (a instanceof RTime && b instanceof RDur) return time(a.ms - b.ms);
      if (a instanceof RTime && b instanceof RTime) return dur(a.ms - b.ms);
      return new RErr("- of wrong types");
    case "*":
      if (typeof a === "number" && typeof b === "number") return fin(a * b);
      if (a instanceof RDur && typeof b === "number") return dur(a.ms * b);
      if (typeof a === "number" && b instanceof RDur) return dur(a * b.ms);
      return new RErr("* of wrong types");
    case "/":
      if (typeof b === "number" && (typeof a === "number" || a instanceof RDur)) {
        if (b === 0) return new RErr("division by zero");
        return typeof a === "number" ? fin(a / b) : dur(a.ms / b);
      }
      return new RErr("/ of wrong types");
  }
  return new RErr(`unknown operator ${op}`);
}

// ---------------------------------------------------------------- input, rules, decision

/** Why the engine refuses an access input before any rule (docs/language.md, "evaluate never throws"); null when it takes it. */
export function refuse(input: V): string | null {
  if (!isObj(input)) return "not an object";
  const kind = own(input, "kind");
  if (kind !== undefined && kind !== "access") return "kind";
  if (!isObj(own(input, "principal"))) return "principal";
  if (!isObj(own(input, "resource"))) return "resource";
  if (own(input, "action") === undefined) return "action";
  const c = own(input, "context");
  if (c !== undefined && !isObj(c)) return "context";
  const t = own(input, "time");
  if (t !== undefined && !(typeof t === "string" || typeof t === "number") ) return "time type";
  if (t !== undefined && Number.isNaN(instant(t))) return "time value";
  return null;
}

export interface RefReason {
  rule: string | null;
  effect: "allow" | "deny";
  message: string;
}
export interface RefDecision {
  decision: "allow" | "deny" | "challenge";
  rule: string | null;
  reasons: RefReason[];
  obligations: { mfa: { maxAge?: string } }[];
  /** Each error as `rule@line` (null rule and line 0 for a refused input). */
  errors: string[];
}

type RuleOutcome =
  | { k: "na" }
  | { k: "error"; line: number }
  | { k: "applies"; unmet: RefReason[]; nonMfaUnmet: boolean; obligation: { mfa: { maxAge?: string } } | null };

function mfaHolds(input: Record<string, V>, within: number | null, now: number): boolean | "error" {
  const c = own(input, "context");
  if (c === undefined || c === null) return false;
  if (!isObj(c)) return "error";
  const m = own(c, "mfa");
  if (m === undefined || m === null) return false;
  if (!isObj(m)) return "error";
  const at = own(m, "verified_at");
  if (at === undefined || at === null) return false;
  const ms = instant(at);
  if (Number.isNaN(ms)) return "error";
  if (within === null) return true;
  if (Number.isNaN(now)) return "error";
  return now - ms <= within;
}

/** "requirement not met: `TEXT`": the text is the engine's rendering of the expression, so the reference leaves it open. */
export const REQUIRE_TEXT = "requirement not met: `…`";

function runRule(rule: RefRule, env: Env): RuleOutcome {
  const unmet: RefReason[] = [];
  let nonMfaUnmet = false;
  let obligation: { mfa: { maxAge?: string } } | null = null;
  for (const cl of rule.clauses) {
    if (cl.k === "mfa") {
      const h = mfaHolds(env.input!, cl.within?.ms ?? null, env.now);
      if (h === "error") return { k: "error", line: cl.line };
      if (!h) {
        obligation ??= { mfa: cl.within === null ? {} : { maxAge: cl.within.raw } };
        unmet.push({ rule: rule.id, effect: "allow", message: cl.within === null ? "MFA required" : `MFA within ${cl.within.raw} required` });
      }
      continue;
    }
    const v = evalNode(cl.e, env);
    if (v instanceof RErr || typeof v !== "boolean") return { k: "error", line: cl.line };
    if (cl.k === "when" && !v) return { k: "na" };
    if (cl.k === "unless" && v) return { k: "na" };
    if (cl.k === "require" && !v) {
      nonMfaUnmet = true;
      unmet.push({ rule: rule.id, effect: "allow", message: cl.message ?? REQUIRE_TEXT });
    }
  }
  return { k: "applies", unmet, nonMfaUnmet, obligation };
}

/** The decision spec section 4 defines, over rules in load order. */
export function decide(policy: RefPolicy, input: V, clockMs: number, store: RefStore): RefDecision {
  const why = refuse(input);
  if (why !== null) return { decision: "deny", rule: null, reasons: [{ rule: null, effect: "deny", message: "invalid input" }], obligations: [], errors: ["null@0"] };
  const inp = input as Record<string, V>;
  const t = own(inp, "time");
  let now = t === undefined ? clockMs : instant(t);
  if (!(Math.abs(now) <= MAX_MS)) now = NaN;
  const env: Env = { input: inp, now, store, consts: policy.consts };
  const errors: string[] = [];
  const reasons: RefReason[] = [];
  let rule: string | null = null;
  for (const r of policy.rules.filter((x) => x.effect === "deny")) {
    const o = runRule(r, env);
    if (o.k === "error") {
      errors.push(`${r.id}@${o.line}`);
      reasons.push({ rule: r.id, effect: "deny", message: "deny rule errored; denied to fail closed" });
      rule ??= r.id;
    } else if (o.k === "applies") {
      reasons.push({ rule: r.id, effect: "deny", message: "deny rule applies" });
      rule ??= r.id;
    }
  }
  if (rule !== null) return { decision: "deny", rule, reasons, obligations: [], errors };
  let granted: string | null = null;
  let challenge: { rule: string; obligation: { mfa: { maxAge?: string } } } | null = null;
  let unmetRule: string | null = null;
  const unmet: RefReason[] = [];
  for (const r of policy.rules.filter((x) => x.effect === "allow")) {
    const o = runRule(r, env);
    if (o.k === "error") errors.push(`${r.id}@${o.line}`);
    else if (o.k === "applies") {
      if (o.unmet.length === 0) {
        reasons.push({ rule: r.id, effect: "allow", message: "allow rule applies" });
        granted ??= r.id;
      } else {
        if (!o.nonMfaUnmet) challenge ??= { rule: r.id, obligation: o.obligation! };
        unmetRule ??= r.id;
        unmet.push(...o.unmet);
      }
    }
  }
  if (granted !== null) return { decision: "allow", rule: granted, reasons, obligations: [], errors };
  if (challenge !== null) return { decision: "challenge", rule: challenge.rule, reasons: unmet, obligations: [challenge.obligation], errors };
  if (unmetRule !== null) return { decision: "deny", rule: unmetRule, reasons: unmet, obligations: [], errors };
  return { decision: "deny", rule: null, reasons: [{ rule: null, effect: "deny", message: "no rule allows" }], obligations: [], errors };
}

/** An engine decision in the reference's terms (the texts of unnamed requirements left open, errors as rule@line). */
export function comparable(d: {
  decision: string;
  rule: string | null;
  reasons: { rule: string | null; effect: string; message: string }[];
  obligations: unknown[];
  errors: { rule: string | null; span: { line: number } | null }[];
}): RefDecision {
  return {
    decision: d.decision as RefDecision["decision"],
    rule: d.rule,
    reasons: d.reasons.map((r) => ({ rule: r.rule, effect: r.effect as "allow" | "deny", message: r.message.startsWith("requirement not met: `") ? REQUIRE_TEXT : r.message })),
    obligations: d.obligations as RefDecision["obligations"],
    errors: d.rule === null && d.reasons[0]?.message === "invalid input" ? ["null@0"] : d.errors.map((e) => `${e.rule}@${e.span?.line ?? 0}`),
  };
}
