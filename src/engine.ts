/**
 * The engine: policy sources in, `evaluate()` out (DESIGN.md "Public API").
 *
 * Loading never throws for bad policy text: diagnostics come back on
 * `engine.diagnostics`, and an engine whose policies have errors (or whose
 * paths could not be read) answers every input with deny/reject and the
 * error "policy set has errors" (fail closed). Evaluation is synchronous,
 * does no I/O and never throws.
 *
 * `version` identifies the policy set: the sha256 (hex) of the sources,
 * sorted by file name, each as the JSON text `["file","text"]`, hashed one
 * after the other, where "file" is the path relative to the directory all
 * the sources share. The same files with the same text give the same
 * version whatever order they were read in and wherever the tree is checked
 * out, so replicas behind a load balancer agree on it. The JSON Schema
 * files the policies declare decide too (an input a schema refuses is
 * denied), so their texts follow, sorted by path relative to that same
 * directory, each as `["schema","path","text"]`; a set without schemas
 * hashes its sources alone.
 */
import { createHash } from "node:crypto";
import path from "node:path";
import type { PolicyFile } from "./parser/ast.js";
import { SourceText } from "./parser/span.js";
import { analyzeSteps, readSources, type ReadError } from "./load.js";
import { runSteps, type Steps } from "./steps.js";
import { readSchemaFile } from "./checker/schema-decls.js";
import { hasErrors, type Diagnostic } from "./diagnostics/diagnostic.js";
import { compilePolicySet, compilePolicySetSteps, type CompiledPolicySet } from "./evaluator/compile.js";
import { Evaluator, failAccess, internalError } from "./evaluator/evaluate.js";
import { reasonText } from "./evaluator/messages.js";
import type { SchemaValidator } from "./evaluator/input.js";
import { MemoryRiskStore, type RiskStore } from "./evaluator/stores.js";
import { compileDetectors, type Detector, type DetectorOptions, type RiskSink } from "./runtime/siem/detector.js";
import type { AccessDecision, Decision, EncryptionResult, EvaluateOptions, MeshDecision } from "./evaluator/decision.js";
import { refuseUnknownOptions } from "./runtime/option-keys.js";

export interface EngineOptions {
  /** Epoch milliseconds; `now` when an input has no `time`. Default Date.now. */
  clock?: () => number;
  /**
   * What `risk()` and `quarantined()` read. Default: a fresh in-memory store,
   * which `engine.detector()` also writes to, so detections feed decisions.
   */
  risk?: RiskStore;
  /** Validate inputs against declared `schema`s (default true). */
  validateInput?: boolean;
  /** Run lint passes while loading, adding SP3xxx warnings to `diagnostics` (default false). */
  lint?: boolean;
  /** Generate JavaScript for access rules (default true); off runs closures only. */
  generate?: boolean;
  /**
   * Record `notApplied` (the always-on explanation) on access decisions
   * (default true). Off only to measure its cost: `npm run bench` does.
   */
  notApplied?: boolean;
}

/** The names EngineOptions has: any other is a TypeError (a misspelt `risk` would leave quarantine unread). */
const ENGINE_OPTION_KEYS: readonly (keyof EngineOptions)[] = ["clock", "risk", "validateInput", "lint", "generate", "notApplied"];

/** The message of every decision of an engine whose policy set did not load cleanly. */
export const POLICY_SET_ERRORS = "policy set has errors";

export class Engine {
  /** Syntax, check (and with `lint`, lint) diagnostics, sorted by file and position. */
  readonly diagnostics: Diagnostic[];
  /** Paths that could not be read. */
  readonly loadErrors: ReadError[];
  /** sha256 hex of the loaded sources (see the top of engine.ts). */
  readonly version: string;
  /** Every rule id (access, encryption, mesh, detect) in load order. */
  readonly ruleIds: string[];
  /** The parsed files, in load order. */
  readonly files: PolicyFile[];
  private readonly evaluator: Evaluator;
  private readonly riskStore: RiskStore;
  private readonly broken: boolean;

