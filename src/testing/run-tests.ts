/**
 * Running the `test` blocks of policy files (spec/LANGUAGE.md section 8).
 *
 * A test's input is a literal (consts of its package may appear in it); it
 * is evaluated by the same engine services use, and every `expect` is
 * checked against the decision. An input the engine refuses before any rule
 * runs (its schema, its shape, no such mesh) is answered with a deny (reject)
 * as a service would get it, so `expect deny` can pass on the refusal alone;
 * such a test carries the reasons in `refused`, and with `strict` it fails
 * whatever it expects (as every test of a policy set with errors does). `expect EXPR` is compiled by the evaluator's own expression
 * compiler with `result` (the decision as JSON) as its only root, so a test
 * reads decisions with exactly the semantics rules have: an expectation that
 * errors (a missing field, a type error) fails the test.
 *
 * `events` tests run the correlation engine (src/runtime/siem/) over a list
 * literal of event objects, or a JSONL file whose path is relative to the
 * policy file, with a fresh detector and a fresh memory risk store per test.
 * `expect alert "x" [count N]` counts the alerts of the rule that `x`
 * names: the rule with id `x`, else the test's own package's rule named `x`,
 * else the only rule named `x` (several: the test fails, asking for an id);
 * without `count`, at least one. `expect no alert` wants none at all;
 * `expect EXPR` reads `result.alerts`. A missing file, a bad JSON line, a
 * malformed event or one behind the newest event time (late) fails the test
 * with a message saying which.
 */
import { dirname, resolve } from "node:path";
import type { Expectation, Item, PolicyFile, TestBlock } from "../parser/ast.js";
import { packageOf } from "../parser/ast.js";
import type { Span } from "../parser/span.js";
import { ConstTable } from "../evaluator/compile.js";
import { ExprCompiler } from "../evaluator/compile-expr.js";
import { EvalContext } from "../evaluator/context.js";
import { EMPTY_RISK_STORE } from "../evaluator/stores.js";
import { isError, toJson, typeName, type ObjectValue, type Result } from "../evaluator/values.js";
import type { Decision, EvaluateOptions, RuleTrace } from "../evaluator/decision.js";
import { MemoryRiskStore } from "../evaluator/stores.js";
import { compileDetectRules, type CompiledDetectRule } from "../runtime/siem/compile-detect.js";
import { createDetector, type Alert } from "../runtime/siem/detector.js";
import { POLICY_SET_ERRORS } from "../engine.js";
import { readRegularFileSync } from "../checker/regular-file.js";

/** What the runner needs of an engine. */
export interface TestTarget {
  evaluate(input: unknown, options?: EvaluateOptions): Decision;
  /**
   * Why `evaluate` would answer the input without consulting a rule (empty
   * when rules decide): the refusal is a deny (reject, required encryption)
   * that says nothing about the rules (see RunOptions.strict).
   */
  refusal?(input: unknown): string[];
}

export interface TestFailure {
  /** The expectation that failed (or the test itself, for a bad input). */
  span: Span;
  message: string;
  expected?: unknown;
  actual?: unknown;
}

export interface TestCaseResult {
  /** `package/name` */
  id: string;
  name: string;
  span: Span;
  input: "access" | "encryption" | "mesh" | "events" | null;
  status: "passed" | "failed" | "skipped";
  failures: TestFailure[];
  /** Why a skipped test did not run. */
  skipReason?: string;
  /** The decision the test produced (access, encryption and mesh tests that ran). */
  decision?: Decision;
  /** The alerts an `events` test produced. */
  alerts?: Alert[];
  /** Why the engine refused the test's input before any rule ran (absent when rules decided). */
  refused?: string[];
}

export interface CoverageReport {
  /** Rule ids with no test reaching them at all. */
  rulesMissed: string[];
  rulesTotal: number;
  /** Condition clauses (when / unless / require ...) that no test evaluated. */
  clausesMissed: { rule: string; clause: string; span: Span }[];
  clausesTotal: number;
  /** Evaluated clauses over all clauses, 0-100, rounded down to a tenth (100 when there are none). */
  percent: number;
}

