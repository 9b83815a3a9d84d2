/**
 * Sigma string values (Sigma rules specification, "String Wildcard" and
 * "Escaping"): `*` matches any run of characters, `?` exactly one; a
 * backslash escapes `*`, `?` and itself, and before any other character it
 * is a plain backslash (so `C:\Windows\*` needs no doubling). Matching is
 * case-insensitive unless the `cased` modifier is given.
 *
 * A value becomes a list of pieces, then the plainest policy test that
 * means the same:
 *
 *   no wildcard              lower(F) == "v"
 *   one trailing `*`         lower(F) starts_with "v"
 *   one leading `*`          lower(F) ends_with "v"
 *   only `*` wildcards       lower(F) like "*v*w"        (`like` escapes `*` and `\`)
 *   `?` or a windash dash    lower(F) matches "^v.w$"    (regular expression, anchored where no `*` is)
 *
 * `lower()` is left out when the value has no letter that has case, so
 * `"\\"` or `"4624"` compare without it. Case folding is the language's
 * `lower` on both sides (lowerText): Unicode's full lowercase mapping, one
 * character at a time, with every sigma as σ. It agrees with
 * case-insensitive comparison except for a few special letters (e.g.
 * German sharp s against "SS").
 */
import { lowerText } from "../../checker/values.js";
import { numberText } from "./expr.js";
import { fail } from "./model.js";

export type Piece = { lit: string } | { wild: "*" | "?" } | { dash: true };

/** Parse a Sigma string: wildcards and escapes. */
export function parseSigmaString(s: string): Piece[] {
  const out: Piece[] = [];
  let lit = "";
  const flush = () => {
    if (lit !== "") out.push({ lit });
    lit = "";
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "\\") {
      const next = s[i + 1];
      if (next === "*" || next === "?" || next === "\\") {
        lit += next;
        i++;
      } else {
        lit += "\\";
      }
    } else if (c === "*" || c === "?") {
      flush();
      out.push({ wild: c });
    } else {
      lit += c;
    }
  }
  flush();
  return out;
}

/** Pieces from a plain string (no wildcards), e.g. a keyword after base64. */
export function literalPieces(s: string): Piece[] {
  return s === "" ? [] : [{ lit: s }];
}

export function withContains(p: Piece[]): Piece[] {
  return withEnd(withStart(p));
}

export function withStart(p: Piece[]): Piece[] {
  const first = p[0];
  return first !== undefined && "wild" in first && first.wild === "*" ? p : [{ wild: "*" }, ...p];
}

export function withEnd(p: Piece[]): Piece[] {
  const last = p[p.length - 1];
  return last !== undefined && "wild" in last && last.wild === "*" ? p : [...p, { wild: "*" }];
}

const WORD = /[A-Za-z0-9_]/;

/**
 * `windash` as pySigma defines it: a `-` or `/` that starts a word (no
 * word character before it, one after it) matches any of `-`, `/`, en dash,
 * em dash and horizontal bar.
 */
export function windash(p: Piece[]): Piece[] {
  const out: Piece[] = [];
  for (let k = 0; k < p.length; k++) {
    const piece = p[k]!;
    if (!("lit" in piece)) {
      out.push(piece);
      continue;
    }
    const s = piece.lit;
    let lit = "";
    for (let i = 0; i < s.length; i++) {
      const c = s[i]!;
      const before = i > 0 ? s[i - 1]! : charBefore(p, k);
      const after = i + 1 < s.length ? s[i + 1]! : undefined;
      if ((c === "-" || c === "/") && (before === undefined || !WORD.test(before)) && after !== undefined && WORD.test(after)) {
        if (lit !== "") out.push({ lit });
        lit = "";
        out.push({ dash: true });
      } else {
        lit += c;
      }
    }
    if (lit !== "") out.push({ lit });
  }
  return out;
}

/** The literal character just before piece k, or undefined at the start (a wildcard counts as non-word). */
function charBefore(p: Piece[], k: number): string | undefined {
  const prev = p[k - 1];
  if (prev === undefined) return undefined;
  return "lit" in prev ? prev.lit[prev.lit.length - 1] : " ";
}

export const DASHES = "-/\u2013\u2014\u2015";

export function hasCase(s: string): boolean {
  return s.toLowerCase() !== s.toUpperCase();
}

export function piecesHaveCase(p: Piece[]): boolean {
  return p.some((x) => "lit" in x && hasCase(x.lit));
}

export function lowerPieces(p: Piece[]): Piece[] {
  return p.map((x) => ("lit" in x ? { lit: lowerText(x.lit) } : x));
}

/** The value's text when it has no wildcard at all (an equality test). */
export function plainText(p: Piece[]): string | undefined {
  if (p.some((x) => !("lit" in x))) return undefined;
  return p.map((x) => (x as { lit: string }).lit).join("");
}

export type StringTest =
  | { op: "=="; value: string }
  | { op: "starts_with" | "ends_with" | "like" | "matches"; value: string };

/** The plainest operator and right-hand string for a piece list (already case-folded if need be). */
export function stringTest(p: Piece[]): StringTest {
  const plain = plainText(p);
  if (plain !== undefined) return { op: "==", value: plain };
  const needsRegex = p.some((x) => "dash" in x || ("wild" in x && x.wild === "?"));
  if (needsRegex) return { op: "matches", value: regexOf(p) };
  const stars = p.filter((x) => "wild" in x).length;
  const first = p[0]!;
  const last = p[p.length - 1]!;
  if (stars === 1 && p.length === 2 && "wild" in last) return { op: "starts_with", value: (first as { lit: string }).lit };
  if (stars === 1 && p.length === 2 && "wild" in first) return { op: "ends_with", value: (last as { lit: string }).lit };
  return { op: "like", value: p.map((x) => ("lit" in x ? x.lit.replace(/[\\*]/g, "\\$&") : "*")).join("") };
}

/** A regular expression (ECMAScript, `u` flag) matching what the pieces match; anchored unless a `*` is at that end. */
function regexOf(p: Piece[]): string {
  let body = p;
  let start = "^";
  let end = "$";
  if (body.length > 0 && "wild" in body[0]! && body[0].wild === "*") {
    start = "";
    body = body.slice(1);
  }
  const last = body[body.length - 1];
  if (last !== undefined && "wild" in last && last.wild === "*") {
    end = "";
    body = body.slice(0, -1);
  }
  const parts = body.map((x) => {
    if ("lit" in x) return escapeRegex(x.lit);
    if ("dash" in x) return `[${DASHES}]`;
    // Sigma's wildcards match any character, line breaks included.
    return x.wild === "*" ? "[\\s\\S]*" : "[\\s\\S]";
  });
  return start + parts.join("") + end;
}

/** Escape for a `u`-flag regular expression: only syntax characters may be escaped there. */
export function escapeRegex(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
}

/** A value for `contains`-style modifiers must be a string (or a number written as text). */
export function valueString(v: unknown, modifier: string): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" && Number.isFinite(v)) return numberText(v);
  fail(`\`${modifier}\` needs a string value, found ${v === null ? "null" : typeof v}`);
}
