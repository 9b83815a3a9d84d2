/**
 * Encryption requirements (spec/LANGUAGE.md section 5): which protection a
 * piece of data needs, merged from every applicable rule plus `default`; and,
 * when the input carries the data's actual state, whether it complies.
 *
 * Choices where the spec is silent:
 * - A rule whose `when`/`unless` errors contributes its requirements anyway
 *   (fail closed: the stricter answer) and its error is reported.
 * - `default` contributes whenever present (and applicable, should it have
 *   `when`/`unless`); it is listed last in `rules`.
 * - Two different ciphers are a conflict: `cipher` is the first rule's
 *   (load order, `default` last) and each differing cipher adds an error
 *   naming both rules. A conflict makes the data non-compliant.
 * - `maxKeyAge` is the smallest `key_age` as written in its rule; `aad` is
 *   the union in first-seen order; `required` is true when any rule
 *   contributes.
 * - Audit (`data.encryption` present): every contributing rule's
 *   requirements are checked against `{ cipher, key_created_at, tee, aad }`,
 *   one violation per unmet requirement per rule. A missing or unreadable
 *   `key_created_at` is a violation when some rule limits key age, and so
 *   is one more than MAX_CLOCK_SKEW_MS after `now` (its age is unknown).
 * - Every contributing rule requires the data to be encrypted: a rule that
 *   names no cipher is met by either known cipher, never by data in the
 *   clear (`cipher` missing) or under a cipher the runtime does not know.
 *   `compliant` is true when there are no violations and no errors.
 *   `data.encryption` that is not an object is an error (non-compliant).
 */
import type { EncryptionRule, PolicyFile } from "../parser/ast.js";
import { ruleId } from "../parser/ast.js";
import { ExprCompiler, toErrorSpan, type Eval, type ExprScope } from "./compile-expr.js";
import type { EvalContext } from "./context.js";
import type { ClauseTrace, DecisionError, EncryptionResult, NotApplied, RuleTrace, Violation } from "./decision.js";
import { formatDuration } from "./duration.js";
import { msg, show } from "./messages.js";
import { decisionError } from "./quoted-error.js";
import { CIPHERS } from "../checker/encryption.js";
import { MAX_CLOCK_SKEW_MS, timeValueMs } from "./time.js";
import { EvalError, isObject, traceJson, typeName, type ErrorSpan } from "./values.js";

export interface ConditionClause {
  when: boolean;
  fn: Eval;
  span: ErrorSpan;
  exprSpan: ErrorSpan;
  notApplied: NotApplied;
}

export interface CompiledEncryptionRule {
  id: string;
  isDefault: boolean;
  conditions: ConditionClause[];
  cipher: { name: string; span: ErrorSpan } | null;
  keyAge: { ms: number; raw: string; message: string | null; span: ErrorSpan } | null;
  tee: boolean;
  aad: string[];
}

export function compileEncryptionRule(file: PolicyFile, rule: EncryptionRule, scope: ExprScope): CompiledEncryptionRule {
  const id = ruleId(file, rule);
  const compiler = new ExprCompiler(scope);
  const out: CompiledEncryptionRule = { id, isDefault: rule.name === null, conditions: [], cipher: null, keyAge: null, tee: false, aad: [] };
  for (const cl of rule.clauses) {
    switch (cl.kind) {
      case "When":
      case "Unless": {
        const span = toErrorSpan(cl.span);
        const when = cl.kind === "When";
        out.conditions.push({
          when,
          fn: compiler.compile(cl.expr).fn,
          span,
          exprSpan: toErrorSpan(cl.expr.span),
          notApplied: Object.freeze({ rule: id, clause: when ? "when" : "unless", span }) as NotApplied,
        });
        break;
      }
      case "RequireCipher":
        out.cipher ??= { name: cl.cipher.value, span: toErrorSpan(cl.cipher.span) };
        break;
      case "RequireKeyAge":
        if (out.keyAge === null || cl.within.ms < out.keyAge.ms) {
          out.keyAge = { ms: cl.within.ms, raw: cl.within.raw, message: cl.message?.value ?? null, span: toErrorSpan(cl.span) };
        }
        break;
      case "RequireTee":
        out.tee = true;
        break;
      case "RequireAad":
        for (const f of cl.fields) if (!out.aad.includes(f.value)) out.aad.push(f.value);
        break;
      case "Tags":
        break;
    }
  }
  return out;
}

/**
 * Evaluate `when`/`unless` conditions in order: true (applies), the
 * NotApplied of the clause that ended it, or the error.
 */
export function evalConditions(
  conds: readonly ConditionClause[],
  c: EvalContext,
  out: ClauseTrace[] | null,
): true | NotApplied | EvalError {
  for (const cl of conds) {
    const v = cl.fn(c);
    if (out !== null) out.push(v instanceof EvalError ? { clause: cl.when ? "when" : "unless", span: cl.span, error: v.message } : { clause: cl.when ? "when" : "unless", span: cl.span, value: traceJson(v) });
    if (v === cl.when) continue;
    if (v === !cl.when) return cl.notApplied;
    return v instanceof EvalError ? v : new EvalError(msg.clauseNotBoolean(cl.when ? "when" : "unless", typeName(v)), cl.exprSpan);
  }
  return true;
}

