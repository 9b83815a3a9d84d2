/**
 * `--format text|json|sarif`: how check and lint (and any verb that reports
 * diagnostics) print them. Text is coloured only for a terminal.
 */
import { Option } from "commander";
import { renderJson, renderSarif, renderText, shouldColor, type Diagnostic, type SourceText } from "../index.js";
import type { CliContext } from "./context.js";

export const REPORT_FORMATS = ["text", "json", "sarif"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** The `--format` option, shared so every verb spells it the same way. */
export function formatOption(): Option {
  return new Option("-f, --format <format>", "output format").choices(REPORT_FORMATS).default("text");
}

/** Print diagnostics to stdout in the chosen format. */
export function writeDiagnostics(
  cli: CliContext,
  diagnostics: readonly Diagnostic[],
  sources: ReadonlyMap<string, SourceText>,
  format: ReportFormat,
): void {
  const { io } = cli;
  const cwd = io.cwd;
  switch (format) {
    case "json":
      io.stdout(renderJson(diagnostics, { cwd }));
      return;
    case "sarif":
      io.stdout(renderSarif(diagnostics, { cwd, version: cli.version }));
      return;
    case "text":
      io.stdout(renderText(diagnostics, sources, { cwd, color: shouldColor(io.stdoutIsTTY, io.env) }));
      return;
  }
}
