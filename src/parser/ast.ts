/**
 * The typed AST of the swarm-policy language (spec/LANGUAGE.md, version 1).
 *
 * A discriminated union on `kind`; every node carries its Span. The parser
 * builds these directly; the checker annotates nothing in place (it returns
 * diagnostics and side tables), so an AST can be shared by the evaluator,
 * the formatter and the tools without copying.
 */
import type { Span } from "./span.js";

export type { Span } from "./span.js";

// ---------------------------------------------------------------- expressions

export type BinaryOp =
  | "or"
  | "and"
  | "=="
  | "!="
  | "<"
  | "<="
  | ">"
  | ">="
  | "in"
  | "contains"
  | "contains_any"
  | "contains_all"
  | "like"
  | "starts_with"
  | "ends_with"
  | "matches"
  | "??"
  | "+"
  | "-"
  | "*"
  | "/";

/** Comparison-level operators (one per comparison; they do not chain). */
export type CompareOp = "==" | "!=" | "<" | "<=" | ">" | ">=";

export interface StringLit {
  kind: "String";
  value: string;
  span: Span;
}
export interface NumberLit {
  kind: "Number";
  value: number;
  /** The source text, e.g. "0.5", for lossless formatting. */
  raw: string;
  span: Span;
}
export interface BoolLit {
  kind: "Bool";
  value: boolean;
  span: Span;
}
export type DurationUnit = "ms" | "s" | "m" | "h" | "d" | "w";
export interface DurationLit {
  kind: "Duration";
  /** Total length in milliseconds. */
  ms: number;
  /** The source text, e.g. "1h30m". */
  raw: string;
  span: Span;
}
export interface ListLit {
  kind: "List";
  items: Expr[];
  span: Span;
}
export interface ObjectEntry {
  key: string;
  /** The key was written as a string literal ("quoted-key": v). */
  quoted: boolean;
  keySpan: Span;
  value: Expr;
  span: Span;
}
export interface ObjectLit {
  kind: "Object";
  entries: ObjectEntry[];
  span: Span;
}
/**
 * A bare identifier: a const, a root bound by the evaluator (principal,
 * resource, action, context, data, node, event, now, result), or inside
 * `detect` the first segment of an event field path (user.name).
 */
export interface NameRef {
  kind: "Name";
  name: string;
  span: Span;
}
/** `object.property` */
export interface MemberExpr {
  kind: "Member";
  object: Expr;
  property: string;
  propertySpan: Span;
  span: Span;
}
/** `object[index]`; `a["x-y"]` is the common form. */
export interface IndexExpr {
  kind: "Index";
  object: Expr;
  index: Expr;
  span: Span;
}
/** A builtin call: ip(...), age(...), size(...), risk(...), ... */
export interface CallExpr {
  kind: "Call";
  callee: string;
  calleeSpan: Span;
  args: Expr[];
  span: Span;
}
export interface UnaryExpr {
  kind: "Unary";
  op: "not" | "-";
  operand: Expr;
  span: Span;
}
export interface BinaryExpr {
  kind: "Binary";
  op: BinaryOp;
  opSpan: Span;
  left: Expr;
  right: Expr;
  span: Span;
}
/** `object has name` (name may be written as an identifier or a string). */
export interface HasExpr {
  kind: "Has";
  object: Expr;
  name: string;
  nameSpan: Span;
  span: Span;
}
/** `( expr )`, kept so the formatter can preserve the author's grouping. */
export interface ParenExpr {
  kind: "Paren";
  expr: Expr;
  span: Span;
}

export type Literal = StringLit | NumberLit | BoolLit | DurationLit;
export type Expr =
  | StringLit
  | NumberLit
  | BoolLit
  | DurationLit
  | ListLit
  | ObjectLit
  | NameRef
  | MemberExpr
  | IndexExpr
  | CallExpr
  | UnaryExpr
  | BinaryExpr
  | HasExpr
  | ParenExpr;

// --------------------------------------------------------------- shared clauses

