/**
 * Test helpers: compile policy text straight from the parser (no checker),
 * so tests can reach the run-time errors the checker would reject statically
 * in literal positions, and evaluate inputs against it.
 */
import { parse } from "../../src/parser/parse.js";
import { compilePolicySet } from "../../src/evaluator/compile.js";
import { Evaluator, type EvaluatorOptions } from "../../src/evaluator/evaluate.js";
import type { AccessDecision, EncryptionResult, MeshDecision } from "../../src/evaluator/decision.js";
import type { PolicyFile } from "../../src/parser/ast.js";

/** Parse (failing loudly on syntax errors) and compile. */
export function parseOk(text: string, file = "t.policy"): PolicyFile {
  const { ast, diagnostics } = parse(text, file);
  if (diagnostics.length > 0) {
    throw new Error(`syntax errors in test policy:\n${diagnostics.map((d) => `${d.span.line}:${d.span.column} ${d.code} ${d.message}`).join("\n")}\n${text}`);
  }
  return ast;
}

export function evaluator(text: string | string[], options: Partial<EvaluatorOptions> = {}): Evaluator {
  const texts = Array.isArray(text) ? text : [text];
  const files = texts.map((t, i) => parseOk(t, texts.length === 1 ? "t.policy" : `f${i}.policy`));
  return new Evaluator(compilePolicySet(files), { version: "test", clock: () => Date.parse("2026-01-01T12:00:00Z"), ...options });
}

export const access = (ev: Evaluator, input: unknown, explain = false) => ev.evaluate(input, { explain }) as AccessDecision;
export const encryption = (ev: Evaluator, input: unknown, explain = false) => ev.evaluate(input, { explain }) as EncryptionResult;
export const mesh = (ev: Evaluator, input: unknown, explain = false) => ev.evaluate(input, { explain }) as MeshDecision;

/** A policy with one allow rule `when EXPR`: evaluating it shows EXPR's value. */
export function probe(expr: string, consts = ""): Evaluator {
  return evaluator(`${consts}\nallow "p" {\n  when ${expr}\n}\n`);
}

/**
 * The value of a boolean expression against an input: true, false, or the
 * error message.
 */
export function truth(ev: Evaluator, input: Record<string, unknown>): boolean | string {
  const d = access(ev, { principal: {}, action: "a", resource: {}, ...input });
  if (d.errors.length > 0) return d.errors[0]!.message;
  if (d.decision === "allow") return true;
  return false;
}

export type Outcome = { value: unknown } | { error: string };

/**
 * The value of any expression (JSON; durations, IPs and times as text) or
 * its error, read from the explain trace of `allow "p" { when true when EXPR }`
 * (the leading `when true` keeps the rule out of the index).
 */
export function valueOf(expr: string, input: Record<string, unknown> = {}, consts = "", options: Partial<EvaluatorOptions> = {}): Outcome {
  const ev = evaluator(`${consts}\nallow "p" {\n  when true\n  when ${expr}\n}\n`, options);
  const d = access(ev, { principal: {}, action: "a", resource: {}, ...input }, true);
  const clause = d.explain?.rules[0]?.clauses[1];
  if (!clause) throw new Error(`no trace for ${expr}: ${JSON.stringify(d)}`);
  // Explain runs the closures; a plain evaluation runs the generated code. They must agree.
  const plain = access(ev, { principal: {}, action: "a", resource: {}, ...input });
  const expected =
    clause.error !== undefined ? clause.error : typeof clause.value === "boolean" ? null : `\`when\` needs a boolean, found `;
  const got = plain.errors[0]?.message ?? null;
  const agree =
    expected === null
      ? plain.errors.length === 0 && (plain.decision === "allow") === clause.value
      : got !== null && got.startsWith(expected);
  if (!agree) throw new Error(`generated code and closures disagree on ${expr}: ${JSON.stringify(clause)} vs ${JSON.stringify(plain)}`);
  return clause.error !== undefined ? { error: clause.error } : { value: clause.value };
}
