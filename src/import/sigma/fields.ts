/**
 * Event fields as policy paths, and the guards that keep a converted
 * condition from ever raising an evaluation error.
 *
 * Why guards: in the policy language reading an absent attribute is an
 * error, `lower()` and the string operators error on a non-string, and an
 * error inside `or` or `not` spoils the whole condition (`selection and not
 * filter` would never fire for an event lacking the filter's field). Sigma
 * simply answers false for a test on an absent or mistyped field. So every
 * test reads its field through `??` or behind a `type()` check:
 *
 *   present            top level: (F ?? 0) == (F ?? 1)     nested: (a.b ?? {}) has c
 *   absent or null     not present, or type(F) == "null"
 *   string tests       type(F ?? false) == "string" and lower(F) ...
 *   equality           (F ?? false) in ["4624", 4624]      (the default's type differs from every literal)
 *
 * A field name is a dotted path into nested JSON (`process.command_line`);
 * a segment that is not an identifier is written `a["x-y"]`. The first
 * segment is a bare name in a detect block, so it must be an identifier and
 * not a reserved word, except that a word starting items (`package`,
 * `test`, ...) roots a path when more segments follow (`package.name`, an ECS
 * field); anything else needs a pipeline that maps the field.
 */
import { compare, leaf, not, or, Prec, term, type Cond, type Term } from "./expr.js";
import { fail } from "./model.js";

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Words that cannot be a bare name (spec/LANGUAGE.md section 1), plus `now`, which detect binds. */
const RESERVED = new Set(
  "package schema const allow deny encryption mesh detect test and or not in has true false contains contains_any contains_all like starts_with ends_with matches now".split(
    " ",
  ),
);

/** Words that start items: reserved alone, the root of a path before `.` (parser tokens.ts ItemWord). */
const ITEM_WORDS = new Set("package schema const allow deny encryption mesh detect test".split(" "));

/** Whether `word` is reserved (a hard keyword, or `now`) and so cannot be a bare name. */
export function isReservedWord(word: string): boolean {
  return RESERVED.has(word);
}

export interface FieldPath {
  /** The Sigma-side name it came from (after pipeline mapping: the event path as written). */
  name: string;
  segments: string[];
}

export function fieldPath(name: string): FieldPath {
  const segments = name.split(".");
  if (segments.some((s) => s === "")) fail(`field \`${name}\` has an empty path segment`);
  const first = segments[0]!;
  if (!IDENT.test(first)) {
    const what = segments.length > 1 ? `its first segment \`${first}\` is` : "it is";
    fail(`field \`${name}\` cannot be read by name in a detect rule (${what} not an identifier); map it with a pipeline`);
  }
  if (RESERVED.has(first) && !(segments.length > 1 && ITEM_WORDS.has(first))) fail(`field \`${name}\` starts with the reserved word \`${first}\`; map it with a pipeline`);
  return { name, segments };
}

function pathText(segments: readonly string[]): string {
  let out = segments[0]!;
  for (const s of segments.slice(1)) out += IDENT.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`;
  return out;
}

/** The field read directly (only where a guard has already established it is present). */
export function read(f: FieldPath): Term {
  return term(pathText(f.segments));
}

/** `(F ?? d)`: the field, or the literal `d` when it is absent. */
export function readOr(f: FieldPath, d: string): Term {
  return term(`${pathText(f.segments)} ?? ${d}`, Prec.Coalesce);
}

/** True when the field is present (a JSON null counts as present). */
export function present(f: FieldPath): Cond {
  // An absent field reads as 0 on one side and 1 on the other; a present one reads the same on both.
  if (f.segments.length === 1) return compare(readOr(f, "0"), "==", readOr(f, "1"));
  const parent = { name: f.name, segments: f.segments.slice(0, -1) };
  const last = f.segments[f.segments.length - 1]!;
  return leaf(`(${readOr(parent, "{}").text}) has ${IDENT.test(last) ? last : JSON.stringify(last)}`, Prec.Cmp);
}

/** Sigma's `field: null`: the field is absent or null. */
export function absentOrNull(f: FieldPath): Cond {
  return or([not(present(f)), compare(term(`type(${pathText(f.segments)})`), "==", term('"null"'))]);
}

/** `type(F ?? false) == "TYPE"`: false for an absent field and for every other type. */
export function hasType(f: FieldPath, type: "string" | "number"): Cond {
  return compare(term(`type(${readOr(f, "false").text})`), "==", term(JSON.stringify(type)));
}