export interface TestRun {
  results: TestCaseResult[];
  passed: number;
  failed: number;
  skipped: number;
  coverage?: CoverageReport;
}

export interface RunOptions {
  /** Collect clause coverage (evaluates every test with explain on). */
  coverage?: boolean;
  /** Only tests whose name or id contains this text. */
  filter?: string;
  /**
   * A test whose input the engine refuses before any rule runs fails,
   * whatever it expects (default false: its expectations are checked against
   * the refusal, and it carries `refused`). The refusal is a deny, so
   * `expect deny` passes on it alone, and keeps passing when the rule the
   * test meant to reach is deleted or its input misspelt.
   */
  strict?: boolean;
}

const RESULT_ROOTS: ReadonlySet<string> = new Set(["result"]);
const NO_ROOTS: ReadonlySet<string> = new Set();

function spanText(s: Span): string {
  return `${s.file}:${s.line}:${s.column}`;
}

/** A folded literal as plain JSON (durations and IPs as their text). */
function toPlain(v: Result): unknown {
  if (isError(v)) return v;
  if (Array.isArray(v)) return v.map((x) => toPlain(x));
  if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    // fromEntries keeps a `"__proto__"` key an own key, as JSON.parse does; assigning it would set the
    // prototype instead, and the test would evaluate an input no service can send.
    return Object.fromEntries(Object.entries(v as ObjectValue).map(([k, x]) => [k, toPlain(x)]));
  }
  return toJson(v);
}

function checkExpectation(
  e: Expectation,
  decision: Decision,
  result: ObjectValue,
  compiler: ExprCompiler,
): TestFailure | null {
  switch (e.kind) {
    case "ExpectDecision": {
      const actual = "decision" in decision ? decision.decision : undefined;
      if (actual === e.decision) return null;
      return { span: e.span, message: `expected ${e.decision}, got ${actual ?? "no decision"}`, expected: e.decision, actual };
    }
    case "ExpectExpr": {
      const c = compiler.compile(e.expr);
      const ctx = new EvalContext({ result }, NaN, Date.now, EMPTY_RISK_STORE);
      const v = c.fn(ctx);
      if (v === true) return null;
      if (isError(v)) return { span: e.span, message: `expectation errored: ${v.message}` };
      return { span: e.span, message: `expectation is ${typeName(v) === "boolean" ? "false" : `not a boolean (${typeName(v)})`}`, actual: toPlain(v) };
    }
    case "ExpectAlert":
    case "ExpectNoAlert":
      return { span: e.span, message: "alert expectations need an `events` input" };
  }
}

function testsOf(files: readonly PolicyFile[]): { file: PolicyFile; test: TestBlock }[] {
  const out: { file: PolicyFile; test: TestBlock }[] = [];
  for (const file of files) for (const item of file.items) if (item.kind === "Test") out.push({ file, test: item });
  return out;
}

