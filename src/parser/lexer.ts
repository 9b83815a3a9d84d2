/**
 * Lexing: chevrotain's lexer over the token table, then one pass that gives
 * literal tokens their values and turns lexical trouble into diagnostics
 * (SP1001 unexpected character, SP1002 unterminated string, SP1003 bad
 * escape, SP1004 malformed number or duration, SP1013 nesting too deep).
 *
 * Words that are keywords are retyped here (see tokens.ts). Bad literals
 * stay in the token stream, typed so the parser goes on as if they were what
 * the author meant (an unterminated string is a string, `1h30` a duration),
 * and reports nothing more about them; the parser decodes literal values.
 */
import type { IToken } from "chevrotain";
import type { Comment, HiddenChar } from "./ast.js";
import type { Span } from "./span.js";
import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.js";
import {
  Package,
  Schema,
  Const,
  Allow,
  Deny,
  Detect,
  Test,
  parsingLexer,
  KEYWORDS,
  Identifier,
  UnterminatedString,
  MalformedNumber,
  Num,
  Duration,
  StringLiteral,
  LParen,
  LBracket,
  LCurly,
  RParen,
  RBracket,
  RCurly,
} from "./tokens.js";

/** Brackets deeper than this are cut out with SP1013 (the parser recurses on them). */
export const MAX_NESTING = 200;

/** Keywords that only ever start an item (`mesh` and `encryption` also name test inputs). */
const TOP_LEVEL = new Set([Package, Schema, Const, Allow, Deny, Detect, Test]);

export interface LexResult {
  tokens: IToken[];
  comments: Comment[];
  diagnostics: Diagnostic[];
  /** Raw characters in strings and comments that do not show as themselves (lint SP3012). */
  hidden: HiddenChar[];
}

/**
 * Characters that, written raw in a string, do not show as themselves: C0
 * (but tab) and C1 controls, DEL, format characters (bidi overrides and
 * isolates, zero-width spaces and joiners, the BOM, tag characters), line and
 * paragraph separators, and spaces other than U+0020. A reviewer reads
 * `"root\u200b"` as `"root"` and a deny rule on it never matches root; a
 * bidi override reorders the rest of the line (Trojan Source,
 * CVE-2021-42574). `fmt` writes all of them as escapes (docs/fmt.md).
 */
const HIDDEN_IN_STRING = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]|(?! )\p{Zs}/gu;
/** In a comment, only what changes how the code around it reads: bidi controls, and line separators an editor may show as a line break (the rest of the comment would look like code). */
const HIDDEN_IN_COMMENT = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;
/** A quick test that an image holds anything outside printable ASCII (the usual case is no). */
const NOT_PLAIN = /[^\t\x20-\x7e]/;