  /**
   * @internal Use loadPolicies() or compile(). `made`: the analysis and
   * compiled set of `sources` with these options, when engineSteps made
   * them already.
   */
  constructor(sources: readonly SourceText[], loadErrors: readonly ReadError[], options: EngineOptions = {}, made?: { analysis: SourceAnalysis; set: CompiledPolicySet }) {
    const analyzed = made?.analysis ?? analyzeSources(sources, { lint: options.lint ?? false });
    this.version = policyVersion(sources, analyzed.schemaTexts);
    this.diagnostics = analyzed.diagnostics;
    this.loadErrors = [...loadErrors];
    this.files = analyzed.files;
    const broken = hasErrors(analyzed.diagnostics) || loadErrors.length > 0;
    this.broken = broken;
    this.riskStore = options.risk ?? new MemoryRiskStore();
    // A set with errors is never compiled: a recovered AST may have holes, and nothing it says is trusted.
    const set: CompiledPolicySet = made?.set ?? compilePolicySet(broken ? [] : analyzed.files, { generate: options.generate ?? true });
    this.ruleIds = broken ? collectIds(analyzed.files) : set.ruleIds;
    let schemas: Map<string, SchemaValidator> | null = null;
    if (options.validateInput !== false && analyzed.schemas.length > 0) {
      schemas = new Map();
      for (const entry of analyzed.schemas) schemas.set(entry.kind, entry.validate);
    }
    this.evaluator = new Evaluator(set, {
      version: this.version,
      clock: options.clock,
      risk: this.riskStore,
      schemas,
      failure: broken ? POLICY_SET_ERRORS : null,
      notApplied: options.notApplied ?? true,
    });
  }

  /**
   * Decide one input. `kind` ("access", the default, "encryption" or
   * "mesh") selects the evaluator. Never throws: bad input is a deny/reject
   * with the error in `errors`. `explain: true` adds every rule considered
   * and every clause's value.
   */
  evaluate(input: unknown, options?: EvaluateOptions): Decision {
    return this.evaluator.evaluate(input, options);
  }

  /**
   * Why `evaluate(input)` would answer without consulting any rule (policy
   * errors, an input of the wrong shape or time, one its `schema` refuses, a
   * mesh input naming no loaded mesh); empty when the rules would decide.
   * Never throws.
   */
  refusal(input: unknown): string[] {
    return this.evaluator.refusal(input);
  }

  /** An access decision (the input's `kind` is ignored and taken as access). Never throws, as evaluate. */
  evaluateAccess(input: object, options?: EvaluateOptions): AccessDecision {
    let access: object;
    try {
      access = { ...input, kind: "access" };
    } catch (err) {
      // A hostile getter or proxy: copying it throws before evaluate() could catch it.
      return failAccess(this.version, [internalError(err)], reasonText.evaluationFailed);
    }
    return this.evaluator.evaluate(access, options) as AccessDecision;
  }

  /**
   * A streaming correlation engine over this set's `detect` rules:
   * `push(event)` returns the alerts an event completes. `then risk` and
   * `then quarantine` write to `options.risk`, by default this engine's own
   * store, so `risk()` and `quarantined()` in access and mesh rules read them
   * back. Throws when the policy set has errors: a broken set must never look
   * like a quiet event stream.
   */
  detector(options: DetectorOptions = {}): Detector {
    if (this.broken) throw new Error(POLICY_SET_ERRORS);
    const own = this.riskStore as Partial<RiskSink>;
    const risk = options.risk ?? (typeof own.raise === "function" && typeof own.quarantine === "function" ? (this.riskStore as RiskStore & RiskSink) : undefined);
    return compileDetectors(this.files, { ...options, ...(risk ? { risk } : {}) });
  }

  /** Many inputs against this one compiled set: the same answers as one by one, in order. */
  evaluateBatch(inputs: readonly unknown[], options?: EvaluateOptions): Decision[] {
    return this.evaluator.evaluateBatch(inputs, options);
  }
}

/** What the front end makes of a set of sources (see analyzeSources). */
export interface SourceAnalysis {
  files: PolicyFile[];
  /** Syntax, check (and with `lint`, lint) diagnostics, sorted. */
  diagnostics: Diagnostic[];
  /** The validator of the schema each kind declares (only schemas that compiled). */
  schemas: { kind: string; validate: SchemaValidator }[];
  /** Every schema file read (absolute path, text), for the version. */
  schemaTexts: { file: string; text: string }[];
}

/** Parse and check `sources`, recording the schema files read (see SourceAnalysis). */
export function analyzeSources(sources: readonly SourceText[], options: { lint?: boolean } = {}): SourceAnalysis {
  return runSteps(analyzeSourcesSteps(sources, options));
}