/** `tags ["ISO27001:A.8.2", ...]` */
export interface TagsClause {
  kind: "Tags";
  tags: StringLit[];
  span: Span;
}
/** `when EXPR` (access, encryption, mesh) */
export interface WhenClause {
  kind: "When";
  expr: Expr;
  span: Span;
}
/** `unless EXPR` (access, encryption, mesh) */
export interface UnlessClause {
  kind: "Unless";
  expr: Expr;
  span: Span;
}
/** `require EXPR [else "message"]` (allow, mesh) */
export interface RequireClause {
  kind: "Require";
  expr: Expr;
  message: StringLit | null;
  span: Span;
}
/** `require mfa [within DURATION]` (allow) */
export interface RequireMfaClause {
  kind: "RequireMfa";
  within: DurationLit | null;
  span: Span;
}
/** `require key_age within DURATION [else "message"]` (encryption, mesh) */
export interface RequireKeyAgeClause {
  kind: "RequireKeyAge";
  within: DurationLit;
  message: StringLit | null;
  span: Span;
}
/** `require cipher "aes-256-gcm"` (encryption) */
export interface RequireCipherClause {
  kind: "RequireCipher";
  cipher: StringLit;
  span: Span;
}
/** `require tee` (encryption) */
export interface RequireTeeClause {
  kind: "RequireTee";
  span: Span;
}
/** `require aad ["tenant_id", "record_id"]` (encryption) */
export interface RequireAadClause {
  kind: "RequireAad";
  fields: StringLit[];
  span: Span;
}

// ------------------------------------------------------------------ top level

/** `package swarm.access` */
export interface PackageDecl {
  kind: "Package";
  name: string;
  span: Span;
}
export type SchemaKind = "access" | "encryption" | "mesh" | "event";
/** `schema access "schemas/access.schema.json"` */
export interface SchemaDecl {
  kind: "Schema";
  /** As written; the checker reports kinds other than SchemaKind. */
  inputKind: string;
  inputKindSpan: Span;
  path: StringLit;
  span: Span;
}
/** `const name = EXPR` */
export interface ConstDecl {
  kind: "Const";
  name: string;
  nameSpan: Span;
  value: Expr;
  span: Span;
}

export type AccessClause = TagsClause | WhenClause | UnlessClause | RequireClause | RequireMfaClause;
/** `allow "name" { ... }` / `deny "name" { ... }` */
export interface AccessRule {
  kind: "AccessRule";
  effect: "allow" | "deny";
  name: string;
  nameSpan: Span;
  clauses: AccessClause[];
  span: Span;
}

export type EncryptionClause =
  | TagsClause
  | WhenClause
  | UnlessClause
  | RequireCipherClause
  | RequireKeyAgeClause
  | RequireTeeClause
  | RequireAadClause;
/** `encryption "name" { ... }` or `encryption default { ... }` (name null). */
export interface EncryptionRule {
  kind: "EncryptionRule";
  name: string | null;
  nameSpan: Span;
  clauses: EncryptionClause[];
  span: Span;
}

/** `network "100.64.0.0/10"` */
export interface NetworkClause {
  kind: "Network";
  cidr: StringLit;
  span: Span;
}
/** `listen_port 51820` */
export interface ListenPortClause {
  kind: "ListenPort";
  port: NumberLit;
  span: Span;
}
/** `keepalive 25s` */
export interface KeepaliveClause {
  kind: "Keepalive";
  interval: DurationLit;
  span: Span;
}
/** `connect "worker" -> "scheduler" [ports [7000, 7001]]`; "*" is any admitted node. */
export interface ConnectClause {
  kind: "Connect";
  from: StringLit;
  to: StringLit;
  bidirectional: boolean;
  ports: NumberLit[] | null;
  span: Span;
}
export type MeshClause =
  | TagsClause
  | WhenClause
  | UnlessClause
  | RequireClause
  | RequireKeyAgeClause
  | NetworkClause
  | ListenPortClause
  | KeepaliveClause
  | ConnectClause;
/** `mesh "swarm" { ... }` */
export interface MeshBlock {
  kind: "Mesh";
  name: string;
  nameSpan: Span;
  clauses: MeshClause[];
  span: Span;
}

