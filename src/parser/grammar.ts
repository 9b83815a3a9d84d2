/**
 * The grammar: one chevrotain EmbeddedActionsParser, built once, whose rules
 * build AST nodes (ast.ts) directly. `parse.ts` drives it per input.
 *
 * Recovery (so one pass reports every syntax error):
 * - closing brackets and a missing `{` are inserted, a stray token before
 *   an expected one is deleted (chevrotain's in-rule recovery);
 * - a broken clause is skipped to the next clause keyword or `}` and dropped
 *   (the `clause` and `testEntry` rules re-sync; nothing below them does);
 * - a broken item is dropped: the error climbs to `policyFile`, and the
 *   driver in parse.ts restarts at the next item keyword that begins a line.
 *
 * Node construction that reads sub-rule results sits in ACTION blocks:
 * chevrotain runs every rule once with placeholder values to record the
 * grammar, and those must not reach code that expects nodes.
 */
import { EmbeddedActionsParser, EOF, type IToken, type TokenType } from "chevrotain";
import type * as A from "./ast.js";
import { joinSpans, SourceText, type Span } from "./span.js";
import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.js";
import { errorMessageProvider } from "./messages.js";
import { placeClauses, type BlockKind } from "./placement.js";
import * as T from "./tokens.js";

export type AnyClause =
  | A.TagsClause
  | A.WhenClause
  | A.UnlessClause
  | A.RequireClause
  | A.RequireMfaClause
  | A.RequireKeyAgeClause
  | A.RequireCipherClause
  | A.RequireTeeClause
  | A.RequireAadClause
  | A.NetworkClause
  | A.ListenPortClause
  | A.KeepaliveClause
  | A.ConnectClause
  | A.SeverityClause
  | A.WhereClause
  | A.ByClause
  | A.HavingClause
  | A.SequenceClause
  | A.ThenRiskClause
  | A.ThenQuarantineClause;

/** A clause as the general clause rule reads it, before its block checks placement. */
export interface ParsedClause {
  clause: AnyClause;
  /** How the clause is named in messages: `require cipher`, `where`, ... */
  keyword: string;
  keywordSpan: Span;
}

export interface ClauseBlock {
  clauses: ParsedClause[];
}

type TestEntry = { input: A.TestInput } | { expect: A.Expectation };

const NAME_AFTER: Record<string, string> = {
  allow: "a rule name in quotes after `allow`",
  deny: "a rule name in quotes after `deny`",
  mesh: "a mesh name in quotes after `mesh`",
  detect: "a rule name in quotes after `detect`",
  test: "a test name in quotes after `test`",
};

/** Token types chevrotain may invent to recover (never a name, string or number). */
const INSERTABLE = new Set<TokenType>([T.RCurly, T.RBracket, T.RParen, T.LCurly, T.Colon, T.Assign]);

export class PolicyParser extends EmbeddedActionsParser {
  /** Per input: set by parse.ts before each run. */
  fileName = "";
  text = "";
  diags: Diagnostic[] = [];
  items: (A.Item | A.PackageDecl)[] = [];
  /** The token an item failed at, when the error climbed to `policyFile`. */
  bailedAt: IToken | null = null;
  private source: SourceText | null = null;

  constructor() {
    super(T.ALL_TOKENS, { recoveryEnabled: true, maxLookahead: 3, errorMessageProvider });
    this.performSelfAnalysis();
  }

  /** Reset for a new input. */
  begin(text: string, file: string, tokens: IToken[]): void {
    this.fileName = file;
    this.text = text;
    this.source = null;
    this.diags = [];
    this.items = [];
    this.bailedAt = null;
    this.input = tokens;
  }

  /** Index of the next token to read (for the driver's restarts). */
  get position(): number {
    return (this as unknown as { exportLexerState(): number }).exportLexerState() + 1;
  }
  set position(idx: number) {
    (this as unknown as { importLexerState(i: number): void }).importLexerState(idx - 1);
  }

  override canTokenTypeBeInsertedInRecovery(tokType: TokenType): boolean {
    return INSERTABLE.has(tokType);
  }

  // ------------------------------------------------------------- spans

  /** A zero-width span at the end of the text. */
  endOfText(): Span {
    this.source ??= new SourceText(this.fileName, this.text);
    return this.source.span(this.text.length, this.text.length);
  }

  /** The span of a token; an invented one (recovery) or EOF is zero-width where it would be. */
  tokSpan(t: IToken): Span {
    if (!Number.isNaN(t.startOffset) && t.tokenType !== EOF && t.startOffset >= 0) {
      const line = t.startLine ?? 1;
      const column = t.startColumn ?? 1;
      return { file: this.fileName, start: t.startOffset, end: t.startOffset + t.image.length, line, column, endLine: line, endColumn: column + t.image.length };
    }
    if (t.tokenType === EOF) return this.endOfText();
    return this.afterLast();
  }

  /** A zero-width span just after the last token read. */
  private afterLast(): Span {
    const prev = this.LA(0);
    if (prev.tokenType === EOF || Number.isNaN(prev.startOffset) || prev.startOffset < 0) {
      return { file: this.fileName, start: 0, end: 0, line: 1, column: 1, endLine: 1, endColumn: 1 };
    }
    const s = this.tokSpan(prev);
    return { ...s, start: s.end, line: s.endLine, column: s.endColumn };
  }

