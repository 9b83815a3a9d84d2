/**
 * Events built from a Sigma rule's own selections, for the fire / near-miss
 * test: an event the rule must match, and near misses (one field broken)
 * it must not. The generator only proposes; the reference matcher
 * (reference-matcher.ts) decides which proposals really match, so a clumsy
 * proposal can never make the test pass wrongly, only skip a rule (counted).
 *
 * How: find assignments of true/false to the search identifiers that make
 * the condition hold (fewest true first), collect what the true ones ask of
 * each field (an exact value, a prefix, a suffix, an infix, absence), build
 * one value per field that meets all of it, with random letter case where
 * matching ignores case, and keep the first event the reference accepts.
 */
import { parseSigmaRegex, type ClassItem, type RNode } from "../../../src/import/sigma/regex.js";
import { conditionHolds, detectionMatch, type Event, type FieldMap } from "./reference-matcher.js";

export interface GenContext {
  map: FieldMap;
  keywordField: string[] | undefined;
  rnd: () => number;
}

/** `regex`: sampled from a regular expression, which filler around it could break. */
type StrReq = { kind: "exact" | "prefix" | "suffix" | "infix"; text: string; cased: boolean; regex?: boolean };
type Req =
  | StrReq
  | { kind: "value"; value: unknown }
  | { kind: "absent" }
  | { kind: "present" }
  | { kind: "ref"; other: string[] };

const key = (p: string[]) => p.join("\u0000");

/** A string for a Sigma pattern: `*` filled with nothing, `?` with `x`; the kind says where `*` sat at the ends. */
function patternSample(v: string, mods: Set<string>): { kind: "exact" | "prefix" | "suffix" | "infix"; text: string } {
  let text = "";
  let lead = mods.has("contains") || mods.has("endswith");
  let trail = mods.has("contains") || mods.has("startswith");
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    const n = v[i + 1];
    if (c === "\\" && (n === "*" || n === "?" || n === "\\")) {
      text += n;
      i++;
    } else if (c === "*") {
      if (i === 0) lead = true;
      else if (i === v.length - 1) trail = true;
      else text += "Q";
    } else if (c === "?") text += "x";
    else text += c;
  }
  return { kind: lead && trail ? "infix" : lead ? "suffix" : trail ? "prefix" : "exact", text };
}

function pick<T>(xs: readonly T[], rnd: () => number): T {
  return xs[Math.floor(rnd() * xs.length)]!;
}

/** A string the regex matches (first alternatives, few repetitions), or undefined for constructs it cannot sample. */
export function regexSample(pattern: string, flags: { i?: boolean; m?: boolean; s?: boolean }): string | undefined {
  let node: RNode;
  try {
    node = parseSigmaRegex(pattern, flags).node;
  } catch {
    return undefined;
  }
  const classChar = (items: ClassItem[], negated: boolean): string | undefined => {
    if (negated) {
      for (const c of "xqz0_ ") if (!items.some((it) => ("c" in it ? it.c === c : "from" in it ? c >= it.from && c <= it.to : new RegExp(`\\${it.esc}`, "u").test(c)))) return c;
      return undefined;
    }
    const it = items[0]!;
    if ("c" in it) return it.c;
    if ("from" in it) return it.from;
    return { d: "0", w: "a", s: " ", D: "x", W: "-", S: "x" }[it.esc] ?? undefined;
  };
  const gen = (n: RNode): string | undefined => {
    switch (n.t) {
      case "alt":
        return gen(n.items[0]!);
      case "seq": {
        let out = "";
        for (const x of n.items) {
          const s = gen(x);
          if (s === undefined) return undefined;
          out += s;
        }
        return out;
      }
      case "group":
        return n.open.startsWith("(?=") || n.open.startsWith("(?!") || n.open.startsWith("(?<=") || n.open.startsWith("(?<!") ? "" : gen(n.body);
      case "quant": {
        const s = gen(n.body);
        return s === undefined ? undefined : s.repeat(n.min === 0 ? (n.max > 0 ? 1 : 0) : n.min);
      }
      case "char":
        return n.c;
      case "class":
        return classChar(n.items, n.negated);
      case "esc":
        return { d: "7", D: "x", w: "w", W: "-", s: " ", S: "x", b: "", B: "" }[n.e];
      case "any":
        return "x";
      case "bol":
      case "eol":
        return "";
      case "raw":
        return n.text === "^" || n.text === "$" ? "" : undefined;
    }
  };
  return gen(node);
}

function cidrSample(range: string): string {
  const [net] = range.split("/");
  if (net!.includes(":")) return net!.endsWith("::") ? `${net}1` : net!;
  const parts = net!.split(".").map(Number);
  parts[3] = (parts[3]! | 1) >>> 0;
  return parts.join(".");
}

