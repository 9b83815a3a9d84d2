/**
 * The token table of the swarm-policy language (spec/LANGUAGE.md section 1)
 * and the one lexer built from it.
 *
 * Keywords are reserved only where the grammar needs them. HARD keywords
 * cannot be identifiers (they start items or are operators), except that an
 * item word before `.` or `[` roots a path (ItemWord). SOFT keywords
 * are read at clause positions only: their token types have the category
 * Identifier, so wherever the grammar takes a name they are names again.
 * That is what lets a detect rule say `where network.protocol == "dns"` or
 * read `tags` and `event.action` from an ECS event.
 *
 * AnyWord is the category of every word (identifiers and all keywords): a
 * property name after `.` or an object key may be any word (`event.action`,
 * `{ when: 1 }`).
 */
import { createToken, Lexer, tokenMatcher, type IToken, type TokenType } from "chevrotain";

// ------------------------------------------------------------- categories

export const AnyWord = createToken({ name: "AnyWord", pattern: Lexer.NA });
/** Every infix operator but `has` (whose right side is a name, not an expression). */
export const BinaryOp = createToken({ name: "BinaryOp", pattern: Lexer.NA });
/** `== != < <= > >= in contains contains_any contains_all like starts_with ends_with matches` */
export const RelOp = createToken({ name: "RelOp", pattern: Lexer.NA, categories: [BinaryOp] });
/** The ordering and equality operators `having` and step counts take. */
export const CompareOp = createToken({ name: "CompareOp", pattern: Lexer.NA, categories: [RelOp] });
export const AddOp = createToken({ name: "AddOp", pattern: Lexer.NA, categories: [BinaryOp] });
export const MulOp = createToken({ name: "MulOp", pattern: Lexer.NA, categories: [BinaryOp] });
/**
 * The words that start an item (`package schema const allow deny encryption
 * mesh detect test`). They are reserved where the grammar needs them, at the
 * start of an item and where a name is declared; followed by `.` or `[` they
 * are the root of an attribute path again (`package.name`, an ECS field), a
 * position where no item can start.
 */
export const ItemWord = createToken({ name: "ItemWord", pattern: Lexer.NA });

// ------------------------------------------------------------- trivia

export const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /[ \t\r\n\ufeff]+/, group: Lexer.SKIPPED, line_breaks: true });
export const Comment = createToken({ name: "Comment", pattern: /#[^\n\r]*/, group: "comments" });

// ------------------------------------------------------------- literals

/**
 * Any escape is lexed here; the lexer pass checks it against JSON's (SP1003),
 * so a bad escape is one precise error and the string still parses.
 */
export const StringLiteral = createToken({ name: "StringLiteral", pattern: /"(?:[^"\\\n\r]|\\[^\n\r])*"/ });
/** A string cut by the end of its line (SP1002); the parser still sees a string. */
export const UnterminatedString = createToken({
  name: "UnterminatedString",
  pattern: /"(?:[^"\\\n\r]|\\[^\n\r])*\\?/,
  categories: [StringLiteral],
});
/**
 * `12x`, `1.5h`, `1h30`, `1.2.3`: anything that starts with a digit and runs on
 * into letters, digits or dots without being a number or a duration. One
 * token, so it is one clean SP1004 rather than a number and a stray name.
 * It is in both literal categories so the grammar goes on as if it were the
 * number or duration the author meant.
 */
export const NumberLiteral = createToken({ name: "NumberLiteral", pattern: Lexer.NA });
export const DurationLiteral = createToken({ name: "DurationLiteral", pattern: Lexer.NA });
export const MalformedNumber = createToken({
  name: "MalformedNumber",
  pattern: /\d[\w.]*/,
  categories: [NumberLiteral, DurationLiteral],
});
export const Duration = createToken({
  name: "Duration",
  pattern: /(?:\d+(?:ms|[smhdw]))+/,
  longer_alt: MalformedNumber,
  categories: [DurationLiteral],
});
export const Num = createToken({
  name: "Number",
  pattern: /\d+(?:\.\d+)?/,
  longer_alt: MalformedNumber,
  categories: [NumberLiteral],
});

export const Identifier = createToken({ name: "Identifier", pattern: /[A-Za-z_][A-Za-z0-9_]*/, categories: [AnyWord] });

// ------------------------------------------------------------- keywords
//
// The lexer reads every word as an Identifier and lexer.ts retypes the ones
// that are keywords by a table lookup. Chevrotain's usual way (one pattern
// per keyword with `longer_alt: Identifier`) gives the same tokens, but
// trying ~60 keyword patterns made lexing twice as slow (measured on the
// 10,000-rule bench file). The token types below are real chevrotain types
// with their categories; only their patterns are not in the lexer.