/** Run every test block of `files` against `target`. Never throws for bad tests. */
export function runPolicyTests(files: readonly PolicyFile[], target: TestTarget, options: RunOptions = {}): TestRun {
  const consts = new ConstTable(files);
  const results: TestCaseResult[] = [];
  const traces: RuleTrace[] = [];
  let detectRules: CompiledDetectRule[] | null = null;
  const detectReached = new Set<string>();
  for (const { file, test } of testsOf(files)) {
    const pkg = packageOf(file);
    const id = `${pkg}/${test.name}`;
    if (options.filter !== undefined && !id.includes(options.filter)) continue;
    const base = { id, name: test.name, span: test.nameSpan, input: test.input?.inputKind ?? null };
    if (test.input === null) {
      results.push({ ...base, status: "failed", failures: [{ span: test.span, message: "test has no input" }] });
      continue;
    }
    if (test.input.inputKind === "events") {
      detectRules ??= compileDetectRules(files);
      const { reached, ...outcome } = runEventsTest(file, test, detectRules, consts);
      for (const id of reached) detectReached.add(id);
      results.push({ ...base, ...outcome });
      continue;
    }
    const literal = new ExprCompiler(consts.scope(pkg, NO_ROOTS)).compile(test.input.value);
    const value = literal.constant ? toPlain(literal.value) : undefined;
    if (value === undefined || isError(value) || typeof value !== "object" || value === null || Array.isArray(value)) {
      const why = isError(value) ? value.message : "the input must be an object literal";
      results.push({ ...base, status: "failed", failures: [{ span: test.input.span, message: `bad test input: ${why}` }] });
      continue;
    }
    const input = { ...(value as object), kind: test.input.inputKind };
    const decision = target.evaluate(input, { explain: options.coverage === true });
    const refused = target.refusal?.(input) ?? [];
    // A set with errors refuses everything, whatever the input: no test of it passes.
    if (refused.length > 0 && (options.strict === true || refused.includes(POLICY_SET_ERRORS))) {
      // Checking the expectations would pass `expect deny` on the refusal alone.
      const message = `test input refused before any rule ran: ${refused.join("; ")}`;
      results.push({ ...base, status: "failed", failures: [{ span: test.input.span, message }], decision, refused });
      continue;
    }
    if (decision.explain) traces.push(...decision.explain.rules);
    const result = JSON.parse(JSON.stringify({ ...decision, explain: undefined })) as ObjectValue;
    const compiler = new ExprCompiler(consts.scope(pkg, RESULT_ROOTS));
    const failures: TestFailure[] = [];
    for (const e of test.expects) {
      const f = checkExpectation(e, decision, result, compiler);
      if (f) failures.push(f);
    }
    if (test.expects.length === 0) failures.push({ span: test.span, message: "test has no `expect`" });
    results.push({ ...base, status: failures.length === 0 ? "passed" : "failed", failures, decision, ...(refused.length > 0 ? { refused } : {}) });
  }
  const run: TestRun = {
    results,
    passed: results.filter((r) => r.status === "passed").length,
    failed: results.filter((r) => r.status === "failed").length,
    skipped: results.filter((r) => r.status === "skipped").length,
  };
  if (options.coverage) run.coverage = coverageOf(files, traces, detectReached);
  return run;
}

type EventsOutcome = Pick<TestCaseResult, "status" | "failures" | "alerts"> & {
  /** Ids of the detect rules the test reached (for coverage). */
  reached: string[];
};

/**
 * The rule `expect alert "x"` names in a test of package `pkg`: the rule with
 * id `x`, else the rule named `x` in `pkg`, else the one rule named `x`
 * elsewhere. A name that several other packages share names none (an error
 * message): counting all of them let another package's alert pass the test.
 */
function ruleNamed(x: string, pkg: string, rules: readonly CompiledDetectRule[]): CompiledDetectRule | null | string {
  const byId = rules.find((r) => r.id === x) ?? rules.find((r) => r.id === `${pkg}/${x}`);
  if (byId) return byId;
  const named = rules.filter((r) => r.name === x);
  if (named.length <= 1) return named[0] ?? null;
  return `\`${x}\` names detect rules in several packages (${named.map((r) => r.id).sort().join(", ")}); name one by id`;
}

/** A test's events file: a regular file (not a FIFO or a device, which would hang the run or fill memory) of at most this size. */
const MAX_EVENTS_FILE_BYTES = 256 * 1024 * 1024;