  /** The span of the last real token read. */
  private last(): Span {
    const prev = this.LA(0);
    if (prev.tokenType === EOF || Number.isNaN(prev.startOffset) || prev.startOffset < 0) return this.afterLast();
    return this.tokSpan(prev);
  }

  /** From `start` to the end of the last token read. */
  private upTo(start: Span): Span {
    return joinSpans(start, this.last());
  }

  private report(d: Diagnostic): void {
    this.diags.push(d);
  }

  // ------------------------------------------------------------- literals

  private stringNode(t: IToken): A.StringLit {
    return { kind: "String", value: typeof t.payload === "string" ? t.payload : "", span: this.tokSpan(t) };
  }

  private numberNode(t: IToken, minus: IToken | null): A.NumberLit {
    const value = typeof t.payload === "number" ? t.payload : 0;
    const span = this.tokSpan(t);
    if (minus === null) return { kind: "Number", value, raw: t.image, span };
    return { kind: "Number", value: -value, raw: `-${t.image}`, span: joinSpans(this.tokSpan(minus), span) };
  }

  private durationNode(t: IToken): A.DurationLit {
    return { kind: "Duration", ms: typeof t.payload === "number" ? t.payload : 0, raw: t.image, span: this.tokSpan(t) };
  }

  /** A malformed numeric token reads as a duration when it has a unit letter. */
  private numericNode(t: IToken): A.NumberLit | A.DurationLit {
    if (t.tokenType === T.Duration) return this.durationNode(t);
    if (t.tokenType === T.MalformedNumber && /[a-z]/i.test(t.image)) return this.durationNode(t);
    return this.numberNode(t, null);
  }

  // ------------------------------------------------------------- top level

  policyFile = this.RULE(
    "policyFile",
    () => {
      this.MANY(() => {
        const item = this.SUBRULE(this.item);
        this.ACTION(() => {
          if (item) this.items.push(item);
        });
      });
    },
    {
      recoveryValueFunc: (e) => {
        this.bailedAt = e.token;
        return undefined;
      },
    },
  );

  item = this.RULE(
    "item",
    (): A.Item | A.PackageDecl | null =>
      this.OR([
        { ALT: () => this.SUBRULE(this.packageDecl) },
        { ALT: () => this.SUBRULE(this.schemaDecl) },
        { ALT: () => this.SUBRULE(this.constDecl) },
        { ALT: () => this.SUBRULE(this.accessRule) },
        { ALT: () => this.SUBRULE(this.encryptionRule) },
        { ALT: () => this.SUBRULE(this.meshBlock) },
        { ALT: () => this.SUBRULE(this.detectRule) },
        { ALT: () => this.SUBRULE(this.testBlock) },
      ]),
    { resyncEnabled: false },
  );

  packageDecl = this.RULE(
    "packageDecl",
    (): A.PackageDecl => {
      const start = this.tokSpan(this.CONSUME(T.Package));
      let name = this.CONSUME(T.AnyWord, { ERR_MSG: "a package name after `package`" }).image;
      this.MANY(() => {
        this.CONSUME(T.Dot);
        name += "." + this.CONSUME2(T.AnyWord, { ERR_MSG: "a name after `.`" }).image;
      });
      return { kind: "Package", name, span: this.upTo(start) };
    },
    { resyncEnabled: false },
  );

  schemaDecl = this.RULE(
    "schemaDecl",
    (): A.SchemaDecl => {
      const start = this.tokSpan(this.CONSUME(T.Schema));
      const kind = this.CONSUME(T.AnyWord, { ERR_MSG: "an input kind (`access`, `encryption`, `mesh` or `event`) after `schema`" });
      const kindSpan = this.tokSpan(kind);
      const path = this.stringNode(this.CONSUME(T.StringLiteral, { ERR_MSG: "the schema file's path in quotes" }));
      return { kind: "Schema", inputKind: kind.image, inputKindSpan: kindSpan, path, span: this.upTo(start) };
    },
    { resyncEnabled: false },
  );

  constDecl = this.RULE(
    "constDecl",
    (): A.ConstDecl => {
      const start = this.tokSpan(this.CONSUME(T.Const));
      const name = this.CONSUME(T.Identifier, { ERR_MSG: "a name after `const`" });
      const nameSpan = this.tokSpan(name);
      this.CONSUME(T.Assign, { ERR_MSG: "`=` after the const name" });
      const value = this.SUBRULE(this.expression);
      return this.ACTION(() => ({ kind: "Const", name: name.image, nameSpan, value, span: this.upTo(start) }));
    },
    { resyncEnabled: false },
  );

  accessRule = this.RULE(
    "accessRule",
    (): A.AccessRule => {
      const kw = this.OR([{ ALT: () => this.CONSUME(T.Allow) }, { ALT: () => this.CONSUME(T.Deny) }]);
      const start = this.tokSpan(kw);
      const effect = kw.image === "deny" ? "deny" : "allow";
      const nameTok = this.CONSUME(T.StringLiteral, { ERR_MSG: NAME_AFTER[effect]! });
      const name = this.stringNode(nameTok);
      const body = this.SUBRULE(this.clauseBlock);
      return this.ACTION(() => ({
        kind: "AccessRule",
        effect,
        name: name.value,
        nameSpan: name.span,
        clauses: this.place(body.clauses, effect) as A.AccessClause[],
        span: this.upTo(start),
      }));
    },
    { resyncEnabled: false },
  );

