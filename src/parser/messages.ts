/**
 * Syntax error messages a person can act on: "expected `{` after the rule
 * name, found `when`", not a dump of token names.
 *
 * Chevrotain asks the errorMessageProvider for a message when it records an
 * error; ours answers with the EXPECTED phrase only, and `toDiagnostic`
 * builds the catalogue message (SP1005 "expected {expected}, found {found}",
 * or SP1006 "unexpected {found}") from it and the offending token.
 */
import { EOF, tokenMatcher, type IParserErrorMessageProvider, type IRecognitionException, type IToken, type TokenType } from "chevrotain";
import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.js";
import type { Span } from "./span.js";
import { didYouMean } from "../diagnostics/suggest.js";
import { printable } from "./lexer.js";
import * as T from "./tokens.js";

/** The message chevrotain stores when nothing specific was expected (SP1006). */
const UNEXPECTED = "";

const PHRASES = new Map<TokenType, string>([
  [T.AnyWord, "a name"],
  [T.Identifier, "a name"],
  [T.StringLiteral, "a string in quotes"],
  [T.NumberLiteral, "a number"],
  [T.DurationLiteral, "a duration such as `15m` or `1h30m`"],
  [T.RelOp, "a comparison operator"],
  [T.CompareOp, "`==`, `!=`, `<`, `<=`, `>` or `>=`"],
  [T.AddOp, "`+` or `-`"],
  [T.MulOp, "`*` or `/`"],
]);

/** How an expected token type reads in a message. */
export function expectedPhrase(type: TokenType): string {
  if (type === EOF) return "end of file";
  const phrase = PHRASES.get(type);
  if (phrase !== undefined) return phrase;
  return `\`${T.keywordWord(type) ?? String(type.PATTERN)}\``;
}

/** A token's text for a message, cut to about 32 characters between whole characters (never half a surrogate pair or an escape). */
function clip(s: string): string {
  const p = printable(s);
  if (p.length <= 32) return p;
  let out = "";
  for (const ch of s) {
    const piece = printable(ch);
    if (out.length + piece.length > 29) break;
    out += piece;
  }
  return `${out}...`;
}

/** How an offending token reads after "found" / "unexpected". */
export function describeToken(tok: IToken): string {
  const type = tok.tokenType;
  if (type === EOF || tok.image === undefined || Number.isNaN(tok.startOffset)) return "end of file";
  if (T.isKeyword(type)) return `\`${tok.image}\``;
  if (type === T.Identifier) return `identifier \`${clip(tok.image)}\``;
  if (tokenMatcher(tok, T.StringLiteral)) return `string \`${clip(tok.image)}\``;
  if (type === T.Num) return `number \`${clip(tok.image)}\``;
  if (type === T.Duration) return `duration \`${clip(tok.image)}\``;
  return `\`${clip(tok.image)}\``;
}

function list(phrases: string[]): string {
  const unique = [...new Set(phrases)];
  if (unique.length <= 1) return unique[0] ?? "something else";
  const shown = unique.slice(0, 6);
  const last = unique.length > 6 ? "..." : shown.pop()!;
  return `${shown.join(", ")} or ${last}`;
}

/** What the repetition of a rule stops at, when something else is found there. */
const CLOSERS: Record<string, string> = {
  clauseBlock: "a clause or `}`",
  testBlock: "`access`, `encryption`, `mesh`, `events`, `expect` or `}`",
  listLit: "`,` or `]`",
  stringList: "`,` or `]`",
  numberList: "`,` or `]`",
  objectLit: "`,` or `}`",
  sequenceClause: "a step (`name: condition`) or `}`",
  callArgs: "`,` or `)`",
};

export const errorMessageProvider: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, ruleName }) {
    if (expected === EOF) return UNEXPECTED;
    const closer = CLOSERS[ruleName];
    if (closer !== undefined && (expected === T.RCurly || expected === T.RBracket || expected === T.RParen)) return closer;
    return expectedPhrase(expected);
  },
  buildNotAllInputParsedMessage() {
    return UNEXPECTED;
  },
  buildNoViableAltMessage({ expectedPathsPerAlt, customUserDescription }) {
    if (customUserDescription !== undefined) return customUserDescription;
    return list(expectedPathsPerAlt.flatMap((paths) => paths.map((p) => (p[0] ? expectedPhrase(p[0]) : "end of file"))));
  },
  buildEarlyExitMessage({ expectedIterationPaths, customUserDescription }) {
    if (customUserDescription !== undefined) return customUserDescription;
    return list(expectedIterationPaths.map((p) => (p[0] ? expectedPhrase(p[0]) : "end of file")));
  },
};

const TOP_LEVEL_HINT =
  "a policy file holds `package`, `schema`, `const`, `allow`, `deny`, `encryption`, `mesh`, `detect` and `test` blocks";

const ITEM_WORDS = ["package", "schema", "const", "allow", "deny", "encryption", "mesh", "detect", "test"];
const CLAUSE_WORDS = [
  "tags", "when", "unless", "require", "network", "listen_port", "keepalive", "connect", "severity", "where", "by",
  "having", "sequence", "all", "then",
];
const TEST_WORDS = ["access", "encryption", "mesh", "events", "expect"];

/** Turn one of chevrotain's recorded errors into a catalogue diagnostic. */
export function toDiagnostic(
  e: IRecognitionException,
  span: (tok: IToken) => Span,
  previous: (tok: IToken) => IToken | undefined,
): Diagnostic {
  const tok = e.token;
  const found = describeToken(tok);
  if (e.message === UNEXPECTED) {
    const typo = tok.tokenType === T.Identifier ? didYouMean(tok.image, ITEM_WORDS) : undefined;
    return diagnostic("SP1006", span(tok), { found }, { hint: typo ?? TOP_LEVEL_HINT });
  }
  const hint = keywordTakenAsName(e, previous(tok)) ?? typoHint(e) ?? reservedHint(e) ?? (tok.tokenType === T.Assign ? "to compare, write `==`" : undefined);
  return diagnostic("SP1005", span(tok), { expected: e.message, found }, hint !== undefined ? { hint } : {});
}

/** `wen x` where a clause may start: did you mean `when`? */
function typoHint(e: IRecognitionException): string | undefined {
  if (!(tokenMatcher(e.token, T.Identifier))) return undefined;
  if (e.message === CLOSERS["clauseBlock"]) return didYouMean(e.token.image, CLAUSE_WORDS);
  if (e.message === CLOSERS["testBlock"]) return didYouMean(e.token.image, TEST_WORDS);
  return undefined;
}

/** `const test = 1`: a hard keyword where a name must stand. */
function reservedHint(e: IRecognitionException): string | undefined {
  const type = e.token.tokenType;
  if (!T.isKeyword(type) || tokenMatcher(e.token, T.Identifier) || !/\bname\b/.test(e.message)) return undefined;
  return `\`${e.token.image}\` is a reserved word; choose another name`;
}

/**
 * `where a and` + newline + `severity high`: soft keywords are names inside
 * expressions, so `severity` completed the expression and the error falls on
 * `high`. Say so, or the message points one token too late to make sense.
 */
function keywordTakenAsName(e: IRecognitionException, prev: IToken | undefined): string | undefined {
  if (prev === undefined || !T.CLAUSE_STARTS.has(prev.tokenType)) return undefined;
  if (e.message !== CLOSERS["clauseBlock"] && e.message !== CLOSERS["testBlock"]) return undefined;
  return `\`${prev.image}\` was read as a name ending the expression before it: is something missing there?`;
}