/** The events of an `events` input, or why there are none. */
function eventsOf(file: PolicyFile, test: TestBlock, consts: ConstTable): unknown[] | string {
  const input = test.input!;
  const literal = new ExprCompiler(consts.scope(packageOf(file), NO_ROOTS)).compile(input.value);
  const value = literal.constant ? toPlain(literal.value) : undefined;
  if (isError(value)) return `bad test input: ${value.message}`;
  if (Array.isArray(value)) return value;
  if (typeof value !== "string") return "bad test input: `events` takes a list of event objects or a JSONL file path";
  const path = resolve(dirname(file.file), value);
  let text: string;
  try {
    text = readRegularFileSync(path, MAX_EVENTS_FILE_BYTES).toString("utf8");
  } catch (err) {
    const code = (err as { code?: string }).code;
    return `cannot read events file "${value}" (${path}): ${code === "ENOENT" ? "no such file" : String((err as Error).message)}`;
  }
  const events: unknown[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    try {
      events.push(JSON.parse(line));
    } catch {
      return `events file "${value}" line ${i + 1}: not valid JSON`;
    }
  }
  return events;
}

function runEventsTest(file: PolicyFile, test: TestBlock, rules: readonly CompiledDetectRule[], consts: ConstTable): EventsOutcome {
  const input = test.input!;
  const events = eventsOf(file, test, consts);
  if (typeof events === "string") return { status: "failed", failures: [{ span: input.span, message: events }], reached: [] };
  const detector = createDetector(rules, { risk: new MemoryRiskStore() });
  const alerts: Alert[] = [];
  for (const e of events) alerts.push(...detector.push(e));
  alerts.push(...detector.flush());
  const failures: TestFailure[] = [];
  const stats = detector.stats();
  // Reached: an event matched the rule (its `where`, or a step), or an `expect alert` names it.
  const reached = new Set(Object.entries(stats.rules).filter(([, r]) => r.matched > 0 || r.alerts > 0).map(([id]) => id));
  for (const p of stats.problems) {
    if (p.kind === "malformed") failures.push({ span: input.span, message: `event ${p.index}: ${p.message}` });
    // A late event is kept out of `by ... within` rules here, and grouped where a deployment allows
    // lateness (`detect --lateness`): what the test shows would depend on a setting it cannot see.
    else failures.push({ span: input.span, message: `event ${p.index} is late: ${p.message}; put a test's events in time order` });
  }
  // The detector keeps the first 100 problems only; its counts are complete.
  if (stats.malformed > 0 && !stats.problems.some((p) => p.kind === "malformed")) failures.push({ span: input.span, message: `${stats.malformed} malformed event${stats.malformed === 1 ? "" : "s"}` });
  if (stats.late > 0 && !stats.problems.some((p) => p.kind === "late")) failures.push({ span: input.span, message: `${stats.late} late event${stats.late === 1 ? "" : "s"}; put a test's events in time order` });
  const result = JSON.parse(JSON.stringify({ alerts })) as ObjectValue;
  const compiler = new ExprCompiler(consts.scope(packageOf(file), RESULT_ROOTS));
  for (const e of test.expects) {
    switch (e.kind) {
      case "ExpectAlert": {
        // Alerts carry the rule's name only, and two packages may each have a rule of that name:
        // count the named rule's own alerts (the detector's per-rule-id stats).
        const named = ruleNamed(e.rule.value, packageOf(file), rules);
        if (typeof named === "string") {
          failures.push({ span: e.rule.span, message: named });
          break;
        }
        if (named) reached.add(named.id);
        const n = named ? (stats.rules[named.id]?.alerts ?? 0) : 0;
        const want = e.count?.value;
        if (want === undefined ? n === 0 : n !== want) {
          failures.push({
            span: e.span,
            message: `expected ${want === undefined ? "at least one alert" : `${want} alert${want === 1 ? "" : "s"}`} "${e.rule.value}", got ${n}`,
            expected: want ?? ">= 1",
            actual: n,
          });
        }
        break;
      }
      case "ExpectNoAlert":
        if (alerts.length > 0) {
          failures.push({
            span: e.span,
            message: `expected no alert, got ${alerts.length}: ${[...new Set(alerts.map((a) => a.rule))].join(", ")}`,
            expected: 0,
            actual: alerts.length,
          });
        }
        break;
      case "ExpectDecision":
        failures.push({ span: e.span, message: `\`expect ${e.decision}\` needs an access, encryption or mesh input` });
        break;
      case "ExpectExpr": {
        const ctx = new EvalContext({ result }, NaN, Date.now, EMPTY_RISK_STORE);
        const v = compiler.compile(e.expr).fn(ctx);
        if (v === true) break;
        if (isError(v)) failures.push({ span: e.span, message: `expectation errored: ${v.message}` });
        else failures.push({ span: e.span, message: `expectation is ${typeName(v) === "boolean" ? "false" : `not a boolean (${typeName(v)})`}`, actual: toPlain(v) });
        break;
      }
    }
  }
  if (test.expects.length === 0) failures.push({ span: test.span, message: "test has no `expect`" });
  return { status: failures.length === 0 ? "passed" : "failed", failures, alerts, reached: [...reached] };
}

