/**
 * The expression half of the grammar, and what every rule needs: spans of
 * tokens, literal nodes. `ClauseParser` and `PolicyParser` build on it; the
 * parser object is built once (grammar.ts) and reset per input.
 *
 * Speed (a 10,000-rule file parses at several MB/s): an expression is one
 * rule, `not* operand (op not* operand)*`, its tree built by precedence
 * climbing (precedence.ts); an operand is one rule with unary minus, atom
 * and postfix inline; the alternatives of hot ORs are built once and cached
 * (chevrotain's advice), their closures reading only `this`. Node building
 * is skipped while chevrotain records the grammar (RECORDING_PHASE), where
 * sub-rules return placeholders.
 */
import { EOF, tokenMatcher, type IOrAlt, type IParserConfig, type IToken, type TokenType } from "chevrotain";
import { describeToken } from "./messages.js";
import { RecoveringParser } from "./recovery.js";
import type * as A from "./ast.js";
import { joinSpans, SourceText, type Span } from "./span.js";
import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.js";
import { climb, type ClimbContext, type Entry } from "./precedence.js";
import { durationMs, stringValue } from "./lexer.js";
import * as T from "./tokens.js";

/** Tokens other than names that an expression can start with. */
const STARTS_EXPRESSION: TokenType[] = [
  T.StringLiteral, T.NumberLiteral, T.DurationLiteral, T.True, T.False, T.LParen, T.LBracket, T.LCurly, T.Minus, T.Not,
];

/** Returned by rules while chevrotain records the grammar; never reaches an AST. */
const RECORDING: A.NameRef = {
  kind: "Name",
  name: "",
  span: { file: "", start: 0, end: 0, line: 1, column: 1, endLine: 1, endColumn: 1 },
};

export class ExpressionParser extends RecoveringParser {
  fileName = "";
  text = "";
  diags: Diagnostic[] = [];
  private source: SourceText | null = null;
  /** Flat expression entries; each expression rule works above its own base. */
  private entries: Entry[] = [];
  private readonly climbing: ClimbContext = {
    span: (t) => this.tokSpan(t),
    report: (d) => this.report(d),
    stringValue: (t) => this.stringValue(t),
  };

  constructor(tokens: TokenType[], config: IParserConfig) {
    super(tokens, config);
  }

  /** Reset the per-input state. */
  protected resetState(text: string, file: string): void {
    this.fileName = file;
    this.text = text;
    this.source = null;
    this.diags = [];
    this.entries = [];
  }

  /** Expression state left behind by an aborted expression (recovery). */
  protected clearExpressionState(): void {
    this.entries.length = 0;
  }

  protected report(d: Diagnostic): void {
    this.diags.push(d);
  }

  // ------------------------------------------------------------- spans

  /** A zero-width span at the end of the text. */
  endOfText(): Span {
    this.source ??= new SourceText(this.fileName, this.text);
    return this.source.span(this.text.length, this.text.length);
  }

  private isReal(t: IToken): boolean {
    return t.tokenType !== EOF && t.startOffset >= 0; // NaN (invented, EOF) and -1 (recording) fail
  }

  /** The span of a token; one invented by recovery is zero-width after the last token read. */
  tokSpan(t: IToken): Span {
    if (this.isReal(t)) {
      const line = t.startLine!;
      const column = t.startColumn!;
      const length = t.image.length;
      return { file: this.fileName, start: t.startOffset, end: t.startOffset + length, line, column, endLine: line, endColumn: column + length };
    }
    if (t.tokenType === EOF) return this.endOfText();
    return this.afterLast();
  }

  /** A zero-width span just after the last token read. */
  private afterLast(): Span {
    const prev = this.LA(0);
    if (!this.isReal(prev)) return { file: this.fileName, start: 0, end: 0, line: 1, column: 1, endLine: 1, endColumn: 1 };
    const end = prev.startOffset + prev.image.length;
    const column = prev.startColumn! + prev.image.length;
    return { file: this.fileName, start: end, end, line: prev.startLine!, column, endLine: prev.startLine!, endColumn: column };
  }

  /** From `start` to the end of the last token read. */
  protected upTo(start: Span): Span {
    const prev = this.LA(0);
    if (!this.isReal(prev) || prev.startOffset < start.start) return start;
    const length = prev.image.length;
    return {
      file: start.file,
      start: start.start,
      end: prev.startOffset + length,
      line: start.line,
      column: start.column,
      endLine: prev.startLine!,
      endColumn: prev.startColumn! + length,
    };
  }

  // ------------------------------------------------------------- literals

