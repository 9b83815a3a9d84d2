/**
 * One field of a Sigma selection (`Field|mod|mod: value or [values]`) as a
 * policy condition (Sigma modifiers appendix; choices in docs/sigma.md).
 *
 * Values of a list are alternatives (OR), or all required with `|all`.
 * Each value becomes a test on the field, and the tests are grouped so the
 * output stays short: exact literals share one `in` list, string tests
 * share one `type(F ?? false) == "string"` guard (fields.ts says why guards).
 *
 *   Image|endswith: '\cmd.exe'          lower(Image) ends_with "\\cmd.exe"   (behind the guard)
 *   EventID: [1, 4624]                  (EventID ?? false) in [1, "1", 4624, "4624"]
 *   CommandLine|contains|all: [a, b]    lower(CommandLine) like "*a*" and lower(CommandLine) like "*b*"
 *   DestinationIp|cidr: [10.0.0.0/8]    DestinationIp in [ip("10.0.0.0/8"), ...]   (behind the guard and an address pattern)
 *   Field|exists: true                  (Field ?? 0) == (Field ?? 1)
 *   Field: null                         absent or null
 *   A|fieldref: B                       both present and A == B
 */
import { parseIp } from "../../checker/ip-value.js";
import { lowerText } from "../../checker/values.js";
import { and, call, compare, not, numberText, or, str, term, type Cond, type Term } from "./expr.js";
import { absentOrNull, hasType, present, read, readOr, type FieldPath } from "./fields.js";
import { fail } from "./model.js";
import { encodeValue, ENCODERS } from "./encodings.js";
import { IP_TEXT_PATTERN } from "./ip-pattern.js";
import { translateRegex } from "./regex.js";
import {
  hasCase,
  lowerPieces,
  parseSigmaString,
  piecesHaveCase,
  plainText,
  stringTest,
  valueString,
  windash,
  withContains,
  withEnd,
  withStart,
  type Piece,
} from "./strings.js";

const KNOWN = new Set([
  "contains", "startswith", "endswith", "all", "cased", "windash", "re", "i", "m", "s", "cidr",
  "exists", "fieldref", "neq", "lt", "lte", "gt", "gte", ...ENCODERS,
]);
/** Modifiers the spec defines that have no translation here (reported per rule). */
const UNSUPPORTED: Record<string, string> = {
  expand: "placeholders (`expand`) need values from the environment",
  minute: "time modifiers are not supported",
  hour: "time modifiers are not supported",
  day: "time modifiers are not supported",
  week: "time modifiers are not supported",
  month: "time modifiers are not supported",
  year: "time modifiers are not supported",
};
const COMPARE: Record<string, string> = { lt: "<", lte: "<=", gt: ">", gte: ">=" };

export interface Modifiers {
  set: Set<string>;
  /** contains, startswith or endswith, if any. */
  position?: "contains" | "startswith" | "endswith";
}

export function parseModifiers(mods: string[]): Modifiers {
  const set = new Set<string>();
  for (const m of mods) {
    if (m in UNSUPPORTED) fail(`modifier \`${m}\`: ${UNSUPPORTED[m]}`);
    if (!KNOWN.has(m)) fail(`unknown modifier \`${m}\``);
    if (set.has(m)) fail(`modifier \`${m}\` is given twice`);
    set.add(m);
  }
  const positions = ["contains", "startswith", "endswith"].filter((m) => set.has(m));
  if (positions.length > 1) fail(`modifiers \`${positions.join("` and `")}\` exclude each other`);
  const types = ["re", "cidr", "exists", "fieldref", "lt", "lte", "gt", "gte"].filter((m) => set.has(m));
  if (types.length > 0 && [...set].some((m) => ENCODERS.has(m))) fail(`an encoding cannot be combined with \`${types[0]}\``);
  if (types.length > 1) fail(`modifiers \`${types.join("` and `")}\` exclude each other`);
  for (const f of ["i", "m", "s"]) if (set.has(f) && !set.has("re")) fail(`modifier \`${f}\` is only for \`re\``);
  const only = (type: string, allowed: string[]) => {
    if (!set.has(type)) return;
    const extra = [...set].filter((m) => m !== type && !allowed.includes(m));
    if (extra.length > 0) fail(`modifier \`${extra[0]}\` cannot be combined with \`${type}\``);
  };
  only("re", ["i", "m", "s", "all"]);
  only("cidr", ["all"]);
  only("exists", []);
  only("fieldref", ["startswith", "endswith", "neq"]);
  for (const c of Object.keys(COMPARE)) only(c, []);
  return { set, position: positions[0] as Modifiers["position"] };
}

/** One value's test, before grouping. */
type Atom =
  | { kind: "eq"; lits: (string | number | boolean)[] }
  | { kind: "cidr"; range: string }
  | { kind: "str"; op: string; value: string; fold: boolean }
  | { kind: "cond"; build: (f: FieldPath) => Cond };

function literalText(v: string | number | boolean): string {
  return typeof v === "number" ? numberText(v) : JSON.stringify(v);
}

