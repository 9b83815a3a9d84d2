/**
 * Security events of MFA, ECS-style, for the correlation engine (`detect`
 * rules, spec/LANGUAGE.md section 7) and any SIEM.
 *
 * Choices where the issue is silent (docs/mfa.md "Security events"):
 * - `event.category` is the string "authentication", not ECS's one-element
 *   array: detect rules compare `event.category == "authentication"`, and a
 *   list never equals a string.
 * - Every verification is one `mfa-verify` event, `event.outcome` "success"
 *   or "failure", and on failure `event.reason` (invalid, replay, locked,
 *   not-enrolled, error: a store or the keyring failed, e.g. a secret file
 *   that was tampered with). A lock beginning is one more event, `mfa-lockout`, whose
 *   outcome is "unknown" (a consequence, not an attempt), so rules counting
 *   failed attempts do not count it twice.
 * - Nothing derived from the code or the secret is ever put in an event: the
 *   only inputs are the user name, the outcome, the reason and lockout
 *   numbers, and the builders below take nothing else.
 * - Our own fields go under `swarm.mfa` (ECS reserves top-level names).
 */

/** Receives each event as it happens. A throw propagates to the caller (the attempt then fails). */
export type SecurityEventSink = (event: MfaEvent) => void;

/** Why an attempt failed; "error": a store or the keyring failed (the attempt is refused, and `verify` rejects). */
export type MfaFailureReason = "invalid" | "replay" | "locked" | "not-enrolled" | "error";

/** An ECS-style event object (JSON-serializable). */
export type MfaEvent = Record<string, unknown> & { "@timestamp": string; event: Record<string, unknown> };

const DATASET = "swarm_policy.mfa";

function base(at: number, action: string, outcome: "success" | "failure" | "unknown", category: string, user: string | undefined, sourceIp: string | undefined): MfaEvent {
  const event: MfaEvent = {
    "@timestamp": new Date(at).toISOString(),
    event: { kind: "event", category, action, outcome, dataset: DATASET, provider: "swarm-policy" },
  };
  if (user !== undefined) event.user = { name: user };
  if (sourceIp !== undefined) event.source = { ip: sourceIp };
  return event;
}

/** The event of one verification attempt (`at` in ms since the epoch). */
export function mfaVerifyEvent(args: {
  at: number;
  user: string | undefined;
  outcome: "success" | "failure";
  reason?: MfaFailureReason;
  sourceIp?: string;
  failures?: number;
  retryAfterMs?: number;
}): MfaEvent {
  const event = base(args.at, "mfa-verify", args.outcome, "authentication", args.user, args.sourceIp);
  if (args.reason !== undefined) event.event.reason = args.reason;
  const mfa: Record<string, unknown> = {};
  if (args.failures !== undefined) mfa.failures = args.failures;
  if (args.retryAfterMs !== undefined) mfa.retry_after_ms = args.retryAfterMs;
  if (Object.keys(mfa).length > 0) event.swarm = { mfa };
  return event;
}

/** The event of a lock beginning. */
export function mfaLockoutEvent(args: { at: number; user: string; failures: number; lockedUntil: number; sourceIp?: string }): MfaEvent {
  const event = base(args.at, "mfa-lockout", "unknown", "authentication", args.user, args.sourceIp);
  event.event.reason = `${args.failures} consecutive failures`;
  event.swarm = {
    mfa: { failures: args.failures, locked_until: new Date(args.lockedUntil).toISOString(), retry_after_ms: args.lockedUntil - args.at },
  };
  return event;
}

/** The event of an enrolment (a new or replaced secret). */
export function mfaEnrollEvent(args: { at: number; user: string; replaced: boolean }): MfaEvent {
  const event = base(args.at, "mfa-enroll", "success", "iam", args.user, undefined);
  event.event.type = [args.replaced ? "change" : "creation"];
  return event;
}
