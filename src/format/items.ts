/**
 * Files, items and clauses to Docs: the canonical layout of docs/fmt.md.
 *
 * `package` first, then the items in source order; one clause per line,
 * `{` on the header line and `}` alone. Blank lines: at most one wherever the
 * author left one between statements; always one around a block at the top
 * level; never just inside braces.
 */
import type {
  AccessClause,
  DetectClause,
  DurationLit,
  EncryptionClause,
  Expectation,
  Item,
  MeshClause,
  NumberLit,
  PackageDecl,
  PolicyFile,
  SequenceStep,
  Span,
  StringLit,
  TestInput,
} from "../parser/ast.js";
import { CommentQueue, type GapPolicy } from "./comments.js";
import { hardline, indent, softline, type Doc } from "./doc.js";
import { printExpr, printSequence, quote, withComments, PREC_OPERAND, type PrintContext } from "./expr.js";

type Clause = AccessClause | EncryptionClause | MeshClause | DetectClause;

/** The Doc of a whole file; `source` is the text it was parsed from. */
export function printFile(file: PolicyFile, source: string): Doc {
  const ctx: PrintContext = { comments: new CommentQueue(file.comments, source) };
  const top: (PackageDecl | Item)[] = file.package ? [file.package, ...file.items] : [...file.items];
  const out: Doc[] = [];
  let prevBlock = false;
  top.forEach((item, i) => {
    const block = isBlock(item);
    const policy: GapPolicy = i === 0 ? "none" : block || prevBlock ? "force" : "keep";
    out.push(ctx.comments.between(item.span.start, policy, { atStart: i === 0 }));
    out.push(printItem(ctx, item));
    ctx.comments.advance(item.span.end);
    prevBlock = block;
  });
  out.push(ctx.comments.between(Infinity, "keep", { atStart: top.length === 0, element: false }));
  return out;
}

function isBlock(item: PackageDecl | Item): boolean {
  return item.kind !== "Package" && item.kind !== "Schema" && item.kind !== "Const";
}

function printItem(ctx: PrintContext, item: PackageDecl | Item): Doc {
  switch (item.kind) {
    case "Package":
      return ["package ", word(ctx, item.span, item.name)];
    case "Schema":
      return ["schema ", word(ctx, item.inputKindSpan, item.inputKind), " ", printExpr(ctx, item.path)];
    case "Const":
      return ["const ", word(ctx, item.nameSpan, item.name), " = ", printExpr(ctx, item.value)];
    case "AccessRule":
      return block(ctx, [item.effect, " ", name(ctx, item.nameSpan, item.name)], item.clauses, item.span, printClause);
    case "EncryptionRule":
      return block(
        ctx,
        ["encryption ", item.name === null ? word(ctx, item.nameSpan, "default") : name(ctx, item.nameSpan, item.name)],
        item.clauses,
        item.span,
        printClause,
      );
    case "Mesh":
      return block(ctx, ["mesh ", name(ctx, item.nameSpan, item.name)], item.clauses, item.span, printClause);
    case "Detect":
      return block(ctx, ["detect ", name(ctx, item.nameSpan, item.name)], item.clauses, item.span, printClause);
    case "Test": {
      const body: (TestInput | Expectation)[] = item.input ? [item.input, ...item.expects] : [...item.expects];
      body.sort((a, b) => a.span.start - b.span.start);
      return block(ctx, ["test ", name(ctx, item.nameSpan, item.name)], body, item.span, printTestStatement);
    }
  }
}

/** A word of the grammar (identifier, keyword) at `span`. */
function word(ctx: PrintContext, span: Span, text: string): Doc {
  return withComments(ctx, span.start, () => text);
}

/** A block's name string. */
function name(ctx: PrintContext, span: Span, value: string): Doc {
  return withComments(ctx, span.start, () => quote(value));
}

/** `header {` statements, one per line `}`; `header {}` when empty. */
function block<T extends { span: Span }>(
  ctx: PrintContext,
  header: Doc,
  statements: readonly T[],
  span: Span,
  print: (ctx: PrintContext, s: T) => Doc,
): Doc {
  const close = span.end - 1;
  if (statements.length === 0 && !ctx.comments.hasBefore(close)) return [header, " {}"];
  const inner: Doc[] = [];
  statements.forEach((s, i) => {
    inner.push(ctx.comments.between(s.span.start, i === 0 ? "none" : "keep"));
    inner.push(print(ctx, s));
    ctx.comments.advance(s.span.end);
  });
  inner.push(ctx.comments.between(close, statements.length === 0 ? "none" : "keep", { element: false }));
  return [header, " {", indent(inner), hardline, "}"];
}

