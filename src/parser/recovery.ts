/**
 * How the parser recovers from a syntax error, on top of chevrotain's
 * recovery (recoveryEnabled):
 *
 * - In-rule recovery may invent a missing `)`, `]`, `}` or `{` (they carry
 *   no meaning of their own) and never deletes a token: a skipped token may
 *   be a condition. `insertions` counts what was invented, so `item` can
 *   tell "nothing lost" from "text skipped".
 * - Re-sync is bracket-aware. Chevrotain skips to the first token that may
 *   follow, wherever it is; after `acess { }` in a test that is the `}` of
 *   the stray object, which then closes the test and every line after it
 *   becomes a new error. Here a token inside brackets opened while skipping
 *   is never a re-sync point, and an item keyword opening a line ends any
 *   bracket left open (so a scan never runs past the next item).
 * - Recovery stays linear and shallow with thousands of errors: between
 *   items it stops at the next item and lets parse.ts go on (chevrotain
 *   re-enters the repetition recursively, a stack frame set per error), and
 *   inside a block it re-enters at most MAX_REENTRIES times.
 *
 * The three re-sync methods replace chevrotain 11's own (recoverable.js)
 * with the same contract; they are not in its type declarations, hence the
 * narrow `Internals` view. test/parser/errors.test.ts pins the behaviour.
 */
import {
  EmbeddedActionsParser,
  EOF,
  MismatchedTokenException,
  tokenMatcher,
  type IParserErrorMessageProvider,
  type IToken,
  type TokenType,
} from "chevrotain";
import * as T from "./tokens.js";

/** The chevrotain internals the re-sync methods use. */
interface Internals {
  /** The errors so far; chevrotain's public `errors` getter returns a copy. */
  _errors: unknown[];
  errorMessageProvider: IParserErrorMessageProvider;
  flattenFollowSet(): TokenType[];
  getCurrRuleFullName(): string;
  SAVE_ERROR(e: Error): void;
  exportLexerState(): number;
  importLexerState(state: number): void;
  SKIP_TOKEN(): IToken;
}

const OPENERS = new Set<TokenType>([T.LParen, T.LBracket, T.LCurly]);
const CLOSERS = new Set<TokenType>([T.RParen, T.RBracket, T.RCurly]);
const INSERTABLE = new Set<TokenType>([T.RCurly, T.RBracket, T.RParen, T.LCurly]);
const MAX_REENTRIES = 16;

function depthAfter(depth: number, tok: IToken): number {
  if (OPENERS.has(tok.tokenType)) return depth + 1;
  if (CLOSERS.has(tok.tokenType) && depth > 0) return depth - 1;
  return depth;
}

export class RecoveringParser extends EmbeddedActionsParser {
  /** Tokens invented by in-rule recovery so far. */
  protected insertions = 0;
  /** Nested re-entries of a repetition by tryInRepetitionRecovery. */
  private reentries = 0;
  /**
   * Token index where the innermost unit that recovers (item, clause, test
   * entry) began. Brackets it opened before an error are still open, and the
   * closers that match them belong to the broken unit, not to a re-sync.
   */
  protected unitStart = 0;

  /**
   * Does LA(k) look like the start of an item (tokens.ts opensItem)? An
   * `allow` in `expect allow`, a `mesh` opening a test input or a
   * `package.name` opening a line of a condition is no place to restart.
   */
  private startsItem(k: number): boolean {
    const prev = this.LA(k - 1);
    return T.opensItem(prev.tokenType === EOF ? undefined : prev, this.LA(k), this.LA(k + 1));
  }

  /**
   * How many errors this run has recorded. Chevrotain's `errors` getter
   * copies the whole list; read once per item, a file of n items that each
   * recover inside a clause cost O(n^2) copying.
   */
  protected errorCount(): number {
    return this.internals._errors.length;
  }

  /** Index of the next token to read. */
  nextIndex(): number {
    return this.internals.exportLexerState() + 1;
  }

  /** Brackets opened since `unitStart` and not closed yet. */
  private openSinceUnitStart(): number {
    const tokens = this.input;
    const end = Math.min(this.internals.exportLexerState() + 1, tokens.length);
    let open = 0;
    for (let i = this.unitStart; i < end; i++) {
      const type = tokens[i]!.tokenType;
      if (OPENERS.has(type)) open++;
      else if (CLOSERS.has(type) && open > 0) open--;
    }
    return open;
  }

  private get internals(): Internals {
    return this as unknown as Internals;
  }

  protected override canTokenTypeBeInsertedInRecovery(tokType: TokenType): boolean {
    return INSERTABLE.has(tokType);
  }

  protected override canTokenTypeBeDeletedInRecovery(): boolean {
    return false;
  }

