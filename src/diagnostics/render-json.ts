/**
 * Diagnostics as plain JSON data: the `--format json` output, and the one
 * place that decides how a diagnostic's file is shown (the text and SARIF
 * renderers use `displayPath` too, so all three name a file the same way).
 */
import path from "node:path";
import type { Span } from "../parser/span.js";
import type { Diagnostic } from "./diagnostic.js";
import type { Severity } from "./codes.js";

export interface RenderPathOptions {
  /**
   * Files are shown relative to this directory (forward slashes). Without it
   * a file is shown as the span names it, with forward slashes.
   */
  cwd?: string;
}

/** A location as JSON consumers see it: 1-based, `endColumn` exclusive. */
export interface JsonLocation {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export interface JsonDiagnostic extends JsonLocation {
  code: string;
  severity: Severity;
  message: string;
  hint?: string;
  related?: (JsonLocation & { message: string })[];
}

export interface JsonReport {
  diagnostics: JsonDiagnostic[];
  errors: number;
  warnings: number;
}

function forwardSlashes(p: string): string {
  return p.split(path.sep).join("/");
}

/**
 * How a file is named in output: relative to `cwd` when given and the file
 * lies inside it, absolute when it lies outside; always with forward slashes
 * so output reads the same on every platform and in CI logs.
 */
export function displayPath(file: string, options: RenderPathOptions = {}): string {
  if (options.cwd === undefined) return forwardSlashes(file);
  const abs = path.resolve(options.cwd, file);
  const rel = path.relative(options.cwd, abs);
  const outside = rel === "" || rel === ".." || rel.startsWith(".." + path.sep) || path.isAbsolute(rel);
  return forwardSlashes(outside ? abs : rel);
}

/** Error and warning counts, for summary lines and exit codes. */
export function countSeverities(diagnostics: readonly Diagnostic[]): { errors: number; warnings: number } {
  let errors = 0;
  let warnings = 0;
  for (const d of diagnostics) {
    if (d.severity === "error") errors++;
    else warnings++;
  }
  return { errors, warnings };
}

function location(span: Span, options: RenderPathOptions): JsonLocation {
  return {
    file: displayPath(span.file, options),
    line: span.line,
    column: span.column,
    endLine: span.endLine,
    endColumn: span.endColumn,
  };
}

/** One diagnostic as plain data (no offsets: they are meaningless outside the engine). */
export function toJsonDiagnostic(d: Diagnostic, options: RenderPathOptions = {}): JsonDiagnostic {
  const out: JsonDiagnostic = {
    code: d.code,
    severity: d.severity,
    message: d.message,
    ...(d.hint !== undefined ? { hint: d.hint } : {}),
    ...location(d.span, options),
  };
  if (d.related && d.related.length > 0) {
    out.related = d.related.map((r) => ({ message: r.message, ...location(r.span, options) }));
  }
  return out;
}

/** The report object behind `--format json`. */
export function toJsonReport(diagnostics: readonly Diagnostic[], options: RenderPathOptions = {}): JsonReport {
  return {
    diagnostics: diagnostics.map((d) => toJsonDiagnostic(d, options)),
    ...countSeverities(diagnostics),
  };
}

/** `--format json`: the report, pretty-printed, with a trailing newline. */
export function renderJson(diagnostics: readonly Diagnostic[], options: RenderPathOptions = {}): string {
  return JSON.stringify(toJsonReport(diagnostics, options), null, 2) + "\n";
}
