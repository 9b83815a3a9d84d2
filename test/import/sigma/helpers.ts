/**
 * Test helpers for the Sigma importer: convert YAML text, pull out a rule's
 * condition, and run converted rules through the real correlation engine
 * (compile + engine.detector), asserting on the way that the converted
 * conditions never raise an evaluation error (the guards' promise).
 */
import { compile, convertSigma, type Alert, type ImportResult } from "../../../src/index.js";
import type { Pipeline } from "../../../src/import/sigma/pipeline.js";

export function convert(yaml: string | string[], pipeline?: Pipeline): ImportResult {
  const texts = Array.isArray(yaml) ? yaml : [yaml];
  return convertSigma(
    texts.map((text, i) => ({ name: texts.length === 1 ? "rule.yml" : `rule${i + 1}.yml`, text })),
    { pipeline },
  );
}

/** A detection rule around a `detection` section written as YAML lines. */
export function rule(detection: string, extra = ""): string {
  return `title: Test rule\nid: 11111111-2222-3333-4444-555555555555\nlogsource:\n  product: test\n${extra}detection:\n${detection}\n`;
}

/** The text after `where` of the only converted rule, on one line. */
export function whereOf(r: ImportResult): string {
  const m = /\n {2}where ([\s\S]*?)\n\}/.exec(r.policy);
  if (m === null) throw new Error(`no where clause in:\n${r.policy}\nproblems: ${JSON.stringify(r.problems)}`);
  return m[1]!.replace(/\s*\n\s*/g, " ");
}

export interface Run {
  alerts: Alert[];
  /** Evaluation errors and missing-field counts over all rules (should stay 0 for where-only rules). */
  errors: number;
  missing: number;
}

/** Compile the policy (no diagnostics errors allowed) and push the events through one detector. */
export function runEvents(policy: string, events: Record<string, unknown>[]): Run {
  const engine = compile(policy, { file: "imported.policy" });
  const errs = engine.diagnostics.filter((d) => d.severity === "error");
  if (errs.length > 0) throw new Error(`diagnostics: ${errs.map((d) => `${d.span.line}:${d.span.column} ${d.message}`).join("; ")}\n${policy}`);
  const detector = engine.detector();
  const alerts: Alert[] = [];
  let t = Date.parse("2026-01-01T00:00:00Z");
  for (const e of events) {
    const stamped = "@timestamp" in e ? e : { "@timestamp": new Date((t += 1000)).toISOString(), ...e };
    alerts.push(...detector.push(stamped));
  }
  const stats = detector.stats();
  let errors = 0;
  let missing = 0;
  for (const s of Object.values(stats.rules)) {
    errors += s.errors;
    missing += s.missingField;
  }
  return { alerts, errors, missing };
}

/** Whether the single-rule policy fires on the one event (and without errors). */
export function fires(policy: string, event: Record<string, unknown>): boolean {
  const r = runEvents(policy, [event]);
  if (r.errors !== 0 || r.missing !== 0) throw new Error(`evaluation errors on ${JSON.stringify(event)}:\n${policy}`);
  return r.alerts.length > 0;
}
