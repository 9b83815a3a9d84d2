/**
 * Sigma `re` values to `matches` patterns. Sigma's regular expressions are
 * PCRE (Sigma modifiers appendix); `matches` takes ECMAScript syntax with the
 * `u` flag, which is strict: `\-` or a lone `{` outside a class is a syntax
 * error there, while PCRE reads them as literals. So the pattern is parsed
 * (PCRE rules) into a small tree and written out again in `u` syntax.
 *
 * - Case-insensitive matching (`|i`, or `(?i)` at the very start) becomes
 *   `lower(F) matches P` with P's literal letters lowercased; a character
 *   class keeps its members and gains their lowercase forms, which is exact
 *   on lowercased input (also for negated classes).
 * - `(?s)` / `|s` makes `.` match line breaks (`[\s\S]`); `(?m)` / `|m`
 *   makes `^` and `$` match at line starts and ends (lookarounds on `\n`).
 * - Inline flags anywhere but the start, `(?x)`, atomic groups, possessive
 *   quantifiers, `\G`, `\K`, `\R`, `\X`, `\h`, recursion and conditionals have
 *   no equivalent: the rule is reported, not approximated.
 * - Kept as ECMAScript reads them (documented in docs/sigma.md): `.` also
 *   stops at `\r`, `\u2028`, `\u2029`; `\s` also matches Unicode spaces; `$`
 *   matches only at the very end (PCRE also before a final newline).
 */
import { lowerText } from "../../checker/values.js";
import { fail } from "./model.js";
import { parseSigmaRegex, type ClassItem, type RNode } from "./regex-parse.js";

export { parseSigmaRegex, type ClassItem, type RNode } from "./regex-parse.js";

// `/` needs no escape in a pattern given as a string.
const SYNTAX = /[\\^$.*+?()[\]{}|]/;

function charOut(c: string): string {
  if (SYNTAX.test(c)) return `\\${c}`;
  return controlOut(c) ?? c;
}

function controlOut(c: string): string | undefined {
  const code = c.codePointAt(0)!;
  if (c === "\n") return "\\n";
  if (c === "\r") return "\\r";
  if (c === "\t") return "\\t";
  if (code < 0x20 || code === 0x7f || (code >= 0x2028 && code <= 0x2029)) return `\\u{${code.toString(16)}}`;
  return undefined;
}

function classCharOut(c: string): string {
  if (/[\\\]\[^-]/.test(c)) return `\\${c}`;
  return controlOut(c) ?? c;
}

/** Lowercase a single character; fails when the lowercase form is longer (a class cannot hold it). */
function lowerChar(c: string): string {
  const l = lowerText(c);
  if ([...l].length !== 1) fail(`regular expression: \`${c}\` has no single-character lowercase form`);
  return l;
}

/** Class items plus the lowercase forms of their members (case-insensitive match on lowered input). */
function foldClass(items: ClassItem[]): ClassItem[] {
  const extra = new Set<number>();
  for (const it of items) {
    if ("esc" in it) {
      if (/^[pP]\{(Lu|Ll|Lt)\}$/.test(it.esc)) fail("regular expression: a case property under case-insensitive matching");
      continue;
    }
    const [a, b] = "c" in it ? [it.c, it.c] : [it.from, it.to];
    const lo = a.codePointAt(0)!;
    const hi = b.codePointAt(0)!;
    if (hi - lo > 0x30000) continue; // a range this wide already holds the lowercase letters it needs
    for (let cp = lo; cp <= hi; cp++) {
      const ch = String.fromCodePoint(cp);
      const l = lowerText(ch);
      if (l !== ch && [...l].length === 1) {
        const lc = l.codePointAt(0)!;
        if (lc < lo || lc > hi) extra.add(lc);
      }
    }
  }
  const out = [...items];
  const sorted = [...extra].sort((x, y) => x - y);
  for (let k = 0; k < sorted.length; ) {
    let j = k;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    const from = String.fromCodePoint(sorted[k]!);
    const to = String.fromCodePoint(sorted[j]!);
    out.push(k === j ? { c: from } : { from, to });
    k = j + 1;
  }
  return out;
}

interface Emit {
  fold: boolean;
  dotAll: boolean;
  multiline: boolean;
}

function emit(n: RNode, o: Emit): string {
  switch (n.t) {
    case "alt":
      return n.items.map((x) => emit(x, o)).join("|");
    case "seq":
      return n.items.map((x) => emit(x, o)).join("");
    case "group":
      return `${n.open}${emit(n.body, o)})`;
    case "quant": {
      const q = n.min === 0 && n.max === Infinity ? "*" : n.min === 1 && n.max === Infinity ? "+" : n.min === 0 && n.max === 1 ? "?" : n.max === Infinity ? `{${n.min},}` : n.min === n.max ? `{${n.min}}` : `{${n.min},${n.max}}`;
      const body = emit(n.body, o);
      const atomic = n.body.t === "group" || n.body.t === "class" || n.body.t === "any" || n.body.t === "esc" || (n.body.t === "char" && body.length <= 2) || (n.body.t === "raw" && /^\\[pPk1-9]/.test(body) && !body.startsWith("(?"));
      return `${atomic ? body : `(?:${body})`}${q}${n.lazy ? "?" : ""}`;
    }
    case "char":
      return charOut(o.fold ? lowerChar(n.c) : n.c);
    case "class": {
      const items = o.fold ? foldClass(n.items) : n.items;
      const inner = items.map((it) => ("esc" in it ? `\\${it.esc}` : "c" in it ? classCharOut(it.c) : `${classCharOut(it.from)}-${classCharOut(it.to)}`)).join("");
      return `[${n.negated ? "^" : ""}${inner}]`;
    }
    case "esc":
      return `\\${n.e}`;
    case "any":
      return o.dotAll ? "[\\s\\S]" : ".";
    case "bol":
      return o.multiline ? "(?<![^\\n])" : "^";
    case "eol":
      return o.multiline ? "(?![^\\n])" : "$";
    case "raw":
      if (o.fold && /^\\[pP]\{L[ult]\}$/.test(n.text)) fail("regular expression: a case property under case-insensitive matching");
      return n.text;
  }
}

export interface TranslatedRegex {
  /** The `matches` pattern (ECMAScript, `u` flag). */
  pattern: string;
  /** Match against `lower(F)` (the pattern's letters are lowercase). */
  fold: boolean;
}

export function translateRegex(pattern: string, flags: { i?: boolean; m?: boolean; s?: boolean } = {}): TranslatedRegex {
  const parsed = parseSigmaRegex(pattern, flags);
  const out = emit(parsed.node, parsed);
  try {
    new RegExp(out, "u");
  } catch (err) {
    fail(`regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, "")}`);
  }
  return { pattern: out, fold: parsed.fold };
}
