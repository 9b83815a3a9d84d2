/**
 * Access rules (spec/LANGUAGE.md section 4) compiled to clause lists, and
 * the evaluation of one rule against one request.
 *
 * A rule's clauses run in source order and stop as soon as the outcome is
 * known (section 3): a false `when` or a true `unless` ends it (the rule does
 * not apply); an error in a reached clause ends it (the rule errored).
 *
 * Choices where the spec is silent:
 * - An unmet `require` does not end the rule: later clauses still run, since
 *   a later `when` may show the rule does not apply at all, and the decision
 *   needs every unmet requirement of an applicable rule (its messages become
 *   reasons; an MFA-only shortfall is a challenge).
 * - `when`, `unless` and `require` need a boolean; anything else is an error
 *   of that clause.
 * - `require` without `else` gives the reason "requirement not met: `EXPR`".
 *   An unmet `require mfa [within D]` gives "MFA within D required" (or "MFA
 *   required"), and its obligation is `{ mfa: { maxAge: "D" } }` with D as
 *   written (`{ mfa: {} }` without `within`).
 * - `require mfa within D`: a missing `context`, `context.mfa`,
 *   `context.mfa.verified_at`, or a null in their place, is unmet MFA, not
 *   an error. A `verified_at` that is not an RFC 3339 time or epoch seconds,
 *   or a `context`/`mfa` that is not an object, is an error of the rule.
 *   Holds when now - verified_at <= D (a timestamp in the future holds).
 * - `tags` clauses do nothing at evaluation.
 */
import type { AccessRule, Expr, PolicyFile } from "../parser/ast.js";
import { ruleId } from "../parser/ast.js";
import type { EvalContext } from "./context.js";
import { toErrorSpan, type Eval, type ExprCompiler } from "./compile-expr.js";
import { exprText } from "./expr-text.js";
import { msg, reasonText, show } from "./messages.js";
import { quotingError } from "./quoted-error.js";
import { timeValueMs } from "./time.js";
import type { ClauseTrace, MfaObligation, NotApplied, Reason } from "./decision.js";
import { EvalError, isObject, traceJson, typeName, type ErrorSpan, type Result, type TypeName } from "./values.js";

export const enum ClauseKind {
  When = 0,
  Unless = 1,
  Require = 2,
  Mfa = 3,
}

export interface CompiledClause {
  kind: ClauseKind;
  fn: Eval;
  span: ErrorSpan;
  /** When/unless: the shared "did not apply" explanation. */
  notApplied: NotApplied | null;
  /** Require/mfa: the reason given when unmet. */
  unmet: Reason | null;
  /** Mfa: maximum age in ms (Infinity without `within`), and the obligation. */
  mfaMaxMs: number;
  obligation: MfaObligation | null;
  notBoolean: (v: unknown) => EvalError;
}

export const enum Outcome {
  NotApplicable = 0,
  Applies = 1,
  /** Applicable; some requirement other than MFA is unmet. */
  Unmet = 2,
  /** Applicable; only MFA is unmet. */
  MfaOnly = 3,
  Errored = 4,
}

export interface CompiledAccessRule {
  id: string;
  effect: "allow" | "deny";
  /** Position in load order; decisions name the first rule in this order. */
  order: number;
  clauses: CompiledClause[];
  ast: AccessRule;
  file: PolicyFile;
  applies: Reason;
  errored: Reason;
  /**
   * The rule for requests the index narrowed (codegen.ts): the same
   * semantics as evalAccessRule, except that the leading literal tests the
   * index has already proven true are skipped.
   */
  run: (c: EvalContext, st: RuleState) => Outcome;
  /** The rule for any request (generated when nothing is skipped, else closures). */
  runFull: (c: EvalContext, st: RuleState) => Outcome;
}

/** Per-rule results of evalAccessRule, reused across rules of one decision. */
export class RuleState {
  notApplied: NotApplied | null = null;
  error: EvalError | null = null;
  unmet: Reason[] = [];
  obligation: MfaObligation | null = null;
}

function clauseTypeErrors(clause: string, span: ErrorSpan): (v: unknown) => EvalError {
  const cache = new Map<TypeName, EvalError>();
  return (v) => {
    const t = typeName(v);
    let e = cache.get(t);
    if (e === undefined) cache.set(t, (e = new EvalError(msg.clauseNotBoolean(clause, t), span)));
    return e;
  };
}

const NO_EVAL: Eval = () => null;

/**
 * A clause's closure, compiled on first use: the generated code serves
 * indexed requests, so closures are needed only for explain and for
 * requests the index cannot narrow.
 */
function lazyClause(cl: CompiledClause, expr: Expr, compiler: ExprCompiler): void {
  cl.fn = (c) => {
    const fn = compiler.compile(expr).fn;
    cl.fn = fn;
    return fn(c);
  };
}