const hasOwn = Object.prototype.hasOwnProperty;
function own(o: object, key: string): unknown {
  return hasOwn.call(o, key) ? (o as Record<string, unknown>)[key] : undefined;
}

export function decideEncryption(
  rules: readonly CompiledEncryptionRule[],
  c: EvalContext,
  version: string,
  traces: RuleTrace[] | null,
): EncryptionResult {
  const errors: DecisionError[] = [];
  const notApplied: NotApplied[] = [];
  const contributing: CompiledEncryptionRule[] = [];
  for (const r of rules) {
    const clauses = traces === null ? null : [];
    const res = evalConditions(r.conditions, c, clauses);
    if (clauses !== null) {
      traces!.push({ rule: r.id, effect: "encryption", outcome: res === true ? "applies" : res instanceof EvalError ? "errored" : "not-applicable", clauses });
    }
    if (res === true) contributing.push(r);
    else if (res instanceof EvalError) {
      errors.push(decisionError(r.id, res));
      contributing.push(r);
    } else notApplied.push(res);
  }

  let cipher: CompiledEncryptionRule | null = null;
  let keyAge: CompiledEncryptionRule | null = null;
  let tee = false;
  const aad: string[] = [];
  for (const r of contributing) {
    if (r.cipher !== null) {
      if (cipher === null) cipher = r;
      else if (cipher.cipher!.name !== r.cipher.name) {
        errors.push({
          rule: r.id,
          message: `conflicting ciphers: \`${cipher.id}\` requires ${cipher.cipher!.name}, \`${r.id}\` requires ${r.cipher.name}`,
          span: r.cipher.span,
        });
      }
    }
    if (r.keyAge !== null && (keyAge === null || r.keyAge.ms < keyAge.keyAge!.ms)) keyAge = r;
    if (r.tee) tee = true;
    for (const f of r.aad) if (!aad.includes(f)) aad.push(f);
  }
  const result: EncryptionResult = {
    required: contributing.length > 0,
    cipher: cipher?.cipher!.name ?? null,
    maxKeyAge: keyAge?.keyAge!.raw ?? null,
    tee,
    aad,
    rules: contributing.map((r) => r.id),
    errors,
    version,
    notApplied,
  };
  const data = c.input["data"];
  const actual = isObject(data) ? own(data, "encryption") : undefined;
  if (actual !== undefined) {
    const violations: Violation[] = [];
    if (!isObject(actual)) {
      errors.push({ rule: null, message: `\`data.encryption\` must be an object, found ${typeName(actual)}`, span: null });
    } else {
      audit(contributing, actual, c, violations, errors);
    }
    result.compliant = violations.length === 0 && errors.length === 0;
    result.violations = violations;
  }
  return result;
}

function audit(
  rules: readonly CompiledEncryptionRule[],
  actual: Record<string, unknown>,
  c: EvalContext,
  violations: Violation[],
  errors: DecisionError[],
): void {
  const cipher = own(actual, "cipher");
  const created = own(actual, "key_created_at");
  const tee = own(actual, "tee");
  const aad = own(actual, "aad");
  for (const r of rules) {
    if (r.cipher !== null ? cipher !== r.cipher.name : !(CIPHERS as readonly unknown[]).includes(cipher)) {
      const required = r.cipher !== null ? r.cipher.name : CIPHERS.join(" or ");
      violations.push({ rule: r.id, message: `cipher is ${cipher === undefined ? "missing" : show(cipher)}, required ${required}` });
    }
    if (r.keyAge !== null) {
      const k = r.keyAge;
      if (created === undefined || created === null) {
        violations.push({ rule: r.id, message: k.message ?? `key age unknown (\`data.encryption.key_created_at\` is missing), at most ${k.raw} allowed` });
      } else {
        const ms = timeValueMs(created);
        const now = c.now();
        if (ms !== ms) {
          violations.push({ rule: r.id, message: msg.keyTime("data.encryption.key_created_at", show(created)) });
        } else if (now !== now) {
          errors.push({ rule: r.id, message: msg.nowUnavailable(), span: k.span });
        } else if (ms - now > MAX_CLOCK_SKEW_MS) {
          violations.push({
            rule: r.id,
            message: `key age unknown (\`data.encryption.key_created_at\` ${typeof created === "string" ? created : show(created)} is after now, ${new Date(now).toISOString()}), at most ${k.raw} allowed`,
          });
        } else if (now - ms > k.ms) {
          violations.push({ rule: r.id, message: k.message ?? `key is ${formatDuration(Math.floor((now - ms) / 1000) * 1000)} old, at most ${k.raw} allowed` });
        }
      }
    }
    if (r.tee && tee !== true) {
      violations.push({ rule: r.id, message: "data is not in a trusted execution environment (tee)" });
    }
    if (r.aad.length > 0) {
      const have = Array.isArray(aad) ? aad : [];
      const missing = r.aad.filter((f) => !have.includes(f));
      if (missing.length > 0) violations.push({ rule: r.id, message: `aad lacks ${missing.map((f) => JSON.stringify(f)).join(", ")}` });
    }
  }
}
