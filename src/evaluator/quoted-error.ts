/**
 * Errors whose message quotes an input value ("`in` needs an IP address,
 * found \"...\""). The caller who sent the value gets it back in the
 * message; logs get the same message with the value withheld, because the
 * value may sit under a path the decision log redacts (a secret). The
 * value-free text is made together with the message, from the same
 * template, and travels with the error, so no log has to find and scrub a
 * quoted (and perhaps truncated or escaped) value after the fact.
 */
import type { DecisionError } from "./decision.js";
import { EvalError, type ErrorSpan } from "./values.js";

/** What a logged message says in place of the input value. */
export const WITHHELD = "<withheld>";

/** An error whose message is `make(shown)`, `shown` being the input value as quoted; logged as `make(WITHHELD)`. */
export function quotingError(make: (shown: string) => string, shown: string, span: ErrorSpan | null): EvalError {
  return new EvalError(make(shown), span, false, make(WITHHELD));
}

// Keyed by the DecisionError object: the decision's JSON (the HTTP answer, the CLI's output) stays as it is.
const loggedText = new WeakMap<DecisionError, string>();

/** The DecisionError for `e` in `rule`, remembering its value-free message when the two differ. */
export function decisionError(rule: string | null, e: EvalError): DecisionError {
  const d: DecisionError = { rule, message: e.message, span: e.span };
  if (e.logged !== e.message) loggedText.set(d, e.logged);
  return d;
}

/** The message of `e` to log: without the input values it quotes. */
export function loggedMessage(e: DecisionError): string {
  return loggedText.get(e) ?? e.message;
}
