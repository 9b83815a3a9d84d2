/**
 * Combining rule outcomes into an access decision (spec/LANGUAGE.md
 * section 4), kept apart from expression evaluation. Ours differs from
 * Cedar's on purpose: a deny rule that errors denies (fail closed), an allow
 * rule that errors never grants.
 *
 *   1. any applicable or errored deny rule          -> deny
 *   2. an applicable allow rule, every require met   -> allow
 *   3. an applicable allow rule short only of MFA    -> challenge + { mfa: { maxAge } }
 *   4. otherwise                                     -> deny
 *
 * Choices where the spec is silent:
 * - Every candidate deny rule is evaluated (so `reasons` and `errors` list
 *   all of them); when one applies or errors, allow rules are not evaluated.
 *   Otherwise every candidate allow rule is evaluated.
 * - `rule` is the first rule in load order (files sorted by path, rules in
 *   source order) that decided: the first applicable/errored deny rule; the
 *   first granting allow rule; the first MFA-only allow rule (challenge);
 *   the first applicable allow rule with unmet requirements (step 4); null
 *   when nothing applied.
 * - `reasons`: on deny by rule, one per applicable deny rule ("deny rule
 *   applies") and per errored deny rule ("deny rule errored; denied to fail
 *   closed"); on allow, one per granting rule ("allow rule applies"); on
 *   challenge and step-4 deny, the unmet requirements of every applicable
 *   allow rule in order; with nothing applicable, "no rule allows".
 * - A challenge carries one obligation: that of the deciding rule (its first
 *   unmet `require mfa`). Meeting it satisfies that rule.
 * - `errors` lists errors of every rule evaluated, allow rules included,
 *   whatever the decision.
 */
import { evalAccessRule, Outcome, RuleState, type CompiledAccessRule } from "./access.js";
import type { EvalContext } from "./context.js";
import type { AccessDecision, ClauseTrace, DecisionError, MfaObligation, NotApplied, Reason, RuleTrace } from "./decision.js";
import { reasonText } from "./messages.js";
import { decisionError } from "./quoted-error.js";
import type { Candidates } from "./rule-index.js";

const NO_RULE_ALLOWS: Reason = Object.freeze({ rule: null, effect: "deny", message: reasonText.noRuleAllows }) as Reason;
const OUTCOME_NAMES = ["not-applicable", "applies", "unmet", "mfa", "errored"] as const;

function errorOf(rule: CompiledAccessRule, st: RuleState): DecisionError {
  return decisionError(rule.id, st.error!);
}

export function decideAccess(
  cands: Candidates,
  c: EvalContext,
  version: string,
  traces: RuleTrace[] | null,
  st: RuleState = new RuleState(),
  recordNotApplied = true,
): AccessDecision {
  const notApplied: NotApplied[] = [];
  const errors: DecisionError[] = [];
  const reasons: Reason[] = [];
  let rule: string | null = null;

  const deny = cands.deny;
  const indexed = cands.indexed;
  for (let i = 0; i < deny.length; i++) {
    const r = deny[i]!;
    let o: Outcome;
    if (traces === null) o = indexed ? r.run(c, st) : r.runFull(c, st);
    else {
      const clauses: ClauseTrace[] = [];
      o = evalAccessRule(r, c, st, clauses);
      traces.push({ rule: r.id, effect: "deny", outcome: OUTCOME_NAMES[o], clauses });
    }
    if (o === Outcome.NotApplicable) {
      if (recordNotApplied) notApplied.push(st.notApplied!);
    } else if (o === Outcome.Errored) {
      errors.push(errorOf(r, st));
      reasons.push(r.errored);
      if (rule === null) rule = r.id;
    } else {
      reasons.push(r.applies);
      if (rule === null) rule = r.id;
    }
  }
  if (rule !== null) return { decision: "deny", rule, reasons, obligations: [], errors, version, notApplied };

  let granted: string | null = null;
  let challenge: string | null = null;
  let obligation: MfaObligation | null = null;
  let unmetRule: string | null = null;
  let unmet: Reason[] | null = null;
  const allow = cands.allow;
  for (let i = 0; i < allow.length; i++) {
    const r = allow[i]!;
    let o: Outcome;
    if (traces === null) o = indexed ? r.run(c, st) : r.runFull(c, st);
    else {
      const clauses: ClauseTrace[] = [];
      o = evalAccessRule(r, c, st, clauses);
      traces.push({ rule: r.id, effect: "allow", outcome: OUTCOME_NAMES[o], clauses });
    }
    switch (o) {
      case Outcome.NotApplicable:
        if (recordNotApplied) notApplied.push(st.notApplied!);
        break;
      case Outcome.Applies:
        reasons.push(r.applies);
        if (granted === null) granted = r.id;
        break;
      case Outcome.MfaOnly:
      case Outcome.Unmet:
        // An MFA shortfall is a reason like any unmet requirement.
        if (o === Outcome.MfaOnly && challenge === null) {
          challenge = r.id;
          obligation = st.obligation;
        }
        if (unmetRule === null) unmetRule = r.id;
        (unmet ??= []).push(...st.unmet);
        break;
      case Outcome.Errored:
        errors.push(errorOf(r, st));
        break;
    }
  }
  if (granted !== null) return { decision: "allow", rule: granted, reasons, obligations: [], errors, version, notApplied };
  if (challenge !== null) {
    return { decision: "challenge", rule: challenge, reasons: unmet!, obligations: [obligation!], errors, version, notApplied };
  }
  if (unmet !== null) return { decision: "deny", rule: unmetRule, reasons: unmet, obligations: [], errors, version, notApplied };
  return { decision: "deny", rule: null, reasons: [NO_RULE_ALLOWS], obligations: [], errors, version, notApplied };
}