const CONDITION_CLAUSES = new Set(["When", "Unless", "Require", "RequireMfa", "RequireKeyAge"]);
const CLAUSE_WORD: Record<string, string> = {
  When: "when",
  Unless: "unless",
  Require: "require",
  RequireMfa: "require mfa",
  RequireKeyAge: "require key_age",
};

function ruleIdOf(file: PolicyFile, item: Item): string | null {
  switch (item.kind) {
    case "AccessRule":
    case "Mesh":
      return `${packageOf(file)}/${item.name}`;
    case "EncryptionRule":
      return `${packageOf(file)}/${item.name ?? "default"}`;
    case "Detect":
      return `${packageOf(file)}/${item.name}`;
    default:
      return null;
  }
}

/**
 * Which rules and condition clauses the tests exercised, from the explain
 * traces (a clause counts when it was evaluated, whatever its value).
 * Detect rules count as rules, reached when an `events` test pushed an event
 * that matched them or named them in `expect alert` (`detectReached`); their
 * `where` and steps are not clauses of the percentage, whose clauses are
 * evaluated once per decision, where a detect condition runs per event.
 */
function coverageOf(files: readonly PolicyFile[], traces: readonly RuleTrace[], detectReached: ReadonlySet<string>): CoverageReport {
  const rulesSeen = new Set<string>(detectReached);
  const clausesSeen = new Set<string>();
  for (const t of traces) {
    rulesSeen.add(t.rule);
    for (const c of t.clauses) if (c.span) clausesSeen.add(`${c.span.file}:${c.span.line}:${c.span.column}`);
  }
  const rulesMissed: string[] = [];
  const clausesMissed: CoverageReport["clausesMissed"] = [];
  let rulesTotal = 0;
  let clausesTotal = 0;
  for (const file of files) {
    for (const item of file.items) {
      const id = ruleIdOf(file, item);
      if (id === null || !("clauses" in item)) continue;
      rulesTotal++;
      if (!rulesSeen.has(id)) rulesMissed.push(id);
      for (const clause of item.clauses) {
        if (!CONDITION_CLAUSES.has(clause.kind)) continue;
        // An encryption rule's requirements are merged, not evaluated: only its conditions count.
        if (item.kind === "EncryptionRule" && clause.kind !== "When" && clause.kind !== "Unless") continue;
        clausesTotal++;
        if (!clausesSeen.has(spanText(clause.span))) clausesMissed.push({ rule: id, clause: CLAUSE_WORD[clause.kind]!, span: clause.span });
      }
    }
  }
  // Rounded down: 2000 of 2001 clauses is 99.9%, never a "100%" printed over a missed clause.
  const percent = clausesTotal === 0 ? 100 : Math.floor((1000 * (clausesTotal - clausesMissed.length)) / clausesTotal) / 10;
  return { rulesMissed, rulesTotal, clausesMissed, clausesTotal, percent };
}