export type Severity = "low" | "medium" | "high" | "critical";
/** `severity high` (the word as written; the checker validates it) */
export interface SeverityClause {
  kind: "Severity";
  level: string;
  levelSpan: Span;
  span: Span;
}
/** `where EXPR` */
export interface WhereClause {
  kind: "Where";
  expr: Expr;
  span: Span;
}
/** `by FIELD, FIELD within DURATION` */
export interface ByClause {
  kind: "By";
  fields: Expr[];
  within: DurationLit;
  span: Span;
}
/** `having count OP N` / `having distinct FIELD OP N` */
export interface HavingClause {
  kind: "Having";
  aggregate: "count" | "distinct";
  /** The distinct field (null for count). */
  field: Expr | null;
  op: CompareOp;
  value: Expr;
  span: Span;
}
/** `step: EXPR [count OP N]` inside sequence / all */
export interface SequenceStep {
  kind: "Step";
  name: string;
  nameSpan: Span;
  expr: Expr;
  count: { op: CompareOp; value: Expr; span: Span } | null;
  span: Span;
}
/** `sequence { ... }` (ordered) or `all { ... }` (any order) */
export interface SequenceClause {
  kind: "Sequence";
  ordered: boolean;
  steps: SequenceStep[];
  span: Span;
}
/** `then risk PATH + N [for D]` */
export interface ThenRiskClause {
  kind: "ThenRisk";
  target: Expr;
  amount: Expr;
  duration: DurationLit | null;
  span: Span;
}
/** `then quarantine PATH [for D]` */
export interface ThenQuarantineClause {
  kind: "ThenQuarantine";
  target: Expr;
  duration: DurationLit | null;
  span: Span;
}
export type DetectClause =
  | TagsClause
  | SeverityClause
  | WhereClause
  | ByClause
  | HavingClause
  | SequenceClause
  | ThenRiskClause
  | ThenQuarantineClause;
/** `detect "name" { ... }` */
export interface DetectRule {
  kind: "Detect";
  name: string;
  nameSpan: Span;
  clauses: DetectClause[];
  span: Span;
}

export type TestInputKind = "access" | "encryption" | "mesh" | "events";
/** The one input of a test: `access { ... }`, `events "file.jsonl"`, `events [ ... ]`. */
export interface TestInput {
  kind: "TestInput";
  inputKind: TestInputKind;
  /** An object literal, a list of objects (events) or a string path (events). */
  value: Expr;
  span: Span;
}
export type ExpectedDecision = "allow" | "deny" | "challenge" | "admit" | "reject";
/** `expect allow` ... `expect reject` */
export interface ExpectDecision {
  kind: "ExpectDecision";
  decision: ExpectedDecision;
  span: Span;
}
/** `expect alert "name" [count N]` */
export interface ExpectAlert {
  kind: "ExpectAlert";
  rule: StringLit;
  count: NumberLit | null;
  span: Span;
}
/** `expect no alert` */
export interface ExpectNoAlert {
  kind: "ExpectNoAlert";
  span: Span;
}
/** `expect EXPR` over `result` */
export interface ExpectExpr {
  kind: "ExpectExpr";
  expr: Expr;
  span: Span;
}
export type Expectation = ExpectDecision | ExpectAlert | ExpectNoAlert | ExpectExpr;
/** `test "name" { INPUT expect ... }` */
export interface TestBlock {
  kind: "Test";
  name: string;
  nameSpan: Span;
  /** Null only after a syntax error (the parser reports it). */
  input: TestInput | null;
  expects: Expectation[];
  span: Span;
}

export type Item = SchemaDecl | ConstDecl | AccessRule | EncryptionRule | MeshBlock | DetectRule | TestBlock;

/** A `#` comment; kept for the formatter and for `# lint:ignore` directives. */
export interface Comment {
  text: string;
  span: Span;
  /** Code precedes it on its line (`const a = 1 # ...`); absent when the AST was not built by the lexer. */
  trailing?: boolean;
}

/**
 * A character written raw in a string or a comment that does not show as
 * itself: a bidirectional control, a zero-width or non-ASCII space, a line
 * separator (lint SP3012).
 */
export interface HiddenChar {
  /** The character. */
  char: string;
  /** Where it stands (one character). */
  span: Span;
  place: "string" | "comment";
}

/** One parsed .policy file. */
export interface PolicyFile {
  kind: "File";
  file: string;
  package: PackageDecl | null;
  items: Item[];
  comments: Comment[];
  span: Span;
  /** Raw characters in strings and comments that do not show as themselves; absent when there are none. */
  hidden?: HiddenChar[];
}

/** The rule-like items that get an id `package/name`. */
export type NamedRule = AccessRule | EncryptionRule | MeshBlock | DetectRule;

/** A file's package: the declared one, else the file's stem. */
export function packageOf(file: PolicyFile): string {
  if (file.package) return file.package.name;
  const base = file.file.split(/[\\/]/).pop() ?? file.file;
  return base.replace(/\.policy$/, "");
}

/** A rule's id, `package/name`; a default encryption block is `package/default`. */
export function ruleId(file: PolicyFile, rule: NamedRule): string {
  const name = rule.kind === "EncryptionRule" && rule.name === null ? "default" : rule.name;
  return `${packageOf(file)}/${name}`;
}
