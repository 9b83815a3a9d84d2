/**
 * Sigma `re` values (PCRE) parsed into a small tree, by PCRE's rules: what
 * regex.ts writes out again in ECMAScript `u` syntax, and what the tests'
 * event generator samples strings from. Constructs without an ECMAScript
 * equivalent fail here (Unconvertible), with the reason.
 */
import { fail } from "./model.js";

export type ClassItem = { c: string } | { from: string; to: string } | { esc: string };

export type RNode =
  | { t: "alt"; items: RNode[] }
  | { t: "seq"; items: RNode[] }
  | { t: "group"; open: string; body: RNode }
  | { t: "quant"; body: RNode; min: number; max: number; lazy: boolean }
  | { t: "char"; c: string }
  | { t: "class"; negated: boolean; items: ClassItem[] }
  | { t: "esc"; e: string }
  | { t: "any" }
  | { t: "bol" }
  | { t: "eol" }
  | { t: "raw"; text: string };

export interface ParsedRegex {
  node: RNode;
  fold: boolean;
  dotAll: boolean;
  multiline: boolean;
}

const SHORTHAND = new Set(["d", "D", "w", "W", "s", "S"]);
const CONTROL: Record<string, string> = { n: "\n", r: "\r", t: "\t", f: "\f", v: "\v", e: "\x1b", a: "\x07", "0": "\0" };
const POSIX: Record<string, ClassItem[]> = {
  alpha: [{ from: "a", to: "z" }, { from: "A", to: "Z" }],
  digit: [{ from: "0", to: "9" }],
  alnum: [{ from: "a", to: "z" }, { from: "A", to: "Z" }, { from: "0", to: "9" }],
  upper: [{ from: "A", to: "Z" }],
  lower: [{ from: "a", to: "z" }],
  space: [{ esc: "s" }],
  word: [{ esc: "w" }],
  xdigit: [{ from: "0", to: "9" }, { from: "a", to: "f" }, { from: "A", to: "F" }],
};

class Parser {
  i = 0;
  groups = 0;
  constructor(readonly s: string) {}

  peek(): string | undefined {
    return this.s[this.i];
  }

  alternation(): RNode {
    const items = [this.sequence()];
    while (this.peek() === "|") {
      this.i++;
      items.push(this.sequence());
    }
    return items.length === 1 ? items[0]! : { t: "alt", items };
  }