function printClause(ctx: PrintContext, c: Clause): Doc {
  switch (c.kind) {
    case "Tags":
      return ["tags ", strings(ctx, c.tags, c.span)];
    case "When":
      return ["when ", printExpr(ctx, c.expr)];
    case "Unless":
      return ["unless ", printExpr(ctx, c.expr)];
    case "Where":
      return ["where ", printExpr(ctx, c.expr)];
    case "Require":
      return ["require ", printExpr(ctx, c.expr), elseMessage(ctx, c.message)];
    case "RequireMfa":
      return ["require mfa", c.within ? [" within ", printExpr(ctx, c.within)] : ""];
    case "RequireKeyAge":
      return ["require key_age within ", printExpr(ctx, c.within), elseMessage(ctx, c.message)];
    case "RequireCipher":
      return ["require cipher ", printExpr(ctx, c.cipher)];
    case "RequireTee":
      return "require tee";
    case "RequireAad":
      return ["require aad ", strings(ctx, c.fields, c.span)];
    case "Network":
      return ["network ", printExpr(ctx, c.cidr)];
    case "ListenPort":
      return ["listen_port ", printExpr(ctx, c.port)];
    case "Keepalive":
      return ["keepalive ", printExpr(ctx, c.interval)];
    case "Connect":
      return [
        "connect ",
        printExpr(ctx, c.from),
        c.bidirectional ? " <-> " : " -> ",
        printExpr(ctx, c.to),
        c.ports ? [" ports ", numbers(ctx, c.ports, c.span)] : "",
      ];
    case "Severity":
      return ["severity ", word(ctx, c.levelSpan, c.level)];
    case "By":
      return [
        "by ",
        c.fields.map((f, i) => [i > 0 ? ", " : "", printExpr(ctx, f, PREC_OPERAND)]),
        " within ",
        printExpr(ctx, c.within),
      ];
    case "Having":
      return [
        "having ",
        c.aggregate,
        c.field ? [" ", printExpr(ctx, c.field, PREC_OPERAND)] : "",
        " ",
        c.op,
        " ",
        printExpr(ctx, c.value),
      ];
    case "Sequence":
      return block(ctx, c.ordered ? "sequence" : "all", c.steps, c.span, printStep);
    case "ThenRisk":
      return [
        "then risk ",
        printExpr(ctx, c.target, PREC_OPERAND),
        " + ",
        printExpr(ctx, c.amount),
        forDuration(ctx, c.duration),
      ];
    case "ThenQuarantine":
      return ["then quarantine ", printExpr(ctx, c.target, PREC_OPERAND), forDuration(ctx, c.duration)];
  }
}

function printStep(ctx: PrintContext, s: SequenceStep): Doc {
  return [
    word(ctx, s.nameSpan, s.name),
    ": ",
    printExpr(ctx, s.expr),
    s.count ? [" count ", s.count.op, " ", printExpr(ctx, s.count.value)] : "",
  ];
}

function printTestStatement(ctx: PrintContext, s: TestInput | Expectation): Doc {
  switch (s.kind) {
    case "TestInput":
      return [s.inputKind, " ", printExpr(ctx, s.value)];
    case "ExpectDecision":
      return ["expect ", s.decision];
    case "ExpectAlert":
      return ["expect alert ", printExpr(ctx, s.rule), s.count ? [" count ", printExpr(ctx, s.count)] : ""];
    case "ExpectNoAlert":
      return "expect no alert";
    case "ExpectExpr":
      return ["expect ", printExpr(ctx, s.expr)];
  }
}

function elseMessage(ctx: PrintContext, message: StringLit | null): Doc {
  return message ? [" else ", printExpr(ctx, message)] : "";
}

function forDuration(ctx: PrintContext, d: DurationLit | null): Doc {
  return d ? [" for ", printExpr(ctx, d)] : "";
}

/** A bracketed list of literals ending where the clause ends (`tags`, `aad`, `ports`). */
function strings(ctx: PrintContext, items: readonly StringLit[], clause: Span): Doc {
  return printSequence(ctx, "[", "]", items, (x) => printExpr(ctx, x), clause.end - 1, softline);
}

function numbers(ctx: PrintContext, items: readonly NumberLit[], clause: Span): Doc {
  return printSequence(ctx, "[", "]", items, (x) => printExpr(ctx, x), clause.end - 1, softline);
}