  protected stringValue(t: IToken): string {
    return this.RECORDING_PHASE ? "" : stringValue(t);
  }

  protected stringNode(t: IToken): A.StringLit {
    return { kind: "String", value: this.stringValue(t), span: this.tokSpan(t) };
  }

  protected numberNode(t: IToken, minus: IToken | undefined): A.NumberLit {
    const value = t.tokenType === T.Num ? Number(t.image) : 0;
    const span = this.tokSpan(t);
    if (minus === undefined) return { kind: "Number", value, raw: t.image, span };
    return { kind: "Number", value: -value, raw: `-${t.image}`, span: joinSpans(this.tokSpan(minus), span) };
  }

  protected durationNode(t: IToken): A.DurationLit {
    return { kind: "Duration", ms: t.tokenType === T.Duration ? durationMs(t.image) : 0, raw: t.image, span: this.tokSpan(t) };
  }

  /** A malformed numeric token (SP1004) reads as a duration when it has a unit letter. */
  private numericNode(t: IToken): A.NumberLit | A.DurationLit {
    if (t.tokenType === T.Duration) return this.durationNode(t);
    if (t.tokenType === T.MalformedNumber && /[a-z]/i.test(t.image)) return this.durationNode(t);
    return this.numberNode(t, undefined);
  }

  // ------------------------------------------------------------- lists

  /**
   * `[1, 2 3]`, `{ a: 1 b: 2 }`: a missing comma where the next item plainly
   * starts. Reported (SP1005) and read as if the comma were there, so the
   * rest of the list parses and nothing is lost; without this, recovery
   * would invent a closing bracket and every item after it would be an error.
   */
  private missingComma(closer: TokenType, expected: string, startsItem: () => boolean): boolean {
    if (this.RECORDING_PHASE) return false;
    const next = this.LA(1);
    if (tokenMatcher(next, closer) || !startsItem()) return false;
    // A clause keyword opening a new line is the next clause: the list is
    // unclosed, not missing a comma.
    if (T.CLAUSE_STARTS.has(next.tokenType) && next.startLine! > this.LA(0).startLine!) return false;
    this.report(diagnostic("SP1005", this.tokSpan(next), { expected, found: describeToken(next) }));
    return true;
  }

  /** Soft keywords do not count: `f(x else "m"` lacks a `)`, not a comma. */
  private readonly startsExpression = (): boolean => {
    const next = this.LA(1);
    return next.tokenType === T.Identifier || STARTS_EXPRESSION.some((t) => tokenMatcher(next, t));
  };
  private readonly startsEntry = (): boolean =>
    (tokenMatcher(this.LA(1), T.AnyWord) || tokenMatcher(this.LA(1), T.StringLiteral)) && tokenMatcher(this.LA(2), T.Colon);
  /** An item word (`package`, `test`, ...) followed by `.` or `[`: a path's root, never an item's start. */
  private readonly startsPathAfterItemWord = (): boolean => tokenMatcher(this.LA(2), T.Dot) || tokenMatcher(this.LA(2), T.LBracket);
  private readonly startsString = (): boolean => tokenMatcher(this.LA(1), T.StringLiteral);
  private readonly startsNumber = (): boolean => tokenMatcher(this.LA(1), T.NumberLiteral);

  // ------------------------------------------------------------- expressions

  private notLoop1 = () => {
    this.entries.push(this.CONSUME(T.Not));
  };
  private notLoop2 = () => {
    this.entries.push(this.CONSUME2(T.Not));
  };
  private hasNameAlts: IOrAlt<IToken>[] = [{ ALT: () => this.CONSUME2(T.AnyWord) }, { ALT: () => this.CONSUME2(T.StringLiteral) }];
  private operatorAlts: IOrAlt<void>[] = [
    {
      ALT: () => {
        this.entries.push(this.CONSUME(T.BinaryOp));
        this.MANY3(this.notLoop2);
        this.entries.push(this.SUBRULE2(this.operand));
      },
    },
    {
      ALT: () => {
        this.entries.push(this.CONSUME(T.Has));
        this.entries.push(this.OR2({ DEF: this.hasNameAlts, ERR_MSG: "an attribute name after `has`" }));
      },
    },
  ];
  private operatorLoop = () => {
    this.OR(this.operatorAlts);
  };

  expression = this.RULE(
    "expression",
    (): A.Expr => {
      const base = this.entries.length;
      this.MANY(this.notLoop1);
      this.entries.push(this.SUBRULE(this.operand));
      this.MANY2(this.operatorLoop);
      if (this.RECORDING_PHASE) {
        this.entries.length = base;
        return RECORDING;
      }
      const e = base + 1 === this.entries.length ? (this.entries[base] as A.Expr) : climb(this.entries, base, this.climbing);
      this.entries.length = base;
      return e;
    },
    { resyncEnabled: false },
  );