  sequence(): RNode {
    const items: RNode[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === "|" || c === ")") break;
      const atom = this.atom();
      if (atom === null) continue;
      items.push(this.quantified(atom));
    }
    return { t: "seq", items };
  }

  quantified(atom: RNode): RNode {
    for (;;) {
      const c = this.peek();
      let min: number;
      let max: number;
      if (c === "*") [min, max] = [0, Infinity];
      else if (c === "+") [min, max] = [1, Infinity];
      else if (c === "?") [min, max] = [0, 1];
      else if (c === "{") {
        const m = /^\{(\d*)(,(\d*))?\}/.exec(this.s.slice(this.i));
        if (m === null || (m[1] === "" && m[2] === undefined)) return atom;
        if (m[1] === "" && m[3] === "") return atom; // `{,}` is literal in PCRE
        min = m[1] === "" ? 0 : Number(m[1]);
        max = m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]);
        if (max < min) fail(`regular expression: quantifier {${m[1]},${m[3]}} has max below min`);
        this.i += m[0].length - 1;
      } else return atom;
      this.i++;
      if (atom.t === "bol" || atom.t === "eol" || (atom.t === "esc" && (atom.e === "b" || atom.e === "B"))) {
        fail("regular expression: a quantifier follows an anchor");
      }
      let lazy = false;
      if (this.peek() === "?") {
        lazy = true;
        this.i++;
      } else if (this.peek() === "+") {
        fail("regular expression: possessive quantifiers (`*+`, `++`) have no equivalent");
      }
      atom = { t: "quant", body: atom, min, max, lazy };
    }
  }

  atom(): RNode | null {
    const c = this.s[this.i++]!;
    switch (c) {
      case "(":
        return this.group();
      case "[":
        return this.charClass();
      case ".":
        return { t: "any" };
      case "^":
        return { t: "bol" };
      case "$":
        return { t: "eol" };
      case "\\":
        return this.escape();
      case "*":
      case "+":
      case "?":
        fail(`regular expression: \`${c}\` has nothing to repeat`);
      // falls through (fail never returns)
      default:
        return { t: "char", c: this.codePointFrom(c) };
    }
  }

  codePointFrom(c: string): string {
    const code = c.charCodeAt(0);
    if (code >= 0xd800 && code <= 0xdbff && this.i < this.s.length) {
      const next = this.s.charCodeAt(this.i);
      if (next >= 0xdc00 && next <= 0xdfff) {
        this.i++;
        return c + this.s[this.i - 1];
      }
    }
    return c;
  }

  group(): RNode | null {
    const rest = this.s.slice(this.i);
    let open = "(";
    if (rest.startsWith("?#")) {
      const end = this.s.indexOf(")", this.i);
      if (end < 0) fail("regular expression: unterminated comment group");
      this.i = end + 1;
      return null;
    }
    if (rest.startsWith("?")) {
      const named = /^\?(?:P?<([A-Za-z_][A-Za-z0-9_]*)>|'([A-Za-z_][A-Za-z0-9_]*)')/.exec(rest);
      const backref = /^\?P=([A-Za-z_][A-Za-z0-9_]*)\)/.exec(rest);
      if (backref) {
        this.i += backref[0].length;
        return { t: "raw", text: `\\k<${backref[1]}>` };
      } else if (named) {
        open = `(?<${named[1] ?? named[2]}>`;
        this.groups++;
        this.i += named[0].length;
      } else if (/^\?(:|=|!|<=|<!)/.test(rest)) {
        const m = /^\?(:|=|!|<=|<!)/.exec(rest)!;
        open = `(${m[0]}`;
        this.i += m[0].length;
      } else if (/^\?[a-zA-Z-]*[:)]/.test(rest)) {
        fail("regular expression: inline flags (`(?i)`) are only supported at the very start of the pattern");
      } else {
        fail(`regular expression: group \`(${rest.slice(0, 3)}\` has no equivalent`);
      }
    } else {
      this.groups++;
    }
    const body = this.alternation();
    if (this.peek() !== ")") fail("regular expression: missing `)`");
    this.i++;
    return { t: "group", open, body };
  }

  escape(): RNode {
    const c = this.s[this.i++];
    if (c === undefined) fail("regular expression: trailing backslash");
    if (SHORTHAND.has(c)) return { t: "esc", e: c };
    if (c === "b" || c === "B") return { t: "esc", e: c };
    if (c === "A") return { t: "raw", text: "^" };
    if (c === "z") return { t: "raw", text: "$" };
    if (c === "Z") return { t: "raw", text: "(?=\\n?$)" };
    if (c === "Q") {
      const end = this.s.indexOf("\\E", this.i);
      const lit = this.s.slice(this.i, end < 0 ? undefined : end);
      this.i = end < 0 ? this.s.length : end + 2;
      return { t: "seq", items: [...lit].map((ch) => ({ t: "char", c: ch }) as RNode) };
    }
    if (/[1-9]/.test(c)) {
      // PCRE: \1-\9 are backreferences; a longer number is one only if that many groups came before, else octal.
      let digits = c;
      while (/[0-9]/.test(this.peek() ?? "")) digits += this.s[this.i++];
      const n = Number(digits);
      if (n < 10 || n <= this.groups) {
        if (n > this.groups) fail(`regular expression: backreference \\${digits} to a group not yet defined`);
        return { t: "raw", text: `\\${digits}` };
      }
      this.i -= digits.length - 1;
      if (!/[0-7]/.test(c)) fail(`regular expression: \\${digits} is neither a backreference nor octal`);
      return { t: "char", c: this.octal(c) };
    }
    if (c === "k" && this.peek() === "<") {
      const m = /^<([A-Za-z_][A-Za-z0-9_]*)>/.exec(this.s.slice(this.i));
      if (m === null) fail("regular expression: malformed `\\k<name>`");
      this.i += m[0].length;
      return { t: "raw", text: `\\k<${m[1]}>` };
    }
    if (c === "p" || c === "P") return { t: "raw", text: this.property(c) };
    return { t: "char", c: this.literalEscape(c) };
  }

  /** `\p{L}` / `\pL`: Unicode general categories only (ECMAScript names scripts differently). */
  property(c: string): string {
    const m = /^(?:\{(\^?)([A-Za-z_]+)\}|([A-Z]))/.exec(this.s.slice(this.i));
    if (m === null) fail(`regular expression: malformed \`\\${c}\``);
    this.i += m[0].length;
    const name = m[2] ?? m[3]!;
    if (!/^(L|Lu|Ll|Lt|Lm|Lo|M|Mn|Mc|Me|N|Nd|Nl|No|P|Pc|Pd|Ps|Pe|Pi|Pf|Po|S|Sm|Sc|Sk|So|Z|Zs|Zl|Zp|C|Cc|Cf|Co|Cn)$/.test(name)) {
      fail(`regular expression: \`\\${c}{${name}}\` is not a general category`);
    }
    const negate = (c === "P") !== (m[1] === "^");
    return `\\${negate ? "P" : "p"}{${name}}`;
  }

  /** An escape that stands for one character (also inside classes). */
  literalEscape(c: string): string {
    if (c in CONTROL) {
      if (c === "0" && /[0-7]/.test(this.peek() ?? "")) return this.octal("0");
      return CONTROL[c]!;
    }
    if (c === "x") {
      const m = /^(?:\{([0-9A-Fa-f]{1,6})\}|([0-9A-Fa-f]{1,2}))/.exec(this.s.slice(this.i));
      if (m === null) return "\0";
      this.i += m[0].length;
      const code = parseInt(m[1] ?? m[2]!, 16);
      if (code > 0x10ffff) fail("regular expression: `\\x{...}` beyond Unicode");
      return String.fromCodePoint(code);
    }
    if (c === "c") {
      const ch = this.s[this.i++];
      if (ch === undefined || !/[A-Za-z]/.test(ch)) fail("regular expression: malformed `\\c`");
      return String.fromCharCode(ch.toUpperCase().charCodeAt(0) ^ 0x40);
    }
    if (/[A-Za-z0-9]/.test(c)) fail(`regular expression: \`\\${c}\` has no equivalent`);
    // PCRE: a backslash before any other character makes it literal.
    return this.codePointFrom(c);
  }

  octal(first: string): string {
    let digits = first;
    while (digits.length < 3 && /[0-7]/.test(this.peek() ?? "")) digits += this.s[this.i++];
    return String.fromCharCode(parseInt(digits, 8));
  }

  charClass(): RNode {
    let negated = false;
    if (this.peek() === "^") {
      negated = true;
      this.i++;
    }
    const items: ClassItem[] = [];
    let first = true;
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined) fail("regular expression: missing `]`");
      if (c === "]" && !first) {
        this.i++;
        break;
      }
      first = false;
      if (c === "[") {
        const posix = /^\[:(\^?)([a-z]+):\]/.exec(this.s.slice(this.i));
        if (posix) {
          const set = POSIX[posix[2]!];
          if (set === undefined || posix[1] === "^") fail(`regular expression: POSIX class \`[:${posix[1]}${posix[2]}:]\` has no equivalent`);
          items.push(...set);
          this.i += posix[0].length;
          continue;
        }
      }
      const lo = this.classAtom();
      if (this.peek() === "-" && this.s[this.i + 1] !== "]" && this.s[this.i + 1] !== undefined && "c" in lo) {
        this.i++;
        const hi = this.classAtom();
        if (!("c" in hi)) fail("regular expression: a class range ends in a shorthand like `\\d`");
        if (hi.c.codePointAt(0)! < lo.c.codePointAt(0)!) fail("regular expression: a class range is out of order");
        items.push({ from: lo.c, to: hi.c });
      } else {
        items.push(lo);
      }
    }
    return { t: "class", negated, items };
  }

  classAtom(): { c: string } | { esc: string } {
    const c = this.s[this.i++]!;
    if (c !== "\\") return { c: this.codePointFrom(c) };
    const e = this.s[this.i++];
    if (e === undefined) fail("regular expression: trailing backslash");
    if (SHORTHAND.has(e)) return { esc: e };
    if (e === "b") return { c: "\b" };
    if (e === "p" || e === "P") return { esc: this.property(e).slice(1) };
    return { c: this.literalEscape(e) };
  }
}

/** Parse a Sigma (PCRE) pattern; `flags` are the `re` sub-modifiers (`i`, `m`, `s`). */
export function parseSigmaRegex(pattern: string, flags: { i?: boolean; m?: boolean; s?: boolean } = {}): ParsedRegex {
  let fold = flags.i === true;
  let multiline = flags.m === true;
  let dotAll = flags.s === true;
  let body = pattern;
  const lead = /^\(\?([a-zA-Z]+)\)/.exec(body);
  if (lead) {
    for (const f of lead[1]!) {
      if (f === "i") fold = true;
      else if (f === "m") multiline = true;
      else if (f === "s") dotAll = true;
      else fail(`regular expression: inline flag \`${f}\` has no equivalent`);
    }
    body = body.slice(lead[0].length);
  }
  const p = new Parser(body);
  const node = p.alternation();
  if (p.i < body.length) fail("regular expression: unbalanced `)`");
  return { node, fold, dotAll, multiline };
}
