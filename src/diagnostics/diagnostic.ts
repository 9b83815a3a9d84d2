/**
 * A Diagnostic is a problem found in policy text: a code from the catalogue,
 * a message built from its template, a span, and where it can a hint.
 * Diagnostics are values: every stage collects them, none throws them.
 */
import type { Span } from "../parser/span.js";
import { CODES, formatMessage, type Code, type Severity } from "./codes.js";

export interface Diagnostic {
  code: Code;
  severity: Severity;
  message: string;
  span: Span;
  /** An actionable hint ("did you mean `principal`?"). */
  hint?: string;
  /** Other places that explain this one (the first definition of a duplicate, ...). */
  related?: { message: string; span: Span }[];
}

/** Build a diagnostic from the catalogue. */
export function diagnostic(
  code: Code,
  span: Span,
  args: Record<string, string | number> = {},
  extra: { hint?: string; related?: { message: string; span: Span }[] } = {},
): Diagnostic {
  const info = CODES[code] as { severity: Severity; help?: string };
  const d: Diagnostic = { code, severity: info.severity, message: formatMessage(code, args), span };
  const hint = extra.hint ?? info.help;
  if (hint !== undefined) d.hint = hint;
  if (extra.related && extra.related.length > 0) d.related = extra.related;
  return d;
}

/** Order by file, then position, then code: stable output for people and tests. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  if (a.span.file !== b.span.file) return a.span.file < b.span.file ? -1 : 1;
  if (a.span.start !== b.span.start) return a.span.start - b.span.start;
  if (a.code !== b.code) return a.code < b.code ? -1 : 1;
  return a.message < b.message ? -1 : a.message > b.message ? 1 : 0;
}

export function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  return list.sort(compareDiagnostics);
}

export function hasErrors(list: readonly Diagnostic[]): boolean {
  return list.some((d) => d.severity === "error");
}