/** What one `Field|mods: value` asks of the event; false when nothing can satisfy it here. */
function itemReqs(k: string, value: unknown, ctx: GenContext, out: Map<string, { path: string[]; reqs: Req[] }>): boolean {
  const [name, ...modList] = k.split("|");
  const mods = new Set(modList);
  const paths = name === "" ? (ctx.keywordField ? [ctx.keywordField] : []) : ctx.map(name!);
  if (paths.length === 0) return false;
  const path = pick(paths, ctx.rnd);
  const add = (r: Req) => {
    const entry = out.get(key(path)) ?? { path, reqs: [] };
    entry.reqs.push(r);
    out.set(key(path), entry);
  };
  if (name === "") mods.add("contains");
  if (mods.has("exists")) {
    add(value === true ? { kind: "present" } : { kind: "absent" });
    return true;
  }
  if (mods.has("neq")) return false;
  const values = Array.isArray(value) ? value : [value];
  const chosen = mods.has("all") ? values : [pick(values, ctx.rnd)];
  for (const v of chosen) {
    if (mods.has("fieldref")) add({ kind: "ref", other: pick(ctx.map(String(v)), ctx.rnd) });
    else if (mods.has("re")) {
      const s = regexSample(String(v), { i: mods.has("i"), m: mods.has("m"), s: mods.has("s") });
      if (s === undefined) return false;
      add({ kind: /^\^|^\(\?\w+\)\^/.test(String(v)) ? "prefix" : "infix", text: s, cased: true, regex: true });
    } else if (mods.has("cidr")) add({ kind: "value", value: cidrSample(String(v)) });
    else if (v === null) add({ kind: "absent" });
    else if (typeof v === "number" && !mods.has("contains") && !mods.has("startswith") && !mods.has("endswith")) add({ kind: "value", value: ctx.rnd() < 0.5 ? v : String(v) });
    else if (typeof v === "boolean") add({ kind: "value", value: v });
    else if (/^\*+$/.test(String(v))) add({ kind: "present" });
    else add({ ...patternSample(String(v), mods), cased: mods.has("cased") });
  }
  return true;
}

