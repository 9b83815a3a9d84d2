/**
 * `evaluate(input)` over a compiled policy set: check the input, pick the
 * evaluator by `kind`, and answer. Synchronous, no I/O, and it never throws:
 * bad input, a policy set with errors, or anything unexpected (a store that
 * throws, a hostile getter in a JavaScript input) is a deny/reject with the
 * error in `errors` (fail closed).
 */
import type { CompiledPolicySet } from "./compile.js";
import { EvalContext } from "./context.js";
import { decideAccess } from "./decide.js";
import { RuleState } from "./access.js";
import type { AccessDecision, Decision, DecisionError, EncryptionResult, EvaluateOptions, Explain, MeshDecision, RuleTrace } from "./decision.js";
import { decideEncryption } from "./encryption.js";
import { checkInput, type InputKind, type SchemaValidator } from "./input.js";
import { chooseMesh, decideMesh } from "./mesh.js";
import { msg, reasonText } from "./messages.js";
import { EMPTY_RISK_STORE, type RiskStore } from "./stores.js";
import { EvalError, prototypePolluted, type ObjectValue } from "./values.js";
import { decisionError } from "./quoted-error.js";

export interface EvaluatorOptions {
  /** Policy-set version stamped on every decision. */
  version: string;
  /** Epoch ms; used for `now` when the input has no `time`. */
  clock?: () => number;
  risk?: RiskStore;
  /** Input schemas by kind; validation is off when absent. */
  schemas?: ReadonlyMap<string, SchemaValidator> | null;
  /** When set, every evaluation fails closed with this error (a policy set with errors). */
  failure?: string | null;
  /**
   * Record `notApplied` on access decisions (default true). Off only to
   * measure what the always-on explanation costs; decisions are otherwise
   * identical.
   */
  notApplied?: boolean;
}

/** Why an input was refused: plain text, or an error whose message quotes an input value. */
export type InputMessage = string | EvalError;

function inputError(rule: string | null, m: InputMessage): DecisionError {
  return typeof m === "string" ? { rule, message: m, span: null } : decisionError(rule, m);
}

export function failAccess(version: string, messages: readonly InputMessage[], reason: string): AccessDecision {
  return {
    decision: "deny",
    rule: null,
    reasons: [{ rule: null, effect: "deny", message: reason }],
    obligations: [],
    errors: messages.map((m) => inputError(null, m)),
    version,
    notApplied: [],
  };
}

export function failEncryption(version: string, messages: readonly InputMessage[]): EncryptionResult {
  // Fail closed: encryption is required, with no cipher anyone could satisfy by accident.
  return {
    required: true,
    cipher: null,
    maxKeyAge: null,
    tee: false,
    aad: [],
    rules: [],
    errors: messages.map((m) => inputError(null, m)),
    version,
    notApplied: [],
    compliant: false,
    violations: [],
  };
}

export function failMesh(version: string, messages: readonly InputMessage[], reason: string, mesh: string | null = null, rule: string | null = null): MeshDecision {
  return {
    decision: "reject",
    mesh,
    rule,
    reasons: [{ rule, message: reason }],
    errors: messages.map((m) => inputError(rule, m)),
    version,
    notApplied: [],
  };
}

function fail(kind: InputKind, version: string, messages: readonly InputMessage[], reason: string): Decision {
  if (kind === "encryption") return failEncryption(version, messages);
  if (kind === "mesh") return failMesh(version, messages, reason);
  return failAccess(version, messages, reason);
}

/**
 * The message for something thrown during an evaluation. A hostile input can
 * throw anything, including a value that cannot be made a string (a
 * null-prototype object, a throwing `message` getter): describing it must
 * not throw in turn, or the exception escapes evaluate().
 */
export function internalError(err: unknown): string {
  try {
    return `internal error: ${err instanceof Error ? String(err.message) : String(err)}`;
  } catch {
    return "internal error: an exception that cannot be shown";
  }
}

/** The `kind` an input asks for, for failing in the right shape before it is checked. */
function kindOf(input: unknown): InputKind {
  if (typeof input === "object" && input !== null && !Array.isArray(input)) {
    try {
      const k = (input as { kind?: unknown }).kind;
      if (k === "encryption" || k === "mesh") return k;
    } catch {
      // a throwing getter: answer in the access shape
    }
  }
  return "access";
}

