/**
 * Lexing: chevrotain's lexer over the token table, then one pass that gives
 * literal tokens their values and turns lexical trouble into diagnostics
 * (SP1001 unexpected character, SP1002 unterminated string, SP1003 bad
 * escape, SP1004 malformed number or duration, SP1013 nesting too deep).
 *
 * Every token the parser receives carries its decoded value in `payload`:
 * the string for strings, the number for numbers, the milliseconds for
 * durations. Bad literals keep a harmless value (the text so far, 0) so the
 * parser goes on and reports nothing more about them.
 */
import type { IToken } from "chevrotain";
import type { Comment } from "./ast.js";
import type { Span } from "./span.js";
import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.js";
import {
  policyLexer,
  UnterminatedString,
  MalformedNumber,
  Duration,
  Num,
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

export interface LexResult {
  tokens: IToken[];
  comments: Comment[];
  diagnostics: Diagnostic[];
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
 * Decode the body of a string token; every escape JSON does not allow is
 * reported (SP1003) and kept as written.
 */
function decodeString(file: string, t: IToken, terminated: boolean, out: Diagnostic[]): string {
  const image = t.image;
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
    const e = image[i + 1];
    if (e !== undefined && i + 1 < end && SIMPLE_ESCAPES[e] !== undefined) {
      value += SIMPLE_ESCAPES[e];
      i += 2;
    } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(image.slice(i + 2, i + 6)) && i + 6 <= end) {
      value += String.fromCharCode(parseInt(image.slice(i + 2, i + 6), 16));
      i += 6;
    } else {
      // An unterminated string may end in a lone backslash.
      const len = e === undefined || i + 1 >= end ? 1 : e === "u" ? Math.min(2 + hexRun(image, i + 2, end), 6) : 2;
      const escape = image.slice(i, i + len);
      out.push(diagnostic("SP1003", subSpan(file, t, i, len), { escape: printable(escape) }));
      value += escape;
      i += len;
    }
  }
  return value;
}

function hexRun(s: string, from: number, end: number): number {
  let n = 0;
  while (from + n < end && n < 4 && /[0-9a-fA-F]/.test(s[from + n]!)) n++;
  return n;
}

/** A character as it may be shown inside backticks in a message. */
export function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029`]/g, (c) =>
    c === "`" ? "\\`" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Tokens, comments and lexical diagnostics of a policy text. Never throws. */
export function lex(text: string, file: string): LexResult {
  const diagnostics: Diagnostic[] = [];
  const result = policyLexer.tokenize(text);

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
    diagnostics.push(diagnostic("SP1001", span, { char: printable(ch) }));
  }

  const comments: Comment[] = [];
  for (const c of result.groups["comments"] ?? []) {
    comments.push({ text: c.image, span: tokenSpan(file, c) });
  }

  const tokens = result.tokens;
  let depth = 0;
  let cutFrom = -1; // index of the first token cut for nesting
  let cutDepth = 0;
  const kept: IToken[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const type = t.tokenType;
    if (type === StringLiteral) {
      t.payload = decodeString(file, t, true, diagnostics);
    } else if (type === Num) {
      t.payload = Number(t.image);
    } else if (type === Duration) {
      t.payload = durationMs(t.image);
    } else if (type === UnterminatedString) {
      diagnostics.push(diagnostic("SP1002", tokenSpan(file, t)));
      t.payload = decodeString(file, t, false, diagnostics);
    } else if (type === MalformedNumber) {
      diagnostics.push(diagnostic("SP1004", tokenSpan(file, t), { text: t.image }));
      t.payload = 0;
    }

    if (type === LParen || type === LBracket || type === LCurly) {
      depth++;
      if (depth > MAX_NESTING && cutFrom < 0) {
        cutFrom = i;
        cutDepth = depth;
        diagnostics.push(diagnostic("SP1013", tokenSpan(file, t), { max: MAX_NESTING }));
      }
    } else if (type === RParen || type === RBracket || type === RCurly) {
      if (depth > 0) depth--;
      if (cutFrom >= 0 && depth < cutDepth) {
        // The bracket that closes the cut-out one is cut too.
        cutFrom = -1;
        continue;
      }
    }
    if (cutFrom < 0) kept.push(t);
  }
  return { tokens: kept, comments, diagnostics };
}