function randomCase(s: string, rnd: () => number): string {
  return [...s].map((c) => (rnd() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join("");
}

/** One value meeting every requirement on a field (or undefined: leave it absent). */
function buildValue(reqs: Req[], rnd: () => number): { value?: unknown; absent?: boolean } {
  if (reqs.some((r) => r.kind === "absent")) return { absent: true };
  const value = reqs.find((r): r is Extract<Req, { kind: "value" }> => r.kind === "value");
  if (value) return { value: value.value };
  const strs = reqs.filter((r): r is StrReq => "text" in r);
  if (strs.length === 0) return { value: "present" };
  const fold = (r: StrReq) => (r.cased ? r.text : randomCase(r.text, rnd));
  const exact = strs.find((r) => r.kind === "exact");
  if (exact) return { value: fold(exact) };
  const prefix = strs.filter((r) => r.kind === "prefix").map(fold).join("");
  const suffix = strs.filter((r) => r.kind === "suffix").map(fold).join("");
  const infix = strs.filter((r) => r.kind === "infix").map(fold).join("");
  // Filler where a wildcard stands, so that, say, an `endswith` value is not also a prefix of the event's.
  const open = (k: StrReq["kind"]) => strs.some((r) => !r.regex && (r.kind === k || r.kind === "infix"));
  return { value: `${prefix}${open("suffix") ? "kq" : ""}${infix}${open("prefix") ? "qk" : ""}${suffix}` };
}

function setPath(event: Event, path: string[], value: unknown): boolean {
  let cur: Record<string, unknown> = event;
  for (const s of path.slice(0, -1)) {
    const next = cur[s];
    if (next === undefined) cur[s] = {};
    else if (typeof next !== "object" || next === null || Array.isArray(next)) return false;
    cur = cur[s] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
  return true;
}

/** An event where the given identifiers' selections hold (one random alternative each). */
function buildEvent(detection: Record<string, unknown>, trueIds: string[], ctx: GenContext): { event: Event; paths: string[][] } | undefined {
  const fields = new Map<string, { path: string[]; reqs: Req[] }>();
  for (const id of trueIds) {
    const sel = detection[id];
    const alternatives = Array.isArray(sel) ? sel : [sel];
    const alt = pick(alternatives, ctx.rnd);
    const ok =
      typeof alt === "object" && alt !== null
        ? Object.entries(alt as Record<string, unknown>).every(([k, v]) => itemReqs(k, v, ctx, fields))
        : itemReqs("", Array.isArray(sel) ? [alt] : alt, ctx, fields);
    if (!ok) return undefined;
  }
  const event: Event = {};
  const paths: string[][] = [];
  const refs: [string[], string[]][] = [];
  for (const { path, reqs } of fields.values()) {
    for (const r of reqs) if (r.kind === "ref") refs.push([path, r.other]);
    const own = reqs.filter((r) => r.kind !== "ref");
    if (own.length === 0) continue;
    const v = buildValue(own, ctx.rnd);
    if (v.absent) continue;
    if (!setPath(event, path, v.value)) return undefined;
    paths.push(path);
  }
  // fieldref: both fields get the same value (whichever is already set, else a fresh one).
  for (const [a, b] of refs) {
    const v = readPath(event, a) ?? readPath(event, b) ?? "same-value";
    if (!setPath(event, a, v) || !setPath(event, b, v)) return undefined;
    paths.push(a);
  }
  return { event, paths };
}

function readPath(event: Event, path: string[]): unknown {
  let cur: unknown = event;
  for (const s of path) cur = typeof cur === "object" && cur !== null ? (cur as Record<string, unknown>)[s] : undefined;
  return cur;
}

/** Identifier assignments that satisfy the condition, fewest true first (at most 2^12 tried). */
function assignments(detection: Record<string, unknown>): string[][] {
  const ids = identifiers(detection).slice(0, 12);
  const out: string[][] = [];
  for (let m = 0; m < 1 << ids.length; m++) {
    const on = ids.filter((_, i) => m & (1 << i));
    if (conditionHolds(detection, (id) => on.includes(id))) out.push(on);
  }
  return out.sort((a, b) => a.length - b.length);
}

export interface Generated {
  event: Event;
  /** Fields the generator set for the rule's selections (candidates to break). */
  paths: string[][];
  /** The identifiers made true. */
  on: string[];
}

/**
 * Give the fields a false identifier reads, where the true ones left them
 * unset, a value that matches nothing (so `F: null` or `F|exists: false`
 * filters stop holding); CIDR fields get a documentation address.
 */
function falsify(detection: Record<string, unknown>, off: string[], event: Event, ctx: GenContext): void {
  for (const id of off) {
    const sel = detection[id];
    for (const alt of Array.isArray(sel) ? sel : [sel]) {
      if (typeof alt !== "object" || alt === null) continue;
      for (const k of Object.keys(alt as Record<string, unknown>)) {
        const [name, ...mods] = k.split("|");
        if (name === "") continue;
        for (const p of ctx.map(name!)) {
          if (readPath(event, p) === undefined) setPath(event, p, mods.includes("cidr") ? "192.0.2.77" : "zz-filler-zz");
        }
      }
    }
  }
}

function identifiers(detection: Record<string, unknown>): string[] {
  return Object.keys(detection).filter((k) => k !== "condition" && k !== "timeframe");
}

/** A matching event, or undefined when none of the tries made one the reference accepts. */
export function generateMatch(detection: Record<string, unknown>, ctx: GenContext, base: () => Event, accept: (e: Event) => boolean): Generated | undefined {
  const matches = (e: Event) => detectionMatch(detection, e, ctx.map, ctx.keywordField) && accept(e);
  for (const on of assignments(detection).slice(0, 16)) {
    for (let attempt = 0; attempt < 6; attempt++) {
      const built = buildEvent(detection, on, ctx);
      if (built === undefined) continue;
      const event = { ...base(), ...built.event };
      if (matches(event)) return { event, paths: built.paths, on };
      falsify(detection, identifiers(detection).filter((id) => !on.includes(id)), event, ctx);
      if (matches(event)) return { event, paths: built.paths, on };
    }
  }
  return undefined;
}

/** Variants where one identifier the match left false (a filter, say) is made to hold as well. */
export function filterHits(detection: Record<string, unknown>, g: Generated, ctx: GenContext): Event[] {
  const out: Event[] = [];
  for (const id of identifiers(detection).filter((x) => !g.on.includes(x))) {
    for (let attempt = 0; attempt < 3; attempt++) {
      const built = buildEvent(detection, [id], ctx);
      if (built === undefined) continue;
      const copy = structuredClone(g.event);
      let ok = true;
      for (const p of built.paths) ok &&= setPath(copy, p, readPath(built.event, p));
      if (ok) out.push(copy);
    }
  }
  return out;
}

/** Variants of a matching event with one field broken: changed first, then removed. */
export function nearMissCandidates(g: Generated): Event[] {
  const out: Event[] = [];
  for (const removing of [false, true]) {
    for (const path of g.paths) {
      const copy = structuredClone(g.event);
      const old = readPath(copy, path);
      if (removing) {
        const parent = readPath(copy, path.slice(0, -1)) as Record<string, unknown> | undefined;
        if (path.length === 1) delete copy[path[0]!];
        else if (parent && typeof parent === "object") delete parent[path[path.length - 1]!];
      } else {
        setPath(copy, path, typeof old === "number" ? old + 7777 : typeof old === "boolean" ? !old : "zz-no-match-zz");
      }
      out.push(copy);
    }
  }
  return out;
}