function findHidden(file: string, t: IToken, re: RegExp, place: HiddenChar["place"], out: HiddenChar[]): void {
  if (!NOT_PLAIN.test(t.image)) return;
  re.lastIndex = 0;
  for (let m = re.exec(t.image); m !== null; m = re.exec(t.image)) {
    if (m[0] === "\t") continue;
    out.push({ char: m[0], span: subSpan(file, t, m.index, m[0].length), place });
  }
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION_PART = /(\d+)(ms|[smhdw])/g;

/** Total milliseconds of a well-formed duration such as `1h30m`. */
export function durationMs(raw: string): number {
  let ms = 0;
  DURATION_PART.lastIndex = 0;
  for (let m = DURATION_PART.exec(raw); m !== null; m = DURATION_PART.exec(raw)) {
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return ms;
}

/**
 * Why a well-formed number literal cannot stand for the number written, or
 * undefined. Numbers are IEEE 754 doubles: 400 digits would read as
 * Infinity, and an integer past 2^53 - 1 as a neighbour (`9007199254740993`
 * is `9007199254740992`), so a rule comparing an id with it would match
 * another id as well. Both are errors rather than silent changes.
 */
function numberProblem(image: string): string | undefined {
  const value = Number(image);
  if (!Number.isFinite(value)) return "too large for a number (at most about 1.8e308)";
  if (image.indexOf(".") < 0 && !Number.isSafeInteger(value)) return "integers past 2^53 - 1 (9007199254740991) cannot be held exactly; compare such ids as strings";
  return undefined;
}

/** The span of a token (tokens never cross a line: strings and comments stop at its end). */
export function tokenSpan(file: string, t: IToken): Span {
  return {
    file,
    start: t.startOffset,
    end: t.startOffset + t.image.length,
    line: t.startLine ?? 1,
    column: t.startColumn ?? 1,
    endLine: t.startLine ?? 1,
    endColumn: (t.startColumn ?? 1) + t.image.length,
  };
}

function subSpan(file: string, t: IToken, from: number, length: number): Span {
  const line = t.startLine ?? 1;
  const column = (t.startColumn ?? 1) + from;
  return { file, start: t.startOffset + from, end: t.startOffset + from + length, line, column, endLine: line, endColumn: column + length };
}

const SIMPLE_ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

/**
 * The value of a string token: JSON escapes decoded, `\*` kept as written
 * (a `like` pattern's literal star, spec section 3); any other escape JSON
 * does not allow is kept as written too (the lexer reported it, SP1003). `report` is
 * called for each such escape with its offset in the image and its length.
 */
export function decodeString(image: string, terminated: boolean, report?: (at: number, length: number) => void): string {
  const end = terminated ? image.length - 1 : image.length;
  if (image.indexOf("\\") < 0) return image.slice(1, end);
  let value = "";
  let i = 1;
  while (i < end) {
    const c = image[i]!;
    if (c !== "\\") {
      value += c;
      i++;
      continue;
    }
    const e = i + 1 < end ? image[i + 1]! : "";
    if (SIMPLE_ESCAPES[e] !== undefined) {
      value += SIMPLE_ESCAPES[e];
      i += 2;
    } else if (e === "*") {
      // Spec section 3 writes a `like` pattern's literal star as `\*`: kept as written (the pattern
      // then holds `\*`), so `"a\*b"` and the JSON spelling `"a\\*b"` are one pattern.
      value += "\\*";
      i += 2;
    } else if (e === "u" && i + 6 <= end && /^[0-9a-fA-F]{4}$/.test(image.slice(i + 2, i + 6))) {
      value += String.fromCharCode(parseInt(image.slice(i + 2, i + 6), 16));
      i += 6;
    } else {
      // A lone backslash can end an unterminated string.
      const len = e === "" ? 1 : e === "u" ? 2 + hexRun(image, i + 2, end) : 2;
      report?.(i, len);
      value += image.slice(i, i + len);
      i += len;
    }
  }
  return value;
}

function checkEscapes(file: string, t: IToken, terminated: boolean, out: Diagnostic[]): void {
  decodeString(t.image, terminated, (at, length) => {
    out.push(diagnostic("SP1003", subSpan(file, t, at, length), { escape: printable(t.image.slice(at, at + length)) }));
  });
}

/** The value of a string token (StringLiteral or UnterminatedString). */
export function stringValue(t: IToken): string {
  return decodeString(t.image, t.tokenType === StringLiteral);
}

function hexRun(s: string, from: number, end: number): number {
  let n = 0;
  while (from + n < end && n < 4 && /[0-9a-fA-F]/.test(s[from + n]!)) n++;
  return n;
}

/**
 * A character as it may be shown inside backticks in a message: control
 * characters, and characters that show as a blank or as nothing (a
 * no-break or zero-width space, a bidi override, pasted from a document),
 * are written as `\u00a0` escapes (`\u{e0041}` beyond the BMP), so the
 * reader can tell what is there.
 */
export function printable(s: string): string {
  return s.replace(/[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}`]|(?! )\p{Zs}/gu, (c) => {
    if (c === "`") return "\\`";
    const cp = c.codePointAt(0)!;
    return cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, "0")}`;
  });
}

/** Characters that other languages' operators start with, and what to write here. */
const OTHER_LANGUAGE_HINTS: Record<string, string> = {
  "&": "write `and`",
  "|": "write `or`",
  "'": 'strings are in double quotes: "..."',
};

/** Tokens, comments and lexical diagnostics of a policy text. Never throws. */
export function lex(text: string, file: string, maxNesting = MAX_NESTING): LexResult {
  const diagnostics: Diagnostic[] = [];
  const result = parsingLexer.tokenize(text);

  for (const e of result.errors) {
    const cp = text.codePointAt(e.offset);
    const ch = cp === undefined ? "" : String.fromCodePoint(cp);
    const length = Math.max(1, Math.min(e.length, text.length - e.offset));
    const line = e.line ?? 1;
    const column = e.column ?? 1;
    const span: Span = { file, start: e.offset, end: e.offset + length, line, column, endLine: line, endColumn: column + length };
    // A run of unexpected characters may cross a line break in theory; keep
    // the span on one line by stopping at the first break.
    const nl = text.slice(e.offset, e.offset + length).search(/[\r\n]/);
    if (nl > 0) {
      span.end = e.offset + nl;
      span.endColumn = column + nl;
    }
    const hint = OTHER_LANGUAGE_HINTS[ch] ?? (ch === "!" && text[e.offset + 1] !== "=" ? "write `not`" : undefined);
    diagnostics.push(diagnostic("SP1001", span, { char: printable(ch) }, hint !== undefined ? { hint } : {}));
  }

  const tokens = result.tokens;
  const comments: Comment[] = [];
  const hidden: HiddenChar[] = [];
  // Tokens and comments are both in source order and never cross a line, so
  // one pass tells which comments have code before them on their line.
  let ti = 0;
  let lastCodeLine = 0;
  for (const c of result.groups["comments"] ?? []) {
    while (ti < tokens.length && tokens[ti]!.startOffset < c.startOffset) lastCodeLine = tokens[ti++]!.startLine ?? lastCodeLine;
    comments.push({ text: c.image, span: tokenSpan(file, c), trailing: lastCodeLine === c.startLine });
    findHidden(file, c, HIDDEN_IN_COMMENT, "comment", hidden);
  }

  let depth = 0;
  let cutDepth = 0; // > 0 while cutting out brackets nested too deep
  let kept: IToken[] | null = null; // the tokens left, once something is cut
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const type = t.tokenType;
    if (type === Identifier) {
      const kw = KEYWORDS.get(t.image);
      if (kw !== undefined) {
        t.tokenType = kw;
        t.tokenTypeIdx = kw.tokenTypeIdx!;
        // An item keyword that begins a line starts afresh: one unclosed
        // bracket must not cut or deepen the rest of the file.
        if (TOP_LEVEL.has(kw) && (i === 0 || tokens[i - 1]!.startLine! < t.startLine!)) {
          depth = 0;
          cutDepth = 0;
        }
      }
    } else if (type === StringLiteral) {
      if (t.image.indexOf("\\") >= 0) checkEscapes(file, t, true, diagnostics);
      findHidden(file, t, HIDDEN_IN_STRING, "string", hidden);
    } else if (type === UnterminatedString) {
      diagnostics.push(diagnostic("SP1002", tokenSpan(file, t)));
      if (t.image.indexOf("\\") >= 0) checkEscapes(file, t, false, diagnostics);
      findHidden(file, t, HIDDEN_IN_STRING, "string", hidden);
    } else if (type === MalformedNumber) {
      const hint = /^\d+(\.\d+){3}$/.test(t.image) ? `an IP address is a string: \`ip("${t.image}")\`` : undefined;
      diagnostics.push(diagnostic("SP1004", tokenSpan(file, t), { text: t.image }, hint !== undefined ? { hint } : {}));
    } else if (type === Num || type === Duration) {
      const hint = type === Num ? numberProblem(t.image) : Number.isSafeInteger(durationMs(t.image)) ? undefined : "a duration is at most 2^53 - 1 milliseconds (about 285,616 years)";
      if (hint !== undefined) diagnostics.push(diagnostic("SP1004", tokenSpan(file, t), { text: t.image }, { hint }));
    } else if (type === LParen || type === LBracket || type === LCurly) {
      depth++;
      if (depth > maxNesting && cutDepth === 0) {
        cutDepth = depth;
        kept ??= tokens.slice(0, i);
        diagnostics.push(diagnostic("SP1013", tokenSpan(file, t), { max: maxNesting }));
      }
    } else if (type === RParen || type === RBracket || type === RCurly) {
      if (depth > 0) depth--;
      if (cutDepth > 0 && depth < cutDepth) {
        cutDepth = 0; // the bracket closing the cut-out one is cut too
        continue;
      }
    }
    if (kept !== null && cutDepth === 0) kept.push(t);
  }
  return { tokens: kept ?? tokens, comments, diagnostics, hidden };
}