  private atomAlts: IOrAlt<A.Expr>[] = [
    { ALT: () => this.stringNode(this.CONSUME(T.StringLiteral)) },
    { ALT: () => this.numericNode(this.CONSUME(T.NumberLiteral)) },
    { ALT: () => this.numericNode(this.CONSUME(T.DurationLiteral)) },
    { ALT: () => ({ kind: "Bool", value: true, span: this.tokSpan(this.CONSUME(T.True)) }) },
    { ALT: () => ({ kind: "Bool", value: false, span: this.tokSpan(this.CONSUME(T.False)) }) },
    {
      ALT: () => {
        const id = this.CONSUME(T.Identifier);
        const args = this.OPTION(() => this.SUBRULE(this.callArgs));
        const idSpan = this.tokSpan(id);
        if (args === undefined) return { kind: "Name", name: id.image, span: idSpan };
        return { kind: "Call", callee: id.image, calleeSpan: idSpan, args, span: this.upTo(idSpan) };
      },
    },
    {
      // `package.name`, `test["x"]`: an item word as the root of a path (tokens.ts ItemWord).
      GATE: () => this.startsPathAfterItemWord(),
      ALT: () => {
        const word = this.CONSUME(T.ItemWord);
        return { kind: "Name", name: word.image, span: this.tokSpan(word) };
      },
    },
    {
      ALT: () => {
        const open = this.tokSpan(this.CONSUME(T.LParen));
        const expr = this.SUBRULE(this.expression);
        this.CONSUME(T.RParen, { ERR_MSG: "`)`" });
        return { kind: "Paren", expr, span: this.upTo(open) };
      },
    },
    { ALT: () => this.SUBRULE(this.listLit) },
    { ALT: () => this.SUBRULE(this.objectLit) },
  ];

  /** `.name` (an AnyWord token) or `[expr]` (an Expr). */
  private postfixAlts: IOrAlt<IToken | A.Expr>[] = [
    {
      ALT: () => {
        this.CONSUME(T.Dot);
        return this.CONSUME(T.AnyWord, { ERR_MSG: "an attribute name after `.`" });
      },
    },
    {
      ALT: () => {
        this.CONSUME(T.LBracket);
        const index = this.SUBRULE2(this.expression);
        this.CONSUME(T.RBracket, { ERR_MSG: "`]` after the index" });
        return index;
      },
    },
  ];

  /** Unary minus, an atom, then `.name` / `[index]`; also the PATH of `by`, `having distinct`, `then`. */
  operand = this.RULE(
    "operand",
    (): A.Expr => {
      let minus: IToken[] | undefined;
      this.MANY(() => {
        (minus ??= []).push(this.CONSUME(T.Minus));
      });
      let e = this.OR({ DEF: this.atomAlts, ERR_MSG: "an expression" });
      this.MANY2(() => {
        const p = this.OR2(this.postfixAlts);
        if (this.RECORDING_PHASE) return;
        if ((p as IToken).tokenType !== undefined) {
          const prop = p as IToken;
          const propertySpan = this.tokSpan(prop);
          e = { kind: "Member", object: e, property: prop.image, propertySpan, span: joinSpans(e.span, propertySpan) };
        } else {
          e = { kind: "Index", object: e, index: p as A.Expr, span: this.upTo(e.span) };
        }
      });
      if (minus === undefined || this.RECORDING_PHASE) return e;
      let i = minus.length - 1;
      // `-3` is a number literal, raw "-3", as the author wrote it.
      if (e.kind === "Number" && !e.raw.startsWith("-")) {
        e = { kind: "Number", value: -e.value, raw: `-${e.raw}`, span: joinSpans(this.tokSpan(minus[i]!), e.span) };
        i--;
      }
      for (; i >= 0; i--) e = { kind: "Unary", op: "-", operand: e, span: joinSpans(this.tokSpan(minus[i]!), e.span) };
      return e;
    },
    { resyncEnabled: false },
  );

  callArgs = this.RULE(
    "callArgs",
    (): A.Expr[] => {
      const args: A.Expr[] = [];
      let more = true;
      this.CONSUME(T.LParen);
      this.MANY({
        GATE: () => more,
        DEF: () => {
          args.push(this.SUBRULE(this.expression));
          more = this.OPTION(() => this.CONSUME(T.Comma)) !== undefined || this.missingComma(T.RParen, "`,` or `)`", this.startsExpression);
        },
      });
      this.CONSUME(T.RParen, { ERR_MSG: "`,` or `)`" });
      return args;
    },
    { resyncEnabled: false },
  );