/** `analyzeSources` in steps (src/steps.ts): each file's parse, each checker pass. */
export function* analyzeSourcesSteps(sources: readonly SourceText[], options: { lint?: boolean } = {}): Steps<SourceAnalysis> {
  // The schema texts the checker compiles are the ones hashed (each read once, here).
  const schemaTexts = new Map<string, string>();
  const readFile = (abs: string): string => {
    const text = readSchemaFile(abs);
    schemaTexts.set(abs, text);
    return text;
  };
  const analyzed = yield* analyzeSteps(sources, { lint: options.lint ?? false, readFile });
  return {
    files: analyzed.files,
    diagnostics: analyzed.diagnostics,
    schemas: [...analyzed.checked.schemas].map(([kind, entry]) => ({ kind, validate: entry.validate as SchemaValidator })),
    schemaTexts: [...schemaTexts].map(([file, text]) => ({ file, text })),
  };
}

/**
 * An Engine built in steps (src/steps.ts): each file's parse, each checker
 * pass, the compile a few hundred rules at a time. The service runs these
 * with the event loop turning between them, so a large set loads without
 * one long pause; the result is the Engine the constructor makes.
 */
export function* engineSteps(sources: readonly SourceText[], loadErrors: readonly ReadError[], options: EngineOptions = {}): Steps<Engine> {
  const analysis = yield* analyzeSourcesSteps(sources, { lint: options.lint ?? false });
  const broken = hasErrors(analysis.diagnostics) || loadErrors.length > 0;
  const set = yield* compilePolicySetSteps(broken ? [] : analysis.files, { generate: options.generate ?? true });
  return new Engine(sources, loadErrors, options, { analysis, set });
}

function collectIds(files: readonly PolicyFile[]): string[] {
  // Best effort for a broken set: the ids that compile would have listed.
  try {
    return compilePolicySet(files, { generate: false }).ruleIds;
  } catch {
    return [];
  }
}

/**
 * sha256 hex of sources sorted by file name, then of the schema files they
 * declare (`schemas`: absolute paths as the checker resolved them), sorted
 * by path relative to the sources' common directory (see the top of this file).
 */
export function policyVersion(sources: readonly { file: string; text: string }[], schemas: readonly { file: string; text: string }[] = []): string {
  const names = sources.map((s) => s.file.split(/[\\/]/));
  let common = names.length > 0 ? names[0]!.length - 1 : 0;
  for (const parts of names) {
    common = Math.min(common, parts.length - 1);
    for (let i = 0; i < common; i++) if (parts[i] !== names[0]![i]) common = i;
  }
  const relative = sources.map((s, i) => ({ file: names[i]!.slice(common).join("/"), text: s.text }));
  relative.sort(byFile);
  const h = createHash("sha256");
  for (const s of relative) h.update(JSON.stringify([s.file, s.text]));
  if (schemas.length > 0) {
    const dir = names.length > 0 ? names[0]!.slice(0, common) : [];
    // ["", "srv", "policies"] is /srv/policies; [""] alone is the root.
    const base = dir.length > 0 && dir[0] === "" ? path.resolve("/", ...dir.slice(1)) : path.resolve(dir.join("/") || ".");
    const rel = schemas.map((s) => ({ file: path.relative(base, path.resolve(s.file)).split(path.sep).join("/"), text: s.text }));
    rel.sort(byFile);
    for (const s of rel) h.update(JSON.stringify(["schema", s.file, s.text]));
  }
  return h.digest("hex");
}

function byFile(a: { file: string }, b: { file: string }): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : 0;
}

/**
 * Load `.policy` files and directories (searched recursively) into an
 * engine. Never throws for bad policy text or unreadable paths: see
 * `diagnostics` and `loadErrors`; such an engine fails closed. An option
 * EngineOptions does not name rejects with a TypeError.
 */
export async function loadPolicies(paths: string | string[], options: EngineOptions = {}): Promise<Engine> {
  refuseUnknownOptions("loadPolicies", options, ENGINE_OPTION_KEYS);
  const { sources, errors } = await readSources(Array.isArray(paths) ? paths : [paths]);
  return new Engine(sources, errors, options);
}

/** An engine from one policy text (`file` names it in spans and ids; default "policy.policy"); an unknown option is a TypeError. */
export function compile(text: string, options: { file?: string } & EngineOptions = {}): Engine {
  refuseUnknownOptions("compile", options, [...ENGINE_OPTION_KEYS, "file"]);
  return new Engine([new SourceText(options.file ?? "policy.policy", text)], [], options);
}

export type { AccessDecision, EncryptionResult, MeshDecision, Decision, EvaluateOptions };