const WORDS = new Map<TokenType, string>();

function keyword(word: string, categories: TokenType[]): TokenType {
  const t = createToken({ name: `kw_${word}`, pattern: Lexer.NA, categories });
  WORDS.set(t, word);
  return t;
}
const hardKw = (word: string, ...more: TokenType[]) => keyword(word, [AnyWord, ...more]);
const softKw = (word: string) => keyword(word, [Identifier]);

export const Package = hardKw("package", ItemWord);
export const Schema = hardKw("schema", ItemWord);
export const Const = hardKw("const", ItemWord);
export const Allow = hardKw("allow", ItemWord);
export const Deny = hardKw("deny", ItemWord);
export const Encryption = hardKw("encryption", ItemWord);
export const Mesh = hardKw("mesh", ItemWord);
export const Detect = hardKw("detect", ItemWord);
export const Test = hardKw("test", ItemWord);
export const And = hardKw("and", BinaryOp);
export const Or = hardKw("or", BinaryOp);
export const Not = hardKw("not");
export const In = hardKw("in", RelOp);
export const Has = hardKw("has");
export const True = hardKw("true");
export const False = hardKw("false");
export const Contains = hardKw("contains", RelOp);
export const ContainsAny = hardKw("contains_any", RelOp);
export const ContainsAll = hardKw("contains_all", RelOp);
export const Like = hardKw("like", RelOp);
export const StartsWith = hardKw("starts_with", RelOp);
export const EndsWith = hardKw("ends_with", RelOp);
export const Matches = hardKw("matches", RelOp);

export const When = softKw("when");
export const Unless = softKw("unless");
export const Require = softKw("require");
export const Tags = softKw("tags");
export const Else = softKw("else");
export const Within = softKw("within");
export const Mfa = softKw("mfa");
export const Cipher = softKw("cipher");
export const KeyAge = softKw("key_age");
export const Tee = softKw("tee");
export const Aad = softKw("aad");
export const Default = softKw("default");
export const Network = softKw("network");
export const ListenPort = softKw("listen_port");
export const Keepalive = softKw("keepalive");
export const Connect = softKw("connect");
export const Ports = softKw("ports");
export const SeverityKw = softKw("severity");
export const Where = softKw("where");
export const By = softKw("by");
export const Having = softKw("having");
export const Count = softKw("count");
export const Distinct = softKw("distinct");
export const Sequence = softKw("sequence");
export const All = softKw("all");
export const Then = softKw("then");
export const Risk = softKw("risk");
export const Quarantine = softKw("quarantine");
export const For = softKw("for");
export const Expect = softKw("expect");
export const Alert = softKw("alert");
export const No = softKw("no");
export const Events = softKw("events");
export const Access = softKw("access");
export const Challenge = softKw("challenge");
export const Admit = softKw("admit");
export const Reject = softKw("reject");

export const HARD_KEYWORDS: readonly TokenType[] = [
  Package, Schema, Const, Allow, Deny, Encryption, Mesh, Detect, Test, And, Or, Not, In, Has, True, False,
  Contains, ContainsAny, ContainsAll, Like, StartsWith, EndsWith, Matches,
];
export const SOFT_KEYWORDS: readonly TokenType[] = [
  When, Unless, Require, Tags, Else, Within, Mfa, Cipher, KeyAge, Tee, Aad, Default, Network, ListenPort,
  Keepalive, Connect, Ports, SeverityKw, Where, By, Having, Count, Distinct, Sequence, All, Then, Risk,
  Quarantine, For, Expect, Alert, No, Events, Access, Challenge, Admit, Reject,
];

/** Soft keywords that start a clause or a test entry. */
export const CLAUSE_STARTS: ReadonlySet<TokenType> = new Set([
  When, Unless, Require, Tags, Network, ListenPort, Keepalive, Connect, SeverityKw, Where, By, Having, Sequence, All,
  Then, Expect, Events, Access,
]);

// ------------------------------------------------------------- punctuation

