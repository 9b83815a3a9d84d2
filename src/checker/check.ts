/**
 * The checker: names, types, schemas and lint over a set of parsed files
 * (DESIGN.md pipeline, spec/LANGUAGE.md). An ordered list of named passes,
 * each in its own file, each collecting diagnostics into the shared context;
 * errors (SP2xxx) and lint warnings (SP3xxx) are kept apart until the end,
 * when `# lint:ignore` directives filter the warnings.
 *
 * `check` never throws, whatever the AST: a pass that fails on a mangled
 * tree (error recovery can leave holes the types do not admit) is cut short
 * and the other passes still run.
 */
import type { PolicyFile, SchemaKind } from "../parser/ast.js";
import { diagnostic, sortDiagnostics, type Diagnostic } from "../diagnostics/diagnostic.js";
import { createContext, type CheckContext, type CheckOptions, type SchemaEntry } from "./context.js";
import { checkConsts } from "./consts.js";
import { checkDetect } from "./detect.js";
import { checkEncryption } from "./encryption.js";
import { applyLintIgnores } from "./lint-ignore.js";
import { lintDuplicateConditions } from "./lint-duplicate-conditions.js";
import { lintMeshConnect } from "./lint-mesh-connect.js";
import { lintNeverApplies } from "./lint-never-applies.js";
import { lintAllowWithoutWhen, lintMfaWindow, lintConditionalDefault, lintUnusedConsts, lintUntaggedRules } from "./lint-rules.js";
import { lintMeshNetwork } from "./lint-mesh-network.js";
import { lintHiddenCharacters } from "./lint-hidden-characters.js";
import { lintEvaluationErrors } from "./lint-evaluation-errors.js";
import { checkMesh } from "./mesh.js";
import { checkNames } from "./names.js";
import { checkRuleIds } from "./rule-ids.js";
import { checkSchemaDecls, readSchemaFile } from "./schema-decls.js";
import { checkSchemaPaths } from "./schema-paths.js";
import { checkTests } from "./tests.js";
import { checkTypes } from "./types.js";
import type { ConstValue } from "./values.js";
import { runSteps, type Steps } from "../steps.js";

export type { CheckOptions } from "./context.js";
export type { ConstValue } from "./values.js";

export interface CheckResult {
  /** Errors and (when lint is on) warnings, sorted by file, position, code. */
  diagnostics: Diagnostic[];
  /** Folded const values per package: package -> name -> value. */
  consts: Map<string, Map<string, ConstValue>>;
  /** Declared schemas per input kind, ajv-compiled (the evaluator validates inputs with them). */
  schemas: Map<SchemaKind, SchemaEntry>;
}

type Pass = [name: string, run: (ctx: CheckContext) => void];

/** Checks, in order: later passes read the tables earlier ones build. */
const CHECK_PASSES: Pass[] = [
  ["schema declarations", checkSchemaDecls],
  ["consts", checkConsts],
  ["names", checkNames],
  ["types", checkTypes],
  ["rule ids", checkRuleIds],
  ["encryption", checkEncryption],
  ["detect", checkDetect],
  ["mesh", checkMesh],
  ["tests", checkTests],
  ["schema paths", checkSchemaPaths],
];

const LINT_PASSES: Pass[] = [
  ["allow without when", lintAllowWithoutWhen],
  ["never applies", lintNeverApplies],
  ["unused consts", lintUnusedConsts],
  ["mfa window", lintMfaWindow],
  ["conditional default", lintConditionalDefault],
  ["mesh connect", lintMeshConnect],
  ["mesh network", lintMeshNetwork],
  ["untagged rules", lintUntaggedRules],
  ["duplicate conditions", lintDuplicateConditions],
  ["hidden characters", lintHiddenCharacters],
  ["evaluation errors", lintEvaluationErrors],
];

/** The lint passes' names (their failures lose warnings only, so they are not SP2031). */
export const LINT_PASS_NAMES: readonly string[] = LINT_PASSES.map(([name]) => name);

/** Names of passes that threw in the last `check` to finish; for tests and debugging, never part of output. */
export const lastPassFailures: string[] = [];

/** The passes, one step each; failures collected in `failures` (a pass that throws is cut short, the next still runs). */
function* run(ctx: CheckContext, passes: Pass[], failures: string[]): Steps<void> {
  for (const [name, pass] of passes) {
    try {
      pass(ctx);
    } catch (err) {
      failures.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
    yield;
  }
}

/** A diagnostic is only useful with a location; a hole in a mangled AST gives none. */
function hasSpan(d: Diagnostic): boolean {
  const s = d.span as Partial<Diagnostic["span"]> | undefined;
  return typeof s === "object" && s !== null && typeof s.file === "string" && typeof s.start === "number" && typeof s.line === "number";
}

/** Check a set of parsed files together (consts, ids and schemas are shared across them). */
export function check(files: PolicyFile[], options: CheckOptions = {}): CheckResult {
  return runSteps(checkSteps(files, options));
}

/** `check`, one pass a step (src/steps.ts). */
export function* checkSteps(files: PolicyFile[], options: CheckOptions = {}): Steps<CheckResult> {
  const failures: string[] = [];
  const readFile = options.readFile ?? readSchemaFile;
  const list = Array.isArray(files) ? files.filter((f) => typeof f === "object" && f !== null) : [];
  const ctx = createContext(list, options, readFile);
  yield* run(ctx, CHECK_PASSES, failures);
  // Fail closed: a check pass cut short (a bug) may have left errors unreported, so the set must
  // not load as if it were clean. Lint passes lose only warnings and are not counted.
  const first = list.find((f) => hasSpan({ span: f.span } as Diagnostic));
  for (const f of failures) {
    if (first === undefined) break;
    const at = f.indexOf(": ");
    ctx.errors.push(diagnostic("SP2031", { ...first.span, end: first.span.start, endLine: first.span.line, endColumn: first.span.column }, { pass: f.slice(0, at), reason: f.slice(at + 2) }));
  }
  let warnings: Diagnostic[] = [];
  if (ctx.lint) {
    yield* run(ctx, LINT_PASSES, failures);
    try {
      warnings = applyLintIgnores(list, ctx.warnings);
    } catch (err) {
      failures.push(`lint:ignore: ${err instanceof Error ? err.message : String(err)}`);
      warnings = ctx.warnings;
    }
  }
  lastPassFailures.length = 0;
  lastPassFailures.push(...failures);
  return {
    diagnostics: sortDiagnostics([...ctx.errors, ...warnings].filter(hasSpan)),
    consts: ctx.constValues,
    schemas: ctx.schemas,
  };
}