export class Evaluator {
  readonly version: string;
  private readonly clock: () => number;
  private readonly store: RiskStore;
  private readonly schemas: ReadonlyMap<string, SchemaValidator> | null;
  private readonly failure: string | null;
  private readonly recordNotApplied: boolean;
  private idle: RuleState | null = new RuleState();

  constructor(
    readonly set: CompiledPolicySet,
    options: EvaluatorOptions,
  ) {
    this.version = options.version;
    this.clock = options.clock ?? Date.now;
    this.store = options.risk ?? EMPTY_RISK_STORE;
    this.schemas = options.schemas && options.schemas.size > 0 ? options.schemas : null;
    this.failure = options.failure ?? null;
    this.recordNotApplied = options.notApplied !== false;
  }

  evaluate(input: unknown, options?: EvaluateOptions): Decision {
    try {
      return this.run(input, options?.explain === true);
    } catch (err) {
      return fail(kindOf(input), this.version, [internalError(err)], reasonText.evaluationFailed);
    }
  }

  private run(raw: unknown, explain: boolean): Decision {
    if (this.failure !== null) return fail(kindOf(raw), this.version, [this.failure], reasonText.policyErrors);
    if (prototypePolluted()) return fail(kindOf(raw), this.version, [msg.prototypePolluted], reasonText.evaluationFailed);
    const checked = checkInput(raw, this.schemas);
    if ("messages" in checked) return fail(checked.kind, this.version, checked.messages, reasonText.invalidInput);
    const { kind, input } = checked;
    const c = new EvalContext(input, checked.timeMs, this.clock, this.store);
    const traces: RuleTrace[] | null = explain ? [] : null;
    const set = this.set;
    switch (kind) {
      case "access": {
        const resource = input["resource"] as ObjectValue;
        const principal = input["principal"] as ObjectValue;
        const cands = set.index.candidates(input["action"], resource["type"], principal["roles"]);
        // One RuleState per evaluator, unless a store calls back into evaluate().
        const st = this.idle ?? new RuleState();
        this.idle = null;
        const d = decideAccess(cands, c, this.version, traces, st, this.recordNotApplied);
        this.idle = st;
        if (traces !== null) {
          const total = set.access.length;
          const candidates = cands.deny.length + cands.allow.length;
          d.explain = { rules: traces, total, candidates, indexed: cands !== set.index.all } satisfies Explain;
        }
        return d;
      }
      case "encryption": {
        const d = decideEncryption(set.encryption, c, this.version, traces);
        if (traces !== null) d.explain = { rules: traces };
        return d;
      }
      case "mesh": {
        const mesh = chooseMesh(set.meshes, input);
        if (typeof mesh === "string" || mesh instanceof EvalError) return failMesh(this.version, [mesh], reasonText.invalidInput);
        const d = decideMesh(mesh, c, this.version, traces);
        if (traces !== null) d.explain = { rules: traces };
        return d;
      }
    }
  }

  /**
   * Why `evaluate` would answer `raw` without consulting any rule: the policy
   * set has errors, the input has the wrong shape or time, its schema refuses
   * it, or a mesh input names no loaded mesh. Empty when rules would decide.
   * (A policy test whose input is refused proves nothing about the rules,
   * even though the refusal is the deny it expected.)
   */
  refusal(raw: unknown): string[] {
    if (this.failure !== null) return [this.failure];
    try {
      const checked = checkInput(raw, this.schemas);
      if ("messages" in checked) return checked.messages.map((m) => (typeof m === "string" ? m : m.message));
      if (checked.kind === "mesh") {
        const mesh = chooseMesh(this.set.meshes, checked.input);
        if (typeof mesh === "string") return [mesh];
        if (mesh instanceof EvalError) return [mesh.message];
      }
      return [];
    } catch (err) {
      return [internalError(err)];
    }
  }

  /** Many inputs against the one compiled set; the same answers as one by one. */
  evaluateBatch(inputs: readonly unknown[], options?: EvaluateOptions): Decision[] {
    const out: Decision[] = new Array(inputs.length);
    for (let i = 0; i < inputs.length; i++) out[i] = this.evaluate(inputs[i], options);
    return out;
  }
}