export const BiArrow = createToken({ name: "BiArrow", pattern: "<->" });
export const Arrow = createToken({ name: "Arrow", pattern: "->" });
export const Eq = createToken({ name: "Eq", pattern: "==", categories: [CompareOp] });
export const NotEq = createToken({ name: "NotEq", pattern: "!=", categories: [CompareOp] });
export const Le = createToken({ name: "Le", pattern: "<=", categories: [CompareOp] });
export const Ge = createToken({ name: "Ge", pattern: ">=", categories: [CompareOp] });
export const Lt = createToken({ name: "Lt", pattern: "<", categories: [CompareOp] });
export const Gt = createToken({ name: "Gt", pattern: ">", categories: [CompareOp] });
export const Assign = createToken({ name: "Assign", pattern: "=" });
export const Coalesce = createToken({ name: "Coalesce", pattern: "??", categories: [BinaryOp] });
export const Plus = createToken({ name: "Plus", pattern: "+", categories: [AddOp] });
export const Minus = createToken({ name: "Minus", pattern: "-", categories: [AddOp] });
export const Star = createToken({ name: "Star", pattern: "*", categories: [MulOp] });
export const Slash = createToken({ name: "Slash", pattern: "/", categories: [MulOp] });
export const LParen = createToken({ name: "LParen", pattern: "(" });
export const RParen = createToken({ name: "RParen", pattern: ")" });
export const LBracket = createToken({ name: "LBracket", pattern: "[" });
export const RBracket = createToken({ name: "RBracket", pattern: "]" });
export const LCurly = createToken({ name: "LCurly", pattern: "{" });
export const RCurly = createToken({ name: "RCurly", pattern: "}" });
export const Colon = createToken({ name: "Colon", pattern: ":" });
export const Comma = createToken({ name: "Comma", pattern: "," });
export const Dot = createToken({ name: "Dot", pattern: "." });

/** Every token the lexer produces, in the order it tries them. */
export const LEXED_TOKENS: TokenType[] = [
  WhiteSpace,
  Comment,
  StringLiteral,
  UnterminatedString,
  Duration,
  Num,
  MalformedNumber,
  Identifier,
  BiArrow,
  Arrow,
  Eq,
  NotEq,
  Le,
  Ge,
  Lt,
  Gt,
  Assign,
  Coalesce,
  Plus,
  Minus,
  Star,
  Slash,
  LParen,
  RParen,
  LBracket,
  RBracket,
  LCurly,
  RCurly,
  Colon,
  Comma,
  Dot,
];

/** The parser's vocabulary: lexed tokens plus the categories. */
export const ALL_TOKENS: TokenType[] = [
  AnyWord,
  BinaryOp,
  RelOp,
  CompareOp,
  AddOp,
  MulOp,
  ItemWord,
  NumberLiteral,
  DurationLiteral,
  ...LEXED_TOKENS,
  ...HARD_KEYWORDS,
  ...SOFT_KEYWORDS,
];

/**
 * The lexer, built once (chevrotain analyses the patterns at construction),
 * with full position tracking: tools and tests that tokenize policy text
 * get every token's start and end.
 */
export const policyLexer = new Lexer(LEXED_TOKENS, {
  ensureOptimizations: true,
  positionTracking: "full",
});

/**
 * The same lexer with start-only tracking, for parse(). No token crosses a
 * line (strings and comments stop at its end, whitespace is skipped), so a
 * token's end is its start plus its length, and spans are built that way.
 * Full tracking adds nothing for the parser and made parsing the 10,000-rule
 * bench file 1.8x slower (700 ms against 390 ms of CPU, measured).
 */
export const parsingLexer = new Lexer(LEXED_TOKENS, {
  ensureOptimizations: true,
  positionTracking: "onlyStart",
});

/** Keyword token types by their word, for the lexer's retyping pass. */
export const KEYWORDS = new Map<string, TokenType>([...WORDS].map(([type, word]) => [word, type]));

/** The word of a keyword token type, or undefined. */
export function keywordWord(t: TokenType): string | undefined {
  return WORDS.get(t);
}

/** Keywords are quoted as they are in messages: "found `when`". */
export function isKeyword(t: TokenType): boolean {
  return WORDS.has(t);
}

/**
 * Whether `tok` starts an item, for restarting after an error: an item word
 * opening a line (`prev` is on an earlier line or absent), and not the root
 * of a path (`package.name`, `test["x"]` opening a line of a long condition).
 * `mesh {` and `encryption {` open test inputs, so those count only before a
 * name or `default`.
 */
export function opensItem(prev: IToken | undefined, tok: IToken, next: IToken | undefined): boolean {
  if (!tokenMatcher(tok, ItemWord)) return false;
  if (prev !== undefined && !((prev.startLine ?? 0) < (tok.startLine ?? 0))) return false;
  if (next !== undefined && (tokenMatcher(next, Dot) || tokenMatcher(next, LBracket))) return false;
  if (tok.tokenType === Mesh || tok.tokenType === Encryption) return next !== undefined && (tokenMatcher(next, StringLiteral) || next.tokenType === Default);
  return true;
}
