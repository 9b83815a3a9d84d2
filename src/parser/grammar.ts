/**
 * The grammar: items (spec/LANGUAGE.md sections 2-8) on top of the clause
 * and expression layers. One PolicyParser is built once (chevrotain analyses
 * the grammar at construction) and reset per input by parse.ts.
 *
 * Recovery, so one pass reports every syntax error:
 * - a missing `)`, `]`, `}` or `{` is invented (chevrotain's in-rule
 *   single-token insertion); nothing else is, and no token is deleted;
 * - a broken clause is skipped to the next clause keyword or `}`
 *   (clause-grammar.ts), and its whole item is then dropped, because a rule
 *   missing a condition must never look complete to later stages;
 * - a broken item climbs to `policyFile`, and the driver in parse.ts
 *   restarts at the next item keyword that begins a line.
 */
import type { IOrAlt, IToken } from "chevrotain";
import type * as A from "./ast.js";
import type { Span } from "./span.js";
import { MAX_AST_DEPTH } from "./depth.js";
import { diagnostic } from "../diagnostics/diagnostic.js";
import { errorMessageProvider } from "./messages.js";
import { ClauseParser, type AnyClause, type ParsedClause } from "./clause-grammar.js";
import { placeClauses, type BlockKind } from "./placement.js";
import * as T from "./tokens.js";

type TestEntry = { input: A.TestInput } | { expect: A.Expectation };

interface ClauseBlock {
  clauses: ParsedClause[];
}

const NAME_AFTER: Record<string, string> = {
  allow: "a rule name in quotes after `allow`",
  deny: "a rule name in quotes after `deny`",
  mesh: "a mesh name in quotes after `mesh`",
  detect: "a rule name in quotes after `detect`",
  test: "a test name in quotes after `test`",
};

export class PolicyParser extends ClauseParser {
  /** Items in source order (packages included; parse.ts checks their place). */
  items: (A.Item | A.PackageDecl)[] = [];
  /** The token an item failed at, when the error climbed to `policyFile`. */
  bailedAt: IToken | null = null;
  /** Items spanning more tokens than this may be deeper than the AST cap (depth.ts). */
  bigItems = new Set<A.Item | A.PackageDecl>();

  constructor() {
    super(T.ALL_TOKENS, { recoveryEnabled: true, maxLookahead: 3, errorMessageProvider });
    this.performSelfAnalysis();
  }

  /** Reset for a new input. */
  begin(text: string, file: string, tokens: IToken[]): void {
    this.resetState(text, file);
    this.items = [];
    this.bailedAt = null;
    this.bigItems = new Set();
    this.insertions = 0;
    this.input = tokens;
  }

  /** Go on reading at token `idx` (the driver's restart after a broken item). */
  restartAt(idx: number): void {
    (this as unknown as { importLexerState(i: number): void }).importLexerState(idx - 1);
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

  /**
   * An item that lost source text to recovery is dropped whole: a rule
   * missing one of its conditions must never look complete to later stages
   * (an `allow` without its `unless` grants more). Recovery that only
   * invented a missing `)`, `]`, `}` or `{` loses nothing, so that item stays.
   */
  item = this.RULE(
    "item",
    (): A.Item | A.PackageDecl | null => {
      this.clearExpressionState();
      this.unitStart = this.nextIndex();
      const errorsBefore = this.errorCount() - this.insertions;
      const first = this.nextIndex();
      const item = this.OR(this.itemAlts);
      if (this.errorCount() - this.insertions !== errorsBefore) return null;
      if (this.nextIndex() - first > MAX_AST_DEPTH) this.bigItems.add(item);
      // Only a test that parsed whole can be said to lack its input.
      if (item.kind === "Test" && item.input === null) {
        const header = { ...item.span, end: item.nameSpan.end, endLine: item.nameSpan.endLine, endColumn: item.nameSpan.endColumn };
        this.report(
          diagnostic(
            "SP1012",
            header,
            { clause: "input", block: `test "${item.name}"` },
            { hint: "give the test one input: `access { ... }`, `encryption { ... }`, `mesh { ... }` or `events ...`" },
          ),
        );
      }
      return item;
    },
    { resyncEnabled: false },
  );

  private itemAlts: IOrAlt<A.Item | A.PackageDecl>[] = [
    { ALT: () => this.SUBRULE(this.packageDecl) },
    { ALT: () => this.SUBRULE(this.schemaDecl) },
    { ALT: () => this.SUBRULE(this.constDecl) },
    { ALT: () => this.SUBRULE(this.accessRule) },
    { ALT: () => this.SUBRULE(this.encryptionRule) },
    { ALT: () => this.SUBRULE(this.meshBlock) },
    { ALT: () => this.SUBRULE(this.detectRule) },
    { ALT: () => this.SUBRULE(this.testBlock) },
  ];

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
        this.clearExpressionState();
        this.unitStart = this.nextIndex();
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
        ],
        ERR_MSG: "`allow`, `deny`, `challenge`, `admit`, `reject`, `alert`, `no alert` or a condition after `expect`",
        // `challenge`, `alert`, `no`... are soft keywords; the keyword forms win on the first token.
        IGNORE_AMBIGUITIES: true,
        MAX_LOOKAHEAD: 1,
      });
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
    return { kind: "Test", name: name.value, nameSpan: name.span, input, expects, span };
  }


  /** Keep the clauses a block takes; SP1010 for the others, SP1011 for repeats. */
  private place(clauses: ParsedClause[], block: BlockKind): AnyClause[] {
    return placeClauses(clauses, block, (d) => this.report(d));
  }
}
