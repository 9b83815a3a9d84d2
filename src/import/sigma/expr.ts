/**
 * Policy expressions as the importer builds them: a small boolean tree over
 * leaves of policy text, simplified as it is built (constants fold, nested
 * and/or flatten, double negation cancels) and rendered with just the
 * parentheses the language's precedence needs (spec/LANGUAGE.md section 3:
 * or < and < not < comparison < ?? < postfix). The formatter then lays the
 * text out canonically.
 */
import { fail } from "./model.js";

/** Binding strength of a rendered expression: higher binds tighter. */
export const enum Prec {
  Or = 1,
  And = 2,
  Not = 3,
  Cmp = 4,
  Coalesce = 5,
  Atom = 9,
}

export type Cond =
  | { k: "true" }
  | { k: "false" }
  | { k: "leaf"; text: string; prec: Prec }
  | { k: "not"; item: Cond }
  | { k: "and" | "or"; items: Cond[] };

export const TRUE: Cond = { k: "true" };
export const FALSE: Cond = { k: "false" };

export function leaf(text: string, prec: Prec): Cond {
  return { k: "leaf", text, prec };
}

/** A term as an operand: wrapped in parentheses when it binds looser than `min`. */
export interface Term {
  text: string;
  prec: Prec;
}

export function term(text: string, prec: Prec = Prec.Atom): Term {
  return { text, prec };
}

export function operand(t: Term, min: Prec): string {
  return t.prec >= min ? t.text : `(${t.text})`;
}

/** `l OP r` for a comparison operator (they do not chain, so both sides bind tighter). */
export function compare(l: Term, op: string, r: Term): Cond {
  // `(F ?? 0) == "x"` needs no parentheses, but reads far better with them.
  return leaf(`${operand(l, Prec.Coalesce + 1)} ${op} ${operand(r, Prec.Coalesce + 1)}`, Prec.Cmp);
}

/** `x ?? d` */
export function coalesce(x: Term, d: Term): Term {
  return term(`${operand(x, Prec.Coalesce + 1)} ?? ${operand(d, Prec.Coalesce + 1)}`, Prec.Coalesce);
}

export function call(fn: string, arg: Term): Term {
  return term(`${fn}(${arg.text})`);
}

/**
 * A finite number as the policy language writes it: plain decimal digits
 * (`0.00000015`, `1000000000000000000000`), never JavaScript's exponent form
 * (`1.5e-7`), which the language cannot read. The digits are the shortest
 * that read back as the same number, so nothing is rounded. A whole number
 * past 2^53 - 1 is Unconvertible.
 */
export function numberText(n: number): string {
  if (Number.isInteger(n) && !Number.isSafeInteger(n)) {
    // The language refuses such literals (SP1004), and the YAML reader has already rounded the value.
    fail(`the number ${BigInt(n).toString()} is past 2^53 - 1 and cannot be held exactly; quote it to compare it as text`);
  }
  const s = String(n);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (m === null) return s;
  const [, sign, lead, rest = "", exp] = m;
  const digits = lead! + rest;
  const point = 1 + Number(exp); // where the decimal point goes, counted from the first digit
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

export function str(s: string): Term {
  return term(JSON.stringify(s));
}

export function and(items: Cond[]): Cond {
  return junction("and", items);
}

export function or(items: Cond[]): Cond {
  return junction("or", items);
}

function junction(k: "and" | "or", items: Cond[]): Cond {
  const absorbing = k === "and" ? "false" : "true";
  const neutral = k === "and" ? "true" : "false";
  const out: Cond[] = [];
  for (const c of items) {
    if (c.k === absorbing) return c;
    if (c.k === neutral) continue;
    if (c.k === k) out.push(...c.items);
    else out.push(c);
  }
  if (out.length === 0) return k === "and" ? TRUE : FALSE;
  if (out.length === 1) return out[0]!;
  return { k, items: out };
}

export function not(c: Cond): Cond {
  if (c.k === "true") return FALSE;
  if (c.k === "false") return TRUE;
  if (c.k === "not") return c.item;
  return { k: "not", item: c };
}

const PREC: Record<Cond["k"], Prec> = { true: Prec.Atom, false: Prec.Atom, leaf: Prec.Atom, not: Prec.Not, and: Prec.And, or: Prec.Or };

function precOf(c: Cond): Prec {
  return c.k === "leaf" ? c.prec : PREC[c.k];
}

export function render(c: Cond): string {
  switch (c.k) {
    case "true":
      return "true";
    case "false":
      return "false";
    case "leaf":
      return c.text;
    case "not":
      // `not` binds looser than comparisons: `not a == b` is `not (a == b)`,
      // but explicit parentheses read better and cost nothing.
      return `not ${wrap(c.item, Prec.Atom)}`;
    case "and":
      return chain(c.items, " and ", Prec.And);
    case "or":
      // `a and b or c` is legal but easy to misread: and-groups get parentheses.
      return chain(c.items, " or ", Prec.Not);
  }
}

/** Longest run of one operator written flat; longer runs are split into parenthesised groups. */
const CHAIN = 32;

/**
 * `a or b or c ...` is one level deeper per operand in the parsed tree, and
 * the parser drops a rule deeper than 1000 levels (SP1013): a list of
 * thousands of values (SigmaHQ lists thousands of driver hashes) must not
 * become one flat chain. Groups of at most CHAIN, nested, keep the depth
 * logarithmic.
 */
function chain(items: Cond[], sep: string, min: Prec): string {
  if (items.length <= CHAIN) return items.map((i) => wrap(i, min)).join(sep);
  const size = Math.ceil(items.length / CHAIN);
  const groups: string[] = [];
  for (let k = 0; k < items.length; k += size) groups.push(`(${chain(items.slice(k, k + size), sep, min)})`);
  return groups.join(sep);
}

function wrap(c: Cond, min: Prec): string {
  const text = render(c);
  return precOf(c) >= min ? text : `(${text})`;
}