/** A decimal number written as text ("4624") also matches the number, as Sigma compares values as strings. */
function numericText(s: string): number | undefined {
  if (!/^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isFinite(n) && String(n) === s ? n : undefined;
}

/** The boolean a value's text names (`true` / `false`, any case unless cased), if any. */
function booleanText(s: string, cased: boolean): boolean | undefined {
  const t = cased ? s : s.toLowerCase();
  return t === "true" ? true : t === "false" ? false : undefined;
}

/** Equality with a value without wildcards. */
function plainAtom(plain: string, cased: boolean): Atom {
  const n = numericText(plain);
  if (n !== undefined) return { kind: "eq", lits: [plain, n] };
  if (cased || !hasCase(plain)) return { kind: "eq", lits: [plain] };
  return { kind: "str", op: "==", value: lowerText(plain), fold: true };
}

/**
 * A boolean or its text: either form matches both, as Sigma compares values
 * as strings (`publiclyAccessible: 'true'` must match CloudTrail's JSON `true`).
 */
function booleanAtom(b: boolean, text: Atom): Atom {
  return { kind: "cond", build: (f) => combine(f, [{ kind: "eq", lits: [b] }, text], false) };
}

function stringAtom(pieces: Piece[], cased: boolean): Atom {
  const plain = plainText(pieces);
  if (plain !== undefined) {
    const b = booleanText(plain, cased);
    return b === undefined ? plainAtom(plain, cased) : booleanAtom(b, plainAtom(plain, cased));
  }
  if (pieces.every((p) => "wild" in p && p.wild === "*")) {
    // `*` alone: any value at all (Splunk's `field=*`).
    return { kind: "cond", build: (f) => not(absentOrNull(f)) };
  }
  const fold = !cased && piecesHaveCase(pieces);
  const t = stringTest(fold ? lowerPieces(pieces) : pieces);
  return { kind: "str", op: t.op, value: t.value, fold };
}

/** Pieces of a value under the position and windash modifiers. */
export function valuePieces(v: string, mods: Modifiers): Piece[] {
  let p = parseSigmaString(v);
  if (mods.set.has("windash")) p = windash(p);
  if (mods.position === "contains") p = withContains(p);
  else if (mods.position === "startswith") p = withEnd(p);
  else if (mods.position === "endswith") p = withStart(p);
  return p;
}

function valueAtom(v: unknown, mods: Modifiers, mapField: (name: string) => FieldPath[]): Atom {
  const set = mods.set;
  if (set.has("re")) {
    if (typeof v !== "string") fail("`re` needs a string value");
    const r = translateRegex(v, { i: set.has("i"), m: set.has("m"), s: set.has("s") });
    return { kind: "str", op: "matches", value: r.pattern, fold: r.fold };
  }
  if (set.has("cidr")) {
    if (typeof v !== "string") fail("`cidr` needs a string value");
    const ip = parseIp(v);
    if ("error" in ip) fail(`\`cidr\` value ${JSON.stringify(v)}: ${ip.error}`);
    return { kind: "cidr", range: v };
  }
  if (set.has("fieldref")) {
    if (typeof v !== "string") fail("`fieldref` needs a field name");
    const others = mapField(v);
    return {
      kind: "cond",
      build: (f) =>
        or(
          others.map((g) => {
            if (mods.position === undefined) return and([present(f), present(g), compare(read(f), "==", read(g))]);
            const op = mods.position === "startswith" ? "starts_with" : "ends_with";
            return and([hasType(f, "string"), hasType(g, "string"), compare(read(f), op, read(g))]);
          }),
        ),
    };
  }
  for (const [m, op] of Object.entries(COMPARE)) {
    if (!set.has(m)) continue;
    if (typeof v !== "number" || !Number.isFinite(v)) fail(`\`${m}\` needs a number`);
    return { kind: "cond", build: (f) => and([hasType(f, "number"), compare(read(f), op, term(numberText(v)))]) };
  }
  if (v === null) {
    if (mods.position !== undefined || set.has("windash")) fail(`\`${mods.position ?? "windash"}\` with a null value`);
    return { kind: "cond", build: absentOrNull };
  }
  if (typeof v === "boolean") {
    if (mods.position !== undefined || set.has("windash")) fail(`\`${mods.position ?? "windash"}\` with a boolean value`);
    return booleanAtom(v, plainAtom(String(v), set.has("cased")));
  }
  if (typeof v === "number" && mods.position === undefined && !set.has("windash")) {
    if (!Number.isFinite(v)) fail("a number value that is not finite");
    return { kind: "eq", lits: [v, numberText(v)] };
  }
  if (typeof v === "object") fail(`a value is ${Array.isArray(v) ? "a nested list" : "a map"}, not a string or number`);
  const encoders = [...set].filter((m) => ENCODERS.has(m));
  if (encoders.length > 0) return encodedAtom(v, mods, encoders);
  return stringAtom(valuePieces(valueString(v, mods.position ?? "windash"), mods), set.has("cased"));
}

/** A value under encoding modifiers: any of the encoded shapes, case-sensitive, no wildcards. */
function encodedAtom(v: unknown, mods: Modifiers, encoders: string[]): Atom {
  if (mods.set.has("windash")) fail("`windash` cannot be combined with an encoding");
  const plain = plainText(parseSigmaString(valueString(v, encoders[0]!)));
  if (plain === undefined) fail(`\`${encoders[0]}\` of a value with wildcards`);
  const shapes = encodeValue(plain, encoders);
  const atoms = shapes.map((text) => stringAtom(valuePieces(text.replace(/[\\*?]/g, "\\$&"), { set: new Set(), position: mods.position }), true));
  return { kind: "cond", build: (f) => combine(f, atoms, false) };
}

/** The string test of one atom on field f (the caller adds the string guard). */
function strTest(f: FieldPath, a: Extract<Atom, { kind: "str" }>): Cond {
  const subject: Term = a.fold ? call("lower", read(f)) : read(f);
  return compare(subject, a.op, str(a.value));
}

/** Exact equality with any of `lits`, without an error for an absent field. */
function eqTest(f: FieldPath, lits: (string | number | boolean)[]): Cond {
  // The default's type differs from every literal's, so it never compares equal.
  const d = lits.some((l) => typeof l === "boolean") ? "0" : "false";
  const subject = readOr(f, d);
  if (lits.length === 1) return compare(subject, "==", term(literalText(lits[0]!)));
  return compare(subject, "in", term(`[${lits.map(literalText).join(", ")}]`));
}

function combine(f: FieldPath, atoms: Atom[], all: boolean): Cond {
  const join = all ? and : or;
  const parts: Cond[] = [];
  const eqs = atoms.filter((a): a is Extract<Atom, { kind: "eq" }> => a.kind === "eq");
  if (eqs.length > 0) {
    if (all) parts.push(...eqs.map((e) => eqTest(f, e.lits)));
    else parts.push(eqTest(f, [...new Set(eqs.flatMap((e) => e.lits))]));
  }
  const strs = atoms.filter((a): a is Extract<Atom, { kind: "str" }> => a.kind === "str");
  if (strs.length > 0) {
    const tests: Cond[] = [];
    // Case-folded equalities share one `lower(F) in [...]` when they are alternatives.
    const foldedEq = all ? [] : strs.filter((s) => s.op === "==" && s.fold);
    if (foldedEq.length > 1) {
      tests.push(compare(call("lower", read(f)), "in", term(`[${[...new Set(foldedEq.map((s) => JSON.stringify(s.value)))].join(", ")}]`)));
    }
    for (const s of strs) if (!(foldedEq.length > 1 && foldedEq.includes(s))) tests.push(strTest(f, s));
    parts.push(and([hasType(f, "string"), join(tests)]));
  }
  const cidrs = atoms.filter((a): a is Extract<Atom, { kind: "cidr" }> => a.kind === "cidr");
  if (cidrs.length > 0) {
    // `x in [ip(...), ...]` is containment in any of the ranges.
    const list = (c: typeof cidrs) => compare(read(f), "in", term(`[${c.map((x) => `ip(${JSON.stringify(x.range)})`).join(", ")}]`));
    // Only on a string that is an address: `in [ip(...)]` errors on any other (ip-pattern.ts).
    const guard = and([hasType(f, "string"), compare(read(f), "matches", str(IP_TEXT_PATTERN))]);
    parts.push(and([guard, all ? and(cidrs.map((c) => list([c]))) : list(cidrs)]));
  }
  for (const a of atoms) if (a.kind === "cond") parts.push(a.build(f));
  return join(parts);
}

/** The condition for one `Field|mods: values` entry, on each field the name maps to (alternatives). */
export function fieldCondition(fields: FieldPath[], modList: string[], value: unknown, mapField: (name: string) => FieldPath[]): Cond {
  const mods = parseModifiers(modList);
  if (mods.set.has("exists")) {
    if (typeof value !== "boolean") fail("`exists` needs true or false");
    return or(fields.map((f) => (value ? present(f) : not(present(f)))));
  }
  const values = Array.isArray(value) ? value : [value];
  if (values.length === 0) fail("an empty list of values");
  const atoms = values.map((v) => valueAtom(v, mods, mapField));
  const all = mods.set.has("all") && values.length > 1;
  const cond = or(fields.map((f) => combine(f, atoms, all)));
  return mods.set.has("neq") ? not(cond) : cond;
}

/** Keyword search (values without a field) as `contains` on the pipeline's keyword field. */
export function keywordCondition(field: FieldPath, modList: string[], values: unknown[]): Cond {
  const mods = parseModifiers(modList);
  const extra = [...mods.set].filter((m) => m !== "all" && m !== "cased" && m !== "windash");
  if (extra.length > 0) fail(`modifier \`${extra[0]}\` on keywords`);
  if (values.length === 0) fail("an empty list of keywords");
  const atoms = values.map((v) => {
    if (typeof v !== "string" && typeof v !== "number") fail(`a keyword is ${v === null ? "null" : typeof v}, not a string`);
    return stringAtom(valuePieces(typeof v === "number" ? numberText(v) : v, { set: mods.set, position: "contains" }), mods.set.has("cased"));
  });
  return combine(field, atoms, mods.set.has("all") && values.length > 1);
}