  encryptionRule = this.RULE(
    "encryptionRule",
    (): A.EncryptionRule => {
      const start = this.tokSpan(this.CONSUME(T.Encryption));
      const nameTok = this.OR(
        { DEF: [{ ALT: () => this.CONSUME(T.StringLiteral) }, { ALT: () => this.CONSUME(T.Default) }], ERR_MSG: "a rule name in quotes or `default` after `encryption`" }
      );
      const isDefault = nameTok.tokenType === T.Default;
      const nameSpan = this.tokSpan(nameTok);
      const name = isDefault ? null : this.stringNode(nameTok).value;
      const body = this.SUBRULE(this.clauseBlock);
      return this.ACTION(() => ({
        kind: "EncryptionRule",
        name,
        nameSpan,
        clauses: this.place(body.clauses, "encryption") as A.EncryptionClause[],
        span: this.upTo(start),
      }));
    },
    { resyncEnabled: false },
  );

  meshBlock = this.RULE(
    "meshBlock",
    (): A.MeshBlock => {
      const start = this.tokSpan(this.CONSUME(T.Mesh));
      const name = this.stringNode(this.CONSUME(T.StringLiteral, { ERR_MSG: NAME_AFTER["mesh"]! }));
      const body = this.SUBRULE(this.clauseBlock);
      return this.ACTION(() => ({
        kind: "Mesh",
        name: name.value,
        nameSpan: name.span,
        clauses: this.place(body.clauses, "mesh") as A.MeshClause[],
        span: this.upTo(start),
      }));
    },
    { resyncEnabled: false },
  );

  detectRule = this.RULE(
    "detectRule",
    (): A.DetectRule => {
      const start = this.tokSpan(this.CONSUME(T.Detect));
      const name = this.stringNode(this.CONSUME(T.StringLiteral, { ERR_MSG: NAME_AFTER["detect"]! }));
      const body = this.SUBRULE(this.clauseBlock);
      return this.ACTION(() => ({
        kind: "Detect",
        name: name.value,
        nameSpan: name.span,
        clauses: this.place(body.clauses, "detect") as A.DetectClause[],
        span: this.upTo(start),
      }));
    },
    { resyncEnabled: false },
  );

  clauseBlock = this.RULE(
    "clauseBlock",
    (): ClauseBlock => {
      const clauses: ParsedClause[] = [];
      this.CONSUME(T.LCurly, { ERR_MSG: "`{` after the rule name" });
      this.MANY(() => {
        const c = this.SUBRULE(this.clause);
        if (c) clauses.push(c);
      });
      this.CONSUME(T.RCurly, { ERR_MSG: "a clause or `}`" });
      return { clauses };
    },
    { resyncEnabled: false },
  );

  // ------------------------------------------------------------- clauses

  clause = this.RULE(
    "clause",
    (): ParsedClause | null =>
      this.OR([
        { ALT: () => this.SUBRULE(this.tagsClause) },
        {
          ALT: () => {
            const kw = this.CONSUME(T.When);
            const expr = this.SUBRULE(this.expression);
            return this.ACTION(() => this.made({ kind: "When", expr, span: this.upTo(this.tokSpan(kw)) }, kw));
          },
        },
        {
          ALT: () => {
            const kw = this.CONSUME(T.Unless);
            const expr = this.SUBRULE2(this.expression);
            return this.ACTION(() => this.made({ kind: "Unless", expr, span: this.upTo(this.tokSpan(kw)) }, kw));
          },
        },
        { ALT: () => this.SUBRULE(this.requireClause) },
        {
          ALT: () => {
            const kw = this.CONSUME(T.Network);
            const cidr = this.stringNode(this.CONSUME(T.StringLiteral, { ERR_MSG: "a network in quotes such as \"100.64.0.0/10\"" }));
            return this.made({ kind: "Network", cidr, span: this.upTo(this.tokSpan(kw)) }, kw);
          },
        },
        {
          ALT: () => {
            const kw = this.CONSUME(T.ListenPort);
            const port = this.SUBRULE(this.numberLit);
            return this.ACTION(() => this.made({ kind: "ListenPort", port, span: this.upTo(this.tokSpan(kw)) }, kw));
          },
        },
        {
          ALT: () => {
            const kw = this.CONSUME(T.Keepalive);
            const interval = this.durationNode(this.CONSUME(T.DurationLiteral, { ERR_MSG: "a duration such as `25s`" }));
            return this.made({ kind: "Keepalive", interval, span: this.upTo(this.tokSpan(kw)) }, kw);
          },
        },
        { ALT: () => this.SUBRULE(this.connectClause) },
        {
          ALT: () => {
            const kw = this.CONSUME(T.SeverityKw);
            const level = this.CONSUME(T.AnyWord, { ERR_MSG: "a severity (`low`, `medium`, `high` or `critical`)" });
            return this.made({ kind: "Severity", level: level.image, levelSpan: this.tokSpan(level), span: this.upTo(this.tokSpan(kw)) }, kw);
          },
        },
        {
          ALT: () => {
            const kw = this.CONSUME(T.Where);
            const expr = this.SUBRULE3(this.expression);
            return this.ACTION(() => this.made({ kind: "Where", expr, span: this.upTo(this.tokSpan(kw)) }, kw));
          },
        },
        { ALT: () => this.SUBRULE(this.byClause) },
        { ALT: () => this.SUBRULE(this.havingClause) },
        { ALT: () => this.SUBRULE(this.sequenceClause) },
        { ALT: () => this.SUBRULE(this.thenClause) },
      ]),
    { recoveryValueFunc: () => null },
  );

