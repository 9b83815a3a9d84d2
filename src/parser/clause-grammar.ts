/**
 * The clauses of rule blocks (spec/LANGUAGE.md sections 4-7), read by ONE
 * general `clause` rule whatever the block; placement.ts then checks which
 * block takes which clause, so a misplaced clause gets a message a person
 * can act on ("`where` is not allowed in an `allow` rule", use `when`)
 * instead of a token dump.
 *
 * `clause` is where recovery re-syncs inside a block: a broken clause is
 * skipped to the next clause keyword or `}` and returns null.
 */
import type { IOrAlt, IToken, IParserConfig, TokenType } from "chevrotain";
import type * as A from "./ast.js";
import { joinSpans, type Span } from "./span.js";
import { ExpressionParser } from "./expression-grammar.js";
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

export class ClauseParser extends ExpressionParser {
  constructor(tokens: TokenType[], config: IParserConfig) {
    super(tokens, config);
  }

  clause = this.RULE(
    "clause",
    (): ParsedClause | null => {
      this.clearExpressionState();
      this.unitStart = this.nextIndex();
      return this.OR(this.clauseAlts);
    },
    { recoveryValueFunc: () => null },
  );

  private clauseAlts: IOrAlt<ParsedClause>[] = [
    { ALT: () => this.SUBRULE(this.tagsClause) },
    {
      ALT: () => {
        const kw = this.CONSUME(T.When);
        const expr = this.SUBRULE(this.expression);
        return this.made({ kind: "When", expr, span: this.upTo(this.tokSpan(kw)) }, kw);
      },
    },
    {
      ALT: () => {
        const kw = this.CONSUME(T.Unless);
        const expr = this.SUBRULE2(this.expression);
        return this.made({ kind: "Unless", expr, span: this.upTo(this.tokSpan(kw)) }, kw);
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
        return this.made({ kind: "ListenPort", port, span: this.upTo(this.tokSpan(kw)) }, kw);
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
        return this.made({ kind: "Where", expr, span: this.upTo(this.tokSpan(kw)) }, kw);
      },
    },
    { ALT: () => this.SUBRULE(this.byClause) },
    { ALT: () => this.SUBRULE(this.havingClause) },
    { ALT: () => this.SUBRULE(this.sequenceClause) },
    { ALT: () => this.SUBRULE(this.thenClause) },
  ];

  private made(clause: AnyClause, kw: IToken, keyword?: string, keywordSpan?: Span): ParsedClause {
    return { clause, keyword: keyword ?? kw.image, keywordSpan: keywordSpan ?? this.tokSpan(kw) };
  }

  tagsClause = this.RULE(
    "tagsClause",
    (): ParsedClause => {
      const kw = this.CONSUME(T.Tags);
      const tags = this.SUBRULE(this.stringList);
      return this.made({ kind: "Tags", tags, span: this.upTo(this.tokSpan(kw)) }, kw);
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
        // them too. The keyword forms come first and win on the first token
        // alone, so `require key_age 90d` says "expected `within`" rather than
        // reading `key_age` as a name.
        IGNORE_AMBIGUITIES: true,
        MAX_LOOKAHEAD: 1,
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
      fields.push(this.SUBRULE(this.operand));
      this.MANY(() => {
        this.CONSUME(T.Comma);
        fields.push(this.SUBRULE2(this.operand));
      });
      this.CONSUME(T.Within, { ERR_MSG: "`,` or `within` after the grouping fields" });
      const within = this.durationNode(this.CONSUME(T.DurationLiteral, { ERR_MSG: "a duration such as `10m` after `within`" }));
      return this.made({ kind: "By", fields, within, span: this.upTo(this.tokSpan(kw)) }, kw);
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
              field = this.SUBRULE(this.operand);
            },
          },
        ], ERR_MSG: "`count` or `distinct` after `having`" }
      );
      const op = this.CONSUME(T.CompareOp);
      const value = this.SUBRULE(this.expression);
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
      this.CONSUME(T.LCurly, { ERR_MSG: `\`{\` after \`${kw.image}\`` });
      this.MANY(() => {
        const name = this.CONSUME(T.Identifier, { ERR_MSG: "a step name" });
        this.CONSUME(T.Colon, { ERR_MSG: "`:` after the step name" });
        const expr = this.SUBRULE(this.expression);
        let count: A.SequenceStep["count"] = null;
        this.OPTION(() => {
          const c = this.CONSUME(T.Count);
          const op = this.CONSUME(T.CompareOp);
          const value = this.SUBRULE2(this.expression);
          count = this.ACTION(() => ({ op: op.image as A.CompareOp, value, span: this.upTo(this.tokSpan(c)) }));
        });
        this.ACTION(() => {
          const nameSpan = this.tokSpan(name);
          steps.push({ kind: "Step", name: name.image, nameSpan, expr, count, span: this.upTo(nameSpan) });
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
              const target = this.SUBRULE(this.operand);
              this.CONSUME(T.Plus, { ERR_MSG: "`+` and the amount after the entity" });
              const amount = this.SUBRULE(this.expression);
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
              const target = this.SUBRULE2(this.operand);
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

}
