/**
 * `parse(text, file)`: the front door of the front end.
 *
 * Never throws and never hangs, on any input: lexical trouble, syntax errors,
 * nesting too deep all come back as diagnostics, with a full PolicyFile of
 * whatever parsed. Every diagnostic span lies inside the text.
 */
import type { IRecognitionException, IToken } from "chevrotain";
import type * as A from "./ast.js";
import type { Span } from "./span.js";
import { diagnostic, sortDiagnostics, type Diagnostic } from "../diagnostics/diagnostic.js";
import { lex, MAX_NESTING } from "./lexer.js";
import { PolicyParser } from "./grammar.js";
import { toDiagnostic } from "./messages.js";
import { checkDepth } from "./depth.js";
import * as T from "./tokens.js";

export interface ParseResult {
  ast: A.PolicyFile;
  diagnostics: Diagnostic[];
}

let parser: PolicyParser | null = null;

/** Where to restart after an item failed at token index `from`: the next token that opens an item (tokens.ts opensItem). */
function nextItemStart(tokens: IToken[], from: number): number {
  for (let i = Math.max(from, 1); i < tokens.length; i++) if (T.opensItem(tokens[i - 1], tokens[i]!, tokens[i + 1])) return i;
  return tokens.length;
}

/** Index of `tok` in `tokens` (sorted by offset), or tokens.length. */
function indexOf(tokens: IToken[], tok: IToken): number {
  let lo = 0;
  let hi = tokens.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tokens[mid]!.startOffset < tok.startOffset) lo = mid + 1;
    else hi = mid;
  }
  return Number.isNaN(tok.startOffset) ? tokens.length : lo;
}

/**
 * The span of the whole text. Its end position is counted on from the last
 * token or comment, not from the start: building a line table of a large
 * file for one position costs more than it needs to.
 */
function fileSpan(text: string, file: string, tokens: IToken[], comments: A.Comment[]): Span {
  const lastTok = tokens[tokens.length - 1];
  const lastComment = comments[comments.length - 1];
  let from = 0;
  let line = 1;
  let column = 1;
  if (lastTok !== undefined && (lastComment === undefined || lastTok.startOffset > lastComment.span.start)) {
    from = lastTok.startOffset;
    line = lastTok.startLine!;
    column = lastTok.startColumn!;
  } else if (lastComment !== undefined) {
    from = lastComment.span.start;
    line = lastComment.span.line;
    column = lastComment.span.column;
  }
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) {
      line++;
      column = 1;
    } else column++;
  }
  return { file, start: 0, end: text.length, line: 1, column: 1, endLine: line, endColumn: column };
}

/**
 * Bracket depth for a second try when the first ran out of stack. The cap of
 * lexer.ts (200) leaves half of Node's default stack free, but parse() may be
 * called from deep in someone else's stack.
 */
const FALLBACK_NESTING = 24;

/** Parse one policy file. Never throws. */
export function parse(text: string, file: string): ParseResult {
  try {
    return parseWith(text, file, MAX_NESTING);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
  }
  try {
    return parseWith(text, file, FALLBACK_NESTING);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
  }
  const at: Span = { file, start: 0, end: 0, line: 1, column: 1, endLine: 1, endColumn: 1 };
  return {
    ast: { kind: "File", file, package: null, items: [], comments: [], span: fileSpan(text, file, [], []) },
    diagnostics: [diagnostic("SP1013", at, { max: FALLBACK_NESTING }, { hint: "the parser ran out of stack; call it with more stack to spare" })],
  };
}

function parseWith(text: string, file: string, maxNesting: number): ParseResult {
  const lexed = lex(text, file, maxNesting);
  const diagnostics: Diagnostic[] = lexed.diagnostics;
  const tokens = lexed.tokens;
  parser ??= new PolicyParser();
  const p = parser;
  p.begin(text, file, tokens);

  // `policyFile` stops at a broken item (bailedAt) or at stray tokens between
  // items (recovery.ts leaves it at the next item); go on from there.
  const errors: IRecognitionException[] = [];
  let start = 0;
  for (;;) {
    p.policyFile();
    // Stopping early is the driver's business, not an error of its own.
    for (const e of p.errors) if (e.name !== "NotAllInputParsedException") errors.push(e);
    p.errors = [];
    const failed = p.bailedAt;
    let next: number;
    if (failed !== null) {
      p.bailedAt = null;
      next = nextItemStart(tokens, indexOf(tokens, failed));
      if (next <= start) next = nextItemStart(tokens, start + 1);
    } else {
      next = p.nextIndex();
      if (next <= start) break; // no progress: nothing more can be read
    }
    if (next >= tokens.length) break;
    start = next;
    p.restartAt(next);
  }

  const span = (tok: IToken): Span => p.tokSpan(tok);
  const previous = (tok: IToken): IToken | undefined => tokens[indexOf(tokens, tok) - 1];
  for (const e of errors) diagnostics.push(toDiagnostic(e, span, previous));
  diagnostics.push(...p.diags);

  // Package first and once (SP1008); items keep their order.
  let pkg: A.PackageDecl | null = null;
  const items: A.Item[] = [];
  for (const item of p.items) {
    if (item.kind === "Package") {
      if (pkg !== null || items.length > 0) {
        diagnostics.push(
          diagnostic("SP1008", item.span, {}, {
            hint: pkg !== null ? "remove the second `package` line" : "move `package` above everything else",
            ...(pkg !== null ? { related: [{ message: "the first `package`", span: pkg.span }] } : {}),
          }),
        );
      }
      pkg ??= item;
    } else items.push(item);
  }

  const kept = checkDepth(items, p.bigItems, diagnostics);
  const whole = fileSpan(text, file, tokens, lexed.comments);
  const ast: A.PolicyFile = { kind: "File", file, package: pkg, items: kept, comments: lexed.comments, span: whole };
  if (lexed.hidden.length > 0) ast.hidden = lexed.hidden;
  return { ast, diagnostics: sortDiagnostics(diagnostics) };
}