  private made(clause: AnyClause, kw: IToken, keyword?: string, keywordSpan?: Span): ParsedClause {
    return { clause, keyword: keyword ?? kw.image, keywordSpan: keywordSpan ?? this.tokSpan(kw) };
  }

  tagsClause = this.RULE(
    "tagsClause",
    (): ParsedClause => {
      const kw = this.CONSUME(T.Tags);
      const tags = this.SUBRULE(this.stringList);
      return this.ACTION(() => this.made({ kind: "Tags", tags, span: this.upTo(this.tokSpan(kw)) }, kw));
    },
    { resyncEnabled: false },
  );

  requireClause = this.RULE(
    "requireClause",
    (): ParsedClause => {
      const kw = this.CONSUME(T.Require);
      const start = this.tokSpan(kw);
      const sub = (t: IToken, name: string) => ({ keyword: `require ${name}`, keywordSpan: joinSpans(start, this.tokSpan(t)) });
      const made = (c: AnyClause, k: { keyword: string; keywordSpan: Span }): ParsedClause => ({ clause: c, ...k });
      return this.OR(
        { DEF: [
          {
            ALT: () => {
              const t = this.CONSUME(T.Mfa);
              let within: A.DurationLit | null = null;
              this.OPTION(() => {
                this.CONSUME(T.Within);
                within = this.durationNode(this.CONSUME(T.DurationLiteral, { ERR_MSG: "a duration such as `15m` after `within`" }));
              });
              return made({ kind: "RequireMfa", within, span: this.upTo(start) }, sub(t, "mfa"));
            },
          },
          {
            ALT: () => {
              const t = this.CONSUME(T.Cipher);
              const cipher = this.stringNode(this.CONSUME2(T.StringLiteral, { ERR_MSG: "a cipher name in quotes such as \"aes-256-gcm\"" }));
              return made({ kind: "RequireCipher", cipher, span: this.upTo(start) }, sub(t, "cipher"));
            },
          },
          {
            ALT: () => {
              const t = this.CONSUME(T.KeyAge);
              this.CONSUME2(T.Within, { ERR_MSG: "`within` after `key_age`" });
              const within = this.durationNode(this.CONSUME2(T.DurationLiteral, { ERR_MSG: "a duration such as `90d` after `within`" }));
              let message: A.StringLit | null = null;
              this.OPTION2(() => {
                this.CONSUME(T.Else);
                message = this.stringNode(this.CONSUME3(T.StringLiteral, { ERR_MSG: "a message in quotes after `else`" }));
              });
              return made({ kind: "RequireKeyAge", within, message, span: this.upTo(start) }, sub(t, "key_age"));
            },
          },
          {
            ALT: () => {
              const t = this.CONSUME(T.Tee);
              return made({ kind: "RequireTee", span: this.upTo(start) }, sub(t, "tee"));
            },
          },
          {
            ALT: () => {
              const t = this.CONSUME(T.Aad);
              const fields = this.SUBRULE(this.stringList);
              return this.ACTION(() => made({ kind: "RequireAad", fields, span: this.upTo(start) }, sub(t, "aad")));
            },
          },
          {
            ALT: () => {
              const expr = this.SUBRULE(this.expression);
              let message: A.StringLit | null = null;
              this.OPTION3(() => {
                this.CONSUME2(T.Else);
                message = this.stringNode(this.CONSUME4(T.StringLiteral, { ERR_MSG: "a message in quotes after `else`" }));
              });
              return this.ACTION(() => made({ kind: "Require", expr, message, span: this.upTo(start) }, { keyword: "require", keywordSpan: start }));
            },
          },
        ],
        ERR_MSG: "`mfa`, `cipher`, `key_age`, `tee`, `aad` or a condition after `require`",
        // `mfa`, `tee`, `aad`... are soft keywords, so a condition could start with
        // them too; the keyword forms come first and win.
        IGNORE_AMBIGUITIES: true,
      });
    },
    { resyncEnabled: false },
  );

  connectClause = this.RULE(
    "connectClause",
    (): ParsedClause => {
      const kw = this.CONSUME(T.Connect);
      const from = this.stringNode(this.CONSUME(T.StringLiteral, { ERR_MSG: "a node tag in quotes after `connect`" }));
      const arrow = this.OR(
        { DEF: [{ ALT: () => this.CONSUME(T.Arrow) }, { ALT: () => this.CONSUME(T.BiArrow) }], ERR_MSG: "`->` or `<->`" }
      );
      const to = this.stringNode(this.CONSUME2(T.StringLiteral, { ERR_MSG: "a node tag in quotes" }));
      let ports: A.NumberLit[] | null = null;
      this.OPTION(() => {
        this.CONSUME(T.Ports);
        ports = this.SUBRULE(this.numberList);
      });
      return this.ACTION(() =>
        this.made({ kind: "Connect", from, to, bidirectional: arrow.tokenType === T.BiArrow, ports, span: this.upTo(this.tokSpan(kw)) }, kw),
      );
    },
    { resyncEnabled: false },
  );

