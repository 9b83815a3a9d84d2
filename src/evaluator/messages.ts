/**
 * The texts of evaluation errors and decision reasons, in one place, so the
 * compiled evaluator and the reference interpreter say exactly the same thing
 * (the oracle test compares them).
 */
import type { TypeName } from "./values.js";

function article(t: TypeName): string {
  return t === "object" || t === "ip" || t === "unsupported" ? `an ${t}` : `a ${t}`;
}

export const msg = {
  prototypePolluted: "Object.prototype has enumerable properties (prototype pollution in this process): refusing to evaluate",
  missingAttribute: (path: string) => `missing attribute \`${path}\``,
  notAnObject: (prop: string, objText: string, t: TypeName) =>
    `cannot read \`${prop}\` of ${article(t)} (\`${objText}\`)`,
  badIndex: (objText: string, objType: TypeName, indexType: TypeName) =>
    `cannot index ${article(objType)} (\`${objText}\`) with ${article(indexType)}`,
  unknownName: (name: string) => `unknown name \`${name}\``,
  unknownFunction: (name: string) => `unknown function \`${name}\``,
  arity: (name: string, expected: number, actual: number) => `\`${name}\` takes ${expected} argument(s), got ${actual}`,
  /** `op` needs X, found T (one operand) or T1 and T2. */
  operand: (op: string, expected: string, found: TypeName, found2?: TypeName) =>
    `\`${op}\` needs ${expected}, found ${found2 === undefined ? found : `${found} and ${found2}`}`,
  notAnIp: (op: string, found: string) => `\`${op}\` needs an IP address, found ${found}`,
  invalidIp: (found: string) => `invalid IP address or range ${found}`,
  notATime: (fn: string, found: string) => `\`${fn}\` needs an RFC 3339 time or epoch seconds, found ${found}`,
  divisionByZero: () => "division by zero",
  overflow: (op: string) => `\`${op}\` overflows`,
  badRegex: (reason: string) => `invalid regular expression: ${reason}`,
  clauseNotBoolean: (clause: string, found: TypeName) => `\`${clause}\` needs a boolean, found ${found}`,
  nowUnavailable: () => "`now` is not a valid time (check the input's `time` or the engine clock)",
  mfaTime: (found: string) => `\`context.mfa.verified_at\` must be an RFC 3339 time or epoch seconds, found ${found}`,
  keyTime: (path: string, found: string) => `\`${path}\` must be an RFC 3339 time or epoch seconds, found ${found}`,
  keyTimeFuture: (path: string, found: string) => `key age unknown: \`${path}\` is after now, found ${found}`,
} as const;

/** Short display of an input value inside a message. */
export function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === "number" || typeof v === "boolean" || v === null) return String(v);
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return typeof (v as { toJSON?: unknown }).toJSON === "function" ? String(v) : "an object";
  return typeof v;
}

export const reasonText = {
  denyApplies: "deny rule applies",
  denyErrored: "deny rule errored; denied to fail closed",
  allowApplies: "allow rule applies",
  noRuleAllows: "no rule allows",
  requireUnmet: (text: string) => `requirement not met: \`${text}\``,
  mfaRequired: (within: string | null) => (within === null ? "MFA required" : `MFA within ${within} required`),
  invalidInput: "invalid input",
  policyErrors: "policy set has errors",
  evaluationFailed: "evaluation error; failing closed",
} as const;
