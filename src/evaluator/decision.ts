/**
 * The result objects `evaluate()` returns (spec/LANGUAGE.md sections 4-6).
 * Plain JSON-serializable objects; the same shapes the CLI prints and the
 * HTTP API answers.
 */
import type { ErrorSpan } from "./values.js";

export type { ErrorSpan } from "./values.js";

/** An evaluation error: the rule it happened in (null for bad input), a message, where. */
export interface DecisionError {
  rule: string | null;
  message: string;
  span: ErrorSpan | null;
}

export interface Reason {
  /** The rule behind the reason; null for "no rule allows" and bad input. */
  rule: string | null;
  effect: "allow" | "deny";
  message: string;
}

/** Step-up: the caller must verify MFA (no older than maxAge, when given) and ask again. */
export interface MfaObligation {
  mfa: { maxAge?: string };
}

/**
 * Cheap, always-on explanation: a candidate rule that did not apply, and the
 * first clause that made it so (a `when` that was false or an `unless` that
 * was true). These objects are built at compile time and shared.
 */
export interface NotApplied {
  rule: string;
  clause: "when" | "unless";
  span: ErrorSpan;
}

/** One clause as `explain: true` reports it. */
export interface ClauseTrace {
  clause: "when" | "unless" | "require" | "require mfa" | "require key_age" | "public key";
  span: ErrorSpan | null;
  /** The clause's value (JSON; durations and IPs as text), when it evaluated. */
  value?: unknown;
  error?: string;
}

export type RuleOutcome = "applies" | "not-applicable" | "unmet" | "mfa" | "errored";

export interface RuleTrace {
  rule: string;
  effect: "allow" | "deny" | "encryption" | "mesh";
  outcome: RuleOutcome;
  clauses: ClauseTrace[];
}

export interface Explain {
  /** Rules evaluated for this input, in evaluation order. */
  rules: RuleTrace[];
  /** Access only: rules of the set, and how many the index let through. */
  total?: number;
  candidates?: number;
  /** Access only: whether the rule index narrowed the candidates. */
  indexed?: boolean;
}

export interface AccessDecision {
  decision: "allow" | "deny" | "challenge";
  /** The deciding rule; null when none (no rule allows, bad input). */
  rule: string | null;
  reasons: Reason[];
  obligations: MfaObligation[];
  errors: DecisionError[];
  /** The policy-set version: sha256 hex of the loaded sources. */
  version: string;
  notApplied: NotApplied[];
  explain?: Explain;
}

export interface Violation {
  rule: string | null;
  message: string;
}

export interface EncryptionResult {
  required: boolean;
  cipher: string | null;
  maxKeyAge: string | null;
  tee: boolean;
  aad: string[];
  /** Contributing rules (applicable or errored), `default` last. */
  rules: string[];
  errors: DecisionError[];
  version: string;
  notApplied: NotApplied[];
  /** Present when the input carries `data.encryption`. */
  compliant?: boolean;
  violations?: Violation[];
  explain?: Explain;
}

export interface MeshReason {
  rule: string | null;
  message: string;
}

export interface MeshDecision {
  decision: "admit" | "reject";
  /** The mesh's name (`swarm`); null when none could be chosen. */
  mesh: string | null;
  /** The mesh block's id (`package/name`). */
  rule: string | null;
  reasons: MeshReason[];
  errors: DecisionError[];
  version: string;
  notApplied: NotApplied[];
  explain?: Explain;
}

export type Decision = AccessDecision | EncryptionResult | MeshDecision;

export interface EvaluateOptions {
  /** Report every rule considered and every clause's value, with spans. */
  explain?: boolean;
}