  byClause = this.RULE(
    "byClause",
    (): ParsedClause => {
      const kw = this.CONSUME(T.By);
      const fields: A.Expr[] = [];
      fields.push(this.SUBRULE(this.postfix));
      this.MANY(() => {
        this.CONSUME(T.Comma);
        fields.push(this.SUBRULE2(this.postfix));
      });
      this.CONSUME(T.Within, { ERR_MSG: "`,` or `within` after the grouping fields" });
      const within = this.durationNode(this.CONSUME(T.DurationLiteral, { ERR_MSG: "a duration such as `10m` after `within`" }));
      return this.ACTION(() => this.made({ kind: "By", fields, within, span: this.upTo(this.tokSpan(kw)) }, kw));
    },
    { resyncEnabled: false },
  );

  havingClause = this.RULE(
    "havingClause",
    (): ParsedClause => {
      const kw = this.CONSUME(T.Having);
      let aggregate: "count" | "distinct" = "count";
      let field: A.Expr | null = null;
      this.OR(
        { DEF: [
          { ALT: () => this.CONSUME(T.Count) },
          {
            ALT: () => {
              this.CONSUME(T.Distinct);
              aggregate = "distinct";
              field = this.SUBRULE(this.postfix);
            },
          },
        ], ERR_MSG: "`count` or `distinct` after `having`" }
      );
      const op = this.CONSUME(T.CompareOp);
      const value = this.SUBRULE(this.coalesceExpr);
      return this.ACTION(() =>
        this.made({ kind: "Having", aggregate, field, op: op.image as A.CompareOp, value, span: this.upTo(this.tokSpan(kw)) }, kw),
      );
    },
    { resyncEnabled: false },
  );

  sequenceClause = this.RULE(
    "sequenceClause",
    (): ParsedClause => {
      const kw = this.OR([{ ALT: () => this.CONSUME(T.Sequence) }, { ALT: () => this.CONSUME(T.All) }]);
      const steps: A.SequenceStep[] = [];
      const seen = new Map<string, Span>();
      this.CONSUME(T.LCurly, { ERR_MSG: `\`{\` after \`${kw.image}\`` });
      this.MANY(() => {
        const name = this.CONSUME(T.Identifier, { ERR_MSG: "a step name" });
        this.CONSUME(T.Colon, { ERR_MSG: "`:` after the step name" });
        const expr = this.SUBRULE(this.expression);
        let count: A.SequenceStep["count"] = null;
        this.OPTION(() => {
          const c = this.CONSUME(T.Count);
          const op = this.CONSUME(T.CompareOp);
          const value = this.SUBRULE(this.coalesceExpr);
          count = this.ACTION(() => ({ op: op.image as A.CompareOp, value, span: this.upTo(this.tokSpan(c)) }));
        });
        this.ACTION(() => {
          const nameSpan = this.tokSpan(name);
          steps.push({ kind: "Step", name: name.image, nameSpan, expr, count, span: this.upTo(nameSpan) });
          seen.set(name.image, nameSpan);
        });
      });
      this.CONSUME(T.RCurly, { ERR_MSG: "a step (`name: condition`) or `}`" });
      return this.made({ kind: "Sequence", ordered: kw.tokenType === T.Sequence, steps, span: this.upTo(this.tokSpan(kw)) }, kw);
    },
    { resyncEnabled: false },
  );

  thenClause = this.RULE(
    "thenClause",
    (): ParsedClause => {
      const kw = this.CONSUME(T.Then);
      const start = this.tokSpan(kw);
      return this.OR(
        { DEF: [
          {
            ALT: () => {
              const t = this.CONSUME(T.Risk);
              const target = this.SUBRULE(this.postfix);
              this.CONSUME(T.Plus, { ERR_MSG: "`+` and the amount after the entity" });
              const amount = this.SUBRULE(this.coalesceExpr);
              const duration = this.SUBRULE(this.forDuration);
              return this.ACTION(() => ({
                clause: { kind: "ThenRisk", target, amount, duration, span: this.upTo(start) } as AnyClause,
                keyword: "then risk",
                keywordSpan: joinSpans(start, this.tokSpan(t)),
              }));
            },
          },
          {
            ALT: () => {
              const t = this.CONSUME(T.Quarantine);
              const target = this.SUBRULE2(this.postfix);
              const duration = this.SUBRULE2(this.forDuration);
              return this.ACTION(() => ({
                clause: { kind: "ThenQuarantine", target, duration, span: this.upTo(start) } as AnyClause,
                keyword: "then quarantine",
                keywordSpan: joinSpans(start, this.tokSpan(t)),
              }));
            },
          },
        ], ERR_MSG: "`risk` or `quarantine` after `then`" }
      );
    },
    { resyncEnabled: false },
  );