  protected override getTokenToInsert(tokType: TokenType): IToken {
    this.insertions++;
    return super.getTokenToInsert(tokType);
  }

  /** The first token ahead, outside brackets opened on the way, that may follow a rule on the stack. */
  findReSyncTokenType(): TokenType {
    const follows = this.internals.flattenFollowSet();
    // At the top only the end of input follows: parse.ts restarts the
    // broken item's successor itself, so do not walk the rest of the file.
    if (follows.length === 1 && follows[0] === EOF) return EOF;
    let depth = 0;
    let pending = this.openSinceUnitStart();
    for (let k = 1; ; k++) {
      const tok = this.LA(k);
      if (tok.tokenType === EOF) return EOF;
      if ((depth > 0 || pending > 0) && this.startsItem(k)) {
        // An item keyword opening a line closes whatever was left open, so
        // one unclosed bracket never makes every later error scan to the end.
        depth = 0;
        pending = 0;
      }
      if (depth === 0 && pending > 0 && CLOSERS.has(tok.tokenType)) {
        pending--;
        continue;
      }
      if (depth === 0) {
        const match = follows.find((f) => tokenMatcher(tok, f));
        if (match !== undefined) return match;
      }
      depth = depthAfter(depth, tok);
    }
  }

  /** Skip to the next `tokType` outside brackets, as findReSyncTokenType found it. */
  reSyncTo(tokType: TokenType): IToken[] {
    if (tokType === EOF) {
      this.internals.importLexerState(this.input.length - 1);
      return [];
    }
    const skipped: IToken[] = [];
    let depth = 0;
    let pending = this.openSinceUnitStart();
    for (let next = this.LA(1); next.tokenType !== EOF; next = this.LA(1)) {
      if ((depth > 0 || pending > 0) && this.startsItem(1)) {
        depth = 0;
        pending = 0;
      }
      if (depth === 0 && pending > 0 && CLOSERS.has(next.tokenType)) pending--;
      else if (depth === 0 && tokenMatcher(next, tokType)) break;
      else depth = depthAfter(depth, next);
      skipped.push(next);
      this.internals.SKIP_TOKEN();
    }
    return skipped;
  }

  /**
   * Between iterations of a repetition (the clauses of a block, the entries
   * of a test): skip to where the repetition can go on or end, else leave
   * the error to the next step, as chevrotain's does.
   */
  tryInRepetitionRecovery(
    grammarRule: (...args: unknown[]) => unknown,
    grammarRuleArgs: unknown[],
    lookAheadFunc: () => boolean,
    expectedTokType: TokenType,
  ): void {
    const internals = this.internals;
    const reSyncTokType = this.findReSyncTokenType();
    const saved = internals.exportLexerState();
    const offending = this.LA(1);
    const resynced: IToken[] = [];
    const report = () => {
      const previous = this.LA(0);
      const message = internals.errorMessageProvider.buildMismatchTokenMessage({
        expected: expectedTokType,
        actual: offending,
        previous,
        ruleName: internals.getCurrRuleFullName(),
      });
      const error = new MismatchedTokenException(message, offending, previous);
      error.resyncedTokens = resynced;
      internals.SAVE_ERROR(error);
    };
    if (expectedTokType === EOF) {
      // Between items: skip to the next item that begins a line, or to the
      // end, and stop; parse.ts calls `policyFile` again from there.
      // Chevrotain would re-enter the repetition recursively, one level per
      // error, and a file of many broken lines would overflow the stack.
      report();
      while (this.LA(1).tokenType !== EOF && !this.startsItem(1)) internals.SKIP_TOKEN();
      return;
    }
    // Re-entering the repetition nests a call per error; past a few, go on
    // to the closer instead (the item has errors and is dropped anyway).
    const mayReenter = this.reentries < MAX_REENTRIES;
    let depth = 0;
    for (let current = offending; current.tokenType !== EOF; current = this.LA(1)) {
      if (depth > 0 && this.startsItem(1)) depth = 0;
      if (depth === 0) {
        if (tokenMatcher(current, expectedTokType)) {
          report();
          return;
        }
        if (mayReenter && lookAheadFunc.call(this)) {
          report();
          this.reentries++;
          try {
            grammarRule.apply(this, grammarRuleArgs);
          } finally {
            this.reentries--;
          }
          return;
        }
        if (tokenMatcher(current, reSyncTokType)) break;
      }
      depth = depthAfter(depth, current);
      if (current !== offending) resynced.push(current);
      internals.SKIP_TOKEN();
    }
    // No closer point to go on from: put the input back; the error will be
    // raised by the next step and handled by re-sync further up.
    internals.importLexerState(saved);
  }
}