  listLit = this.RULE(
    "listLit",
    (): A.ListLit => {
      const items: A.Expr[] = [];
      let more = true;
      const open = this.tokSpan(this.CONSUME(T.LBracket));
      this.MANY({
        GATE: () => more,
        DEF: () => {
          items.push(this.SUBRULE(this.expression));
          more = this.OPTION(() => this.CONSUME(T.Comma)) !== undefined || this.missingComma(T.RBracket, "`,` or `]`", this.startsExpression);
        },
      });
      this.CONSUME(T.RBracket, { ERR_MSG: "`,` or `]`" });
      return { kind: "List", items, span: this.upTo(open) };
    },
    { resyncEnabled: false },
  );

  private keyAlts: IOrAlt<IToken>[] = [{ ALT: () => this.CONSUME(T.AnyWord) }, { ALT: () => this.CONSUME(T.StringLiteral) }];

  objectLit = this.RULE(
    "objectLit",
    (): A.ObjectLit => {
      const entries: A.ObjectEntry[] = [];
      const seen = new Map<string, Span>();
      let more = true;
      const open = this.tokSpan(this.CONSUME(T.LCurly, { ERR_MSG: "an object `{ ... }`" }));
      this.MANY({
        GATE: () => more,
        DEF: () => {
          const keyTok = this.OR({ DEF: this.keyAlts, ERR_MSG: "a key" });
          this.CONSUME(T.Colon, { ERR_MSG: "`:` after the key" });
          const value = this.SUBRULE(this.expression);
          if (!this.RECORDING_PHASE) {
            const quoted = keyTok.tokenType === T.StringLiteral || keyTok.tokenType === T.UnterminatedString;
            const key = quoted ? this.stringValue(keyTok) : keyTok.image;
            const keySpan = this.tokSpan(keyTok);
            const first = seen.get(key);
            if (first !== undefined) {
              this.report(diagnostic("SP1009", keySpan, { key }, { related: [{ message: "first defined here", span: first }] }));
            } else seen.set(key, keySpan);
            entries.push({ key, quoted, keySpan, value, span: joinSpans(keySpan, value.span) });
          }
          more = this.OPTION(() => this.CONSUME(T.Comma)) !== undefined || this.missingComma(T.RCurly, "`,` or `}`", this.startsEntry);
        },
      });
      this.CONSUME(T.RCurly, { ERR_MSG: "`,` or `}`" });
      return { kind: "Object", entries, span: this.upTo(open) };
    },
    { resyncEnabled: false },
  );

  /** A number where only a literal may stand (ports, counts); a leading `-` folds in. */
  numberLit = this.RULE(
    "numberLit",
    (): A.NumberLit => {
      const minus = this.OPTION(() => this.CONSUME(T.Minus));
      return this.numberNode(this.CONSUME(T.NumberLiteral, { ERR_MSG: "a number" }), minus);
    },
    { resyncEnabled: false },
  );

  stringList = this.RULE(
    "stringList",
    (): A.StringLit[] => {
      const items: A.StringLit[] = [];
      let more = true;
      this.CONSUME(T.LBracket, { ERR_MSG: "a list `[...]` of strings" });
      this.MANY({
        GATE: () => more,
        DEF: () => {
          items.push(this.stringNode(this.CONSUME(T.StringLiteral, { ERR_MSG: "a string in quotes" })));
          more = this.OPTION(() => this.CONSUME(T.Comma)) !== undefined || this.missingComma(T.RBracket, "`,` or `]`", this.startsString);
        },
      });
      this.CONSUME(T.RBracket, { ERR_MSG: "`,` or `]`" });
      return items;
    },
    { resyncEnabled: false },
  );

  numberList = this.RULE(
    "numberList",
    (): A.NumberLit[] => {
      const items: A.NumberLit[] = [];
      let more = true;
      this.CONSUME(T.LBracket, { ERR_MSG: "a list `[...]` of port numbers" });
      this.MANY({
        GATE: () => more,
        DEF: () => {
          items.push(this.SUBRULE(this.numberLit));
          more = this.OPTION(() => this.CONSUME(T.Comma)) !== undefined || this.missingComma(T.RBracket, "`,` or `]`", this.startsNumber);
        },
      });
      this.CONSUME(T.RBracket, { ERR_MSG: "`,` or `]`" });
      return items;
    },
    { resyncEnabled: false },
  );
}
