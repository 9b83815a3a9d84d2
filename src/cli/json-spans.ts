/**
 * JSON output of verbs whose objects carry source spans (`eval` decisions,
 * `test --format json`): a span's file is named as in every other output
 * format (docs/cli.md), relative to the working directory when it lies
 * inside it, with forward slashes. The engine keeps the absolute names it
 * loaded; only the printed text changes.
 */
import { displayPath, type SourceText } from "../index.js";
import type { CliContext } from "./context.js";

/**
 * `value` as pretty JSON with a trailing newline. Only `span` objects whose
 * file is one of `sources` are renamed, so input data quoted in a decision
 * (an attribute that happens to be called `file`) is printed as it came.
 */
export function jsonWithDisplayPaths(cli: CliContext, sources: readonly SourceText[], value: unknown): string {
  const files = new Set(sources.map((s) => s.file));
  const cwd = cli.io.cwd;
  return (
    JSON.stringify(
      value,
      (key, v: unknown) => {
        if (key !== "span" || v === null || typeof v !== "object") return v;
        const file = (v as { file?: unknown }).file;
        return typeof file === "string" && files.has(file) ? { ...v, file: displayPath(file, { cwd }) } : v;
      },
      2,
    ) + "\n"
  );
}
