/**
 * Building the engine for verbs that evaluate (test, eval, detect): policy
 * errors are printed on stderr as text diagnostics; the caller decides what
 * a broken set means for its output and exit code.
 */
import { Engine, hasErrors, renderText, shouldColor, type EngineOptions, type SourceText } from "../index.js";
import type { CliContext } from "./context.js";

/** Print the error diagnostics of a broken policy set to stderr. */
export function reportPolicyErrors(cli: CliContext, engine: Engine, sources: readonly SourceText[]): void {
  const errors = engine.diagnostics.filter((d) => d.severity === "error");
  const byFile = new Map(sources.map((s) => [s.file, s]));
  cli.io.stderr(renderText(errors, byFile, { cwd: cli.io.cwd, color: shouldColor(cli.io.stderrIsTTY, cli.io.env) }));
}

/** The engine for `sources`, or null after reporting its errors. */
export function loadEngineOrReport(cli: CliContext, sources: readonly SourceText[], options: EngineOptions = {}): Engine | null {
  const engine = new Engine(sources, [], options);
  if (!hasErrors(engine.diagnostics)) return engine;
  reportPolicyErrors(cli, engine, sources);
  return null;
}