  forDuration = this.RULE(
    "forDuration",
    (): A.DurationLit | null => {
      let d: A.DurationLit | null = null;
      this.OPTION(() => {
        this.CONSUME(T.For);
        d = this.durationNode(this.CONSUME(T.DurationLiteral, { ERR_MSG: "a duration such as `1h` after `for`" }));
      });
      return d;
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
          more = this.OPTION(() => this.CONSUME(T.Comma)) !== undefined;
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
          const n = this.SUBRULE(this.numberLit);
          this.ACTION(() => items.push(n));
          more = this.OPTION(() => this.CONSUME(T.Comma)) !== undefined;
        },
      });
      this.CONSUME(T.RBracket, { ERR_MSG: "`,` or `]`" });
      return items;
    },
    { resyncEnabled: false },
  );

  /** A number literal where only a literal may stand (ports, counts): `-` folds in. */
  numberLit = this.RULE(
    "numberLit",
    (): A.NumberLit => {
      const minus = this.OPTION(() => this.CONSUME(T.Minus)) ?? null;
      const t = this.CONSUME(T.NumberLiteral, { ERR_MSG: "a number" });
      return this.numberNode(t, minus);
    },
    { resyncEnabled: false },
  );

  // ------------------------------------------------------------- tests

  testBlock = this.RULE(
    "testBlock",
    (): A.TestBlock => {
      const kw = this.CONSUME(T.Test);
      const start = this.tokSpan(kw);
      const name = this.stringNode(this.CONSUME(T.StringLiteral, { ERR_MSG: NAME_AFTER["test"]! }));
      const entries: TestEntry[] = [];
      this.CONSUME(T.LCurly, { ERR_MSG: "`{` after the test name" });
      this.MANY(() => {
        const e = this.SUBRULE(this.testEntry);
        if (e) entries.push(e);
      });
      this.CONSUME(T.RCurly, { ERR_MSG: "`access`, `encryption`, `mesh`, `events`, `expect` or `}`" });
      return this.ACTION(() => this.buildTest(start, name, entries));
    },
    { resyncEnabled: false },
  );

  testEntry = this.RULE(
    "testEntry",
    (): TestEntry | null =>
      this.OR([
        {
          ALT: () => {
            const kw = this.OR2([
              { ALT: () => this.CONSUME(T.Access) },
              { ALT: () => this.CONSUME(T.Encryption) },
              { ALT: () => this.CONSUME(T.Mesh) },
            ]);
            const value = this.SUBRULE(this.objectLit);
            return this.ACTION(() => ({
              input: { kind: "TestInput", inputKind: kw.image as A.TestInputKind, value, span: this.upTo(this.tokSpan(kw)) } as A.TestInput,
            }));
          },
        },
        {
          ALT: () => {
            const kw = this.CONSUME(T.Events);
            const value = this.OR3({
              DEF: [
                { ALT: () => this.stringNode(this.CONSUME(T.StringLiteral)) as A.Expr },
                { ALT: () => this.SUBRULE(this.listLit) },
              ],
              ERR_MSG: "a JSONL file path in quotes or a list of events after `events`",
            });
            return this.ACTION(() => ({
              input: { kind: "TestInput", inputKind: "events", value, span: this.upTo(this.tokSpan(kw)) } as A.TestInput,
            }));
          },
        },
        { ALT: () => this.SUBRULE(this.expectation) },
      ]),
    { recoveryValueFunc: () => null },
  );

  expectation = this.RULE(
    "expectation",
    (): TestEntry => {
      const kw = this.CONSUME(T.Expect);
      const start = this.tokSpan(kw);
      const decision = (t: IToken): TestEntry => ({
        expect: { kind: "ExpectDecision", decision: t.image as A.ExpectedDecision, span: this.upTo(start) },
      });
      return this.OR(
        { DEF: [
          { ALT: () => decision(this.CONSUME(T.Allow)) },
          { ALT: () => decision(this.CONSUME(T.Deny)) },
          { ALT: () => decision(this.CONSUME(T.Challenge)) },
          { ALT: () => decision(this.CONSUME(T.Admit)) },
          { ALT: () => decision(this.CONSUME(T.Reject)) },
          {
            ALT: () => {
              this.CONSUME(T.Alert);
              const rule = this.stringNode(this.CONSUME(T.StringLiteral, { ERR_MSG: "the detect rule's name in quotes after `alert`" }));
              let count: A.NumberLit | null = null;
              this.OPTION(() => {
                this.CONSUME(T.Count);
                count = this.SUBRULE(this.numberLit);
              });
              return this.ACTION(() => ({ expect: { kind: "ExpectAlert", rule, count, span: this.upTo(start) } as A.Expectation }));
            },
          },
          {
            ALT: () => {
              this.CONSUME(T.No);
              this.CONSUME2(T.Alert, { ERR_MSG: "`alert` after `expect no`" });
              return { expect: { kind: "ExpectNoAlert", span: this.upTo(start) } as A.Expectation };
            },
          },
          {
            ALT: () => {
              const expr = this.SUBRULE(this.expression);
              return this.ACTION(() => ({ expect: { kind: "ExpectExpr", expr, span: this.upTo(start) } as A.Expectation }));
            },
          },
        ], ERR_MSG: "`allow`, `deny`, `challenge`, `admit`, `reject`, `alert`, `no alert` or a condition after `expect`",
          IGNORE_AMBIGUITIES: true }
      );
    },
    { resyncEnabled: false },
  );

  private buildTest(start: Span, name: A.StringLit, entries: TestEntry[]): A.TestBlock {
    let input: A.TestInput | null = null;
    const expects: A.Expectation[] = [];
    for (const e of entries) {
      if ("input" in e) {
        if (input === null) input = e.input;
        else {
          this.report(
            diagnostic(
              "SP1011",
              e.input.span,
              { clause: "input", block: `test "${name.value}"` },
              { hint: "a test gives one input; split it into two tests", related: [{ message: "the first input", span: input.span }] },
            ),
          );
        }
      } else expects.push(e.expect);
    }
    const span = this.upTo(start);
    if (input === null) {
      this.report(
        diagnostic(
          "SP1012",
          joinSpans(start, name.span),
          { clause: "input", block: `test "${name.value}"` },
          { hint: "give the test one input: `access { ... }`, `encryption { ... }`, `mesh { ... }` or `events ...`" },
        ),
      );
    }
    return { kind: "Test", name: name.value, nameSpan: name.span, input, expects, span };
  }

  // ------------------------------------------------------------- expressions

  expression = this.RULE("expression", (): A.Expr => this.SUBRULE(this.orExpr), { resyncEnabled: false });

  orExpr = this.RULE(
    "orExpr",
    (): A.Expr => {
      let left = this.SUBRULE(this.andExpr);
      this.MANY(() => {
        const op = this.CONSUME(T.Or);
        const right = this.SUBRULE2(this.andExpr);
        left = this.ACTION(() => this.binary("or", op, left, right));
      });
      return left;
    },
    { resyncEnabled: false },
  );

  andExpr = this.RULE(
    "andExpr",
    (): A.Expr => {
      let left = this.SUBRULE(this.notExpr);
      this.MANY(() => {
        const op = this.CONSUME(T.And);
        const right = this.SUBRULE2(this.notExpr);
        left = this.ACTION(() => this.binary("and", op, left, right));
      });
      return left;
    },
    { resyncEnabled: false },
  );

  notExpr = this.RULE(
    "notExpr",
    (): A.Expr => {
      const nots: IToken[] = [];
      this.MANY(() => {
        nots.push(this.CONSUME(T.Not));
      });
      const operand = this.SUBRULE(this.compareExpr);
      return this.ACTION(() => {
        let e = operand;
        for (let i = nots.length - 1; i >= 0; i--) {
          e = { kind: "Unary", op: "not", operand: e, span: joinSpans(this.tokSpan(nots[i]!), e.span) };
        }
        return e;
      });
    },
    { resyncEnabled: false },
  );

  compareExpr = this.RULE(
    "compareExpr",
    (): A.Expr => {
      let left = this.SUBRULE(this.coalesceExpr);
      let first: A.Expr | null = null;
      this.MANY(() => {
        this.OR([
          {
            ALT: () => {
              const op = this.CONSUME(T.RelOp);
              const right = this.SUBRULE2(this.coalesceExpr);
              this.ACTION(() => {
                this.noChain(first, op);
                first = left = this.binary(op.image as A.BinaryOp, op, left, right);
              });
            },
          },
          {
            ALT: () => {
              const op = this.CONSUME(T.Has);
              const name = this.OR2({
                DEF: [{ ALT: () => this.CONSUME(T.AnyWord) }, { ALT: () => this.CONSUME(T.StringLiteral) }],
                ERR_MSG: "an attribute name after `has`",
              });
              this.ACTION(() => {
                this.noChain(first, op);
                const isString = name.tokenType === T.StringLiteral || name.tokenType === T.UnterminatedString;
                const nameSpan = this.tokSpan(name);
                first = left = {
                  kind: "Has",
                  object: left,
                  name: isString ? this.stringNode(name).value : name.image,
                  nameSpan,
                  span: joinSpans(left.span, nameSpan),
                };
              });
            },
          },
        ]);
      });
      return left;
    },
    { resyncEnabled: false },
  );

  /** `a < b < c`: comparisons do not chain (SP1007), reported at the second operator. */
  private noChain(first: A.Expr | null, op: IToken): void {
    if (first === null) return;
    this.report(diagnostic("SP1007", joinSpans(first.span, this.tokSpan(op))));
  }

  coalesceExpr = this.RULE(
    "coalesceExpr",
    (): A.Expr => {
      let left = this.SUBRULE(this.additiveExpr);
      this.MANY(() => {
        const op = this.CONSUME(T.Coalesce);
        const right = this.SUBRULE2(this.additiveExpr);
        left = this.ACTION(() => this.binary("??", op, left, right));
      });
      return left;
    },
    { resyncEnabled: false },
  );

  additiveExpr = this.RULE(
    "additiveExpr",
    (): A.Expr => {
      let left = this.SUBRULE(this.multiplicativeExpr);
      this.MANY(() => {
        const op = this.CONSUME(T.AddOp);
        const right = this.SUBRULE2(this.multiplicativeExpr);
        left = this.ACTION(() => this.binary(op.image as A.BinaryOp, op, left, right));
      });
      return left;
    },
    { resyncEnabled: false },
  );

  multiplicativeExpr = this.RULE(
    "multiplicativeExpr",
    (): A.Expr => {
      let left = this.SUBRULE(this.unaryExpr);
      this.MANY(() => {
        const op = this.CONSUME(T.MulOp);
        const right = this.SUBRULE2(this.unaryExpr);
        left = this.ACTION(() => this.binary(op.image as A.BinaryOp, op, left, right));
      });
      return left;
    },
    { resyncEnabled: false },
  );

  unaryExpr = this.RULE(
    "unaryExpr",
    (): A.Expr => {
      const minuses: IToken[] = [];
      this.MANY(() => {
        minuses.push(this.CONSUME(T.Minus));
      });
      const operand = this.SUBRULE(this.postfix);
      return this.ACTION(() => {
        let e = operand;
        let i = minuses.length - 1;
        // `-3` is a number literal, raw "-3" (the formatter prints it back as written).
        if (i >= 0 && e.kind === "Number" && !e.raw.startsWith("-")) {
          e = { kind: "Number", value: -e.value, raw: `-${e.raw}`, span: joinSpans(this.tokSpan(minuses[i]!), e.span) };
          i--;
        }
        for (; i >= 0; i--) {
          e = { kind: "Unary", op: "-", operand: e, span: joinSpans(this.tokSpan(minuses[i]!), e.span) };
        }
        return e;
      });
    },
    { resyncEnabled: false },
  );

  /** An atom with `.name` and `[expr]` after it; also the PATH of `by`, `having distinct`, `then`. */
  postfix = this.RULE(
    "postfix",
    (): A.Expr => {
      let e = this.SUBRULE(this.atom);
      this.MANY(() => {
        this.OR([
          {
            ALT: () => {
              this.CONSUME(T.Dot);
              const prop = this.CONSUME(T.AnyWord, { ERR_MSG: "an attribute name after `.`" });
              this.ACTION(() => {
                const propertySpan = this.tokSpan(prop);
                e = { kind: "Member", object: e, property: prop.image, propertySpan, span: joinSpans(e.span, propertySpan) };
              });
            },
          },
          {
            ALT: () => {
              this.CONSUME(T.LBracket);
              const index = this.SUBRULE(this.expression);
              this.CONSUME(T.RBracket, { ERR_MSG: "`]` after the index" });
              this.ACTION(() => {
                e = { kind: "Index", object: e, index, span: this.upTo(e.span) };
              });
            },
          },
        ]);
      });
      return e;
    },
    { resyncEnabled: false },
  );

  atom = this.RULE(
    "atom",
    (): A.Expr =>
      this.OR({
        DEF: [
          { ALT: () => this.stringNode(this.CONSUME(T.StringLiteral)) as A.Expr },
          { ALT: () => this.numericNode(this.CONSUME(T.NumberLiteral)) },
          { ALT: () => this.numericNode(this.CONSUME(T.DurationLiteral)) },
          { ALT: () => ({ kind: "Bool", value: true, span: this.tokSpan(this.CONSUME(T.True)) }) as A.Expr },
          { ALT: () => ({ kind: "Bool", value: false, span: this.tokSpan(this.CONSUME(T.False)) }) as A.Expr },
          { ALT: () => this.SUBRULE(this.nameOrCall) },
          {
            ALT: () => {
              const open = this.tokSpan(this.CONSUME(T.LParen));
              const expr = this.SUBRULE(this.expression);
              this.CONSUME(T.RParen, { ERR_MSG: "`)`" });
              return this.ACTION(() => ({ kind: "Paren", expr, span: this.upTo(open) }) as A.Expr);
            },
          },
          { ALT: () => this.SUBRULE(this.listLit) },
          { ALT: () => this.SUBRULE(this.objectLit) },
        ],
        ERR_MSG: "an expression",
      }),
    { resyncEnabled: false },
  );

  nameOrCall = this.RULE(
    "nameOrCall",
    (): A.Expr => {
      const id = this.CONSUME(T.Identifier);
      const idSpan = this.tokSpan(id);
      let args: A.Expr[] | null = null;
      this.OPTION(() => {
        args = this.SUBRULE(this.callArgs);
      });
      return this.ACTION(() => {
        if (args === null) return { kind: "Name", name: id.image, span: idSpan };
        return { kind: "Call", callee: id.image, calleeSpan: idSpan, args, span: this.upTo(idSpan) };
      });
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
          const a = this.SUBRULE(this.expression);
          this.ACTION(() => args.push(a));
          more = this.OPTION(() => this.CONSUME(T.Comma)) !== undefined;
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
          const item = this.SUBRULE(this.expression);
          this.ACTION(() => items.push(item));
          more = this.OPTION(() => this.CONSUME(T.Comma)) !== undefined;
        },
      });
      this.CONSUME(T.RBracket, { ERR_MSG: "`,` or `]`" });
      return { kind: "List", items, span: this.upTo(open) };
    },
    { resyncEnabled: false },
  );

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
          const keyTok = this.OR({ DEF: [{ ALT: () => this.CONSUME(T.AnyWord) }, { ALT: () => this.CONSUME(T.StringLiteral) }], ERR_MSG: "a key" });
          this.CONSUME(T.Colon, { ERR_MSG: "`:` after the key" });
          const value = this.SUBRULE(this.expression);
          this.ACTION(() => {
            const quoted = keyTok.tokenType === T.StringLiteral || keyTok.tokenType === T.UnterminatedString;
            const key = quoted ? this.stringNode(keyTok).value : keyTok.image;
            const keySpan = this.tokSpan(keyTok);
            const first = seen.get(key);
            if (first !== undefined) {
              this.report(diagnostic("SP1009", keySpan, { key }, { related: [{ message: "first defined here", span: first }] }));
            } else seen.set(key, keySpan);
            entries.push({ key, quoted, keySpan, value, span: joinSpans(keySpan, value.span) });
          });
          more = this.OPTION(() => this.CONSUME(T.Comma)) !== undefined;
        },
      });
      this.CONSUME(T.RCurly, { ERR_MSG: "`,` or `}`" });
      return { kind: "Object", entries, span: this.upTo(open) };
    },
    { resyncEnabled: false },
  );

  private binary(op: A.BinaryOp, opTok: IToken, left: A.Expr, right: A.Expr): A.BinaryExpr {
    return { kind: "Binary", op, opSpan: this.tokSpan(opTok), left, right, span: joinSpans(left.span, right.span) };
  }

  // ------------------------------------------------------------- placement

  /** Keep the clauses a block takes; SP1010 for the others, SP1011 for repeats. */
  private place(clauses: ParsedClause[], block: BlockKind): AnyClause[] {
    return placeClauses(clauses, block, (d) => this.report(d));
  }
}