export function compileAccessRule(file: PolicyFile, rule: AccessRule, order: number, compiler: ExprCompiler): CompiledAccessRule {
  const id = ruleId(file, rule);
  const clauses: CompiledClause[] = [];
  for (const cl of rule.clauses) {
    const span = toErrorSpan(cl.span);
    switch (cl.kind) {
      case "Tags":
        break;
      case "When":
      case "Unless": {
        const when = cl.kind === "When";
        clauses.push({
          kind: when ? ClauseKind.When : ClauseKind.Unless,
          fn: NO_EVAL,
          span,
          notApplied: Object.freeze({ rule: id, clause: when ? "when" : "unless", span }) as NotApplied,
          unmet: null,
          mfaMaxMs: 0,
          obligation: null,
          notBoolean: clauseTypeErrors(when ? "when" : "unless", toErrorSpan(cl.expr.span)),
        });
        lazyClause(clauses[clauses.length - 1]!, cl.expr, compiler);
        break;
      }
      case "Require":
        clauses.push({
          kind: ClauseKind.Require,
          fn: NO_EVAL,
          span,
          notApplied: null,
          unmet: Object.freeze({ rule: id, effect: "allow", message: cl.message?.value ?? reasonText.requireUnmet(exprText(cl.expr)) }) as Reason,
          mfaMaxMs: 0,
          obligation: null,
          notBoolean: clauseTypeErrors("require", toErrorSpan(cl.expr.span)),
        });
        lazyClause(clauses[clauses.length - 1]!, cl.expr, compiler);
        break;
      case "RequireMfa":
        clauses.push({
          kind: ClauseKind.Mfa,
          fn: NO_EVAL,
          span,
          notApplied: null,
          unmet: Object.freeze({ rule: id, effect: "allow", message: reasonText.mfaRequired(cl.within?.raw ?? null) }) as Reason,
          mfaMaxMs: cl.within === null ? Infinity : cl.within.ms,
          obligation: Object.freeze({ mfa: Object.freeze(cl.within === null ? {} : { maxAge: cl.within.raw }) }) as MfaObligation,
          notBoolean: clauseTypeErrors("require mfa", span),
        });
        break;
    }
  }
  const compiled: CompiledAccessRule = {
    id,
    effect: rule.effect,
    order,
    clauses,
    ast: rule,
    file,
    applies: Object.freeze({ rule: id, effect: rule.effect, message: rule.effect === "deny" ? reasonText.denyApplies : reasonText.allowApplies }) as Reason,
    errored: Object.freeze({ rule: id, effect: "deny", message: reasonText.denyErrored }) as Reason,
    run: (c, st) => evalAccessRule(compiled, c, st, null),
    runFull: (c, st) => evalAccessRule(compiled, c, st, null),
  };
  return compiled;
}

const MFA_MET = 1;
const MFA_UNMET = 0;
const hasOwn = Object.prototype.hasOwnProperty;

function own(o: object, key: string): unknown {
  return hasOwn.call(o, key) ? (o as Record<string, unknown>)[key] : undefined;
}

/** `require mfa [within D]`: met (1), unmet (0) or an error. */
export function checkMfa(c: EvalContext, maxMs: number, span: ErrorSpan): number | EvalError {
  const context = c.input["context"];
  if (context === undefined || context === null) return MFA_UNMET;
  if (!isObject(context)) return new EvalError(msg.notAnObject("mfa", "context", typeName(context)), span);
  const mfa = own(context, "mfa");
  if (mfa === undefined || mfa === null) return MFA_UNMET;
  if (!isObject(mfa)) return new EvalError(msg.notAnObject("verified_at", "context.mfa", typeName(mfa)), span);
  const at = own(mfa, "verified_at");
  if (at === undefined || at === null) return MFA_UNMET;
  const ms = timeValueMs(at);
  if (ms !== ms) return quotingError(msg.mfaTime, show(at), span);
  if (maxMs === Infinity) return MFA_MET;
  const now = c.now();
  if (now !== now) return new EvalError(msg.nowUnavailable(), span);
  return now - ms <= maxMs ? MFA_MET : MFA_UNMET;
}

const CLAUSE_NAMES = ["when", "unless", "require", "require mfa"] as const;

function trace(out: ClauseTrace[], cl: CompiledClause, v: Result | number): void {
  const t: ClauseTrace = { clause: CLAUSE_NAMES[cl.kind], span: cl.span };
  if (v instanceof EvalError) t.error = v.message;
  else t.value = cl.kind === ClauseKind.Mfa ? v === MFA_MET : traceJson(v);
  out.push(t);
}

/**
 * Evaluate one rule. Fills `st` (reset here): the NotApplied of the clause
 * that ended a non-applicable rule, the error of an errored rule, the unmet
 * requirements of an applicable allow rule. `out`, when given, receives
 * every clause reached with its value (explain).
 */
export function evalAccessRule(rule: CompiledAccessRule, c: EvalContext, st: RuleState, out: ClauseTrace[] | null): Outcome {
  let unmet = false;
  let mfaUnmet = false;
  if (st.unmet.length > 0) st.unmet = [];
  st.obligation = null;
  const clauses = rule.clauses;
  for (let i = 0; i < clauses.length; i++) {
    const cl = clauses[i]!;
    if (cl.kind === ClauseKind.Mfa) {
      const m = checkMfa(c, cl.mfaMaxMs, cl.span);
      if (out !== null) trace(out, cl, m);
      if (m === MFA_MET) continue;
      if (m instanceof EvalError) {
        st.error = m;
        return Outcome.Errored;
      }
      if (!mfaUnmet) st.obligation = cl.obligation;
      mfaUnmet = true;
      st.unmet.push(cl.unmet!);
      continue;
    }
    const v = cl.fn(c);
    if (out !== null) trace(out, cl, v);
    if (v === true) {
      if (cl.kind === ClauseKind.Unless) {
        st.notApplied = cl.notApplied;
        return Outcome.NotApplicable;
      }
    } else if (v === false) {
      if (cl.kind === ClauseKind.When) {
        st.notApplied = cl.notApplied;
        return Outcome.NotApplicable;
      }
      if (cl.kind === ClauseKind.Require) {
        unmet = true;
        st.unmet.push(cl.unmet!);
      }
    } else {
      st.error = v instanceof EvalError ? v : cl.notBoolean(v);
      return Outcome.Errored;
    }
  }
  if (unmet) return Outcome.Unmet;
  return mfaUnmet ? Outcome.MfaOnly : Outcome.Applies;
}
