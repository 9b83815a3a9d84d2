/**
 * Reading the PATH... arguments every policy verb takes. Unreadable paths
 * are bad input (exit 2) with one clear line each, never a stack trace; so is
 * a set of paths that holds no policy file at all, which is almost always a
 * mistyped directory that would otherwise pass CI silently.
 */
import { displayPath, readSources, type SourceText } from "../index.js";
import { CliError, type CliContext } from "./context.js";

/** The policy sources under `paths` (files, or directories searched recursively for *.policy). */
export async function readPolicySources(cli: CliContext, paths: readonly string[]): Promise<SourceText[]> {
  // An empty path (`check "$DIR"` with DIR unset) would be the working directory.
  if (paths.some((p) => p.trim() === "")) throw new CliError("a policy path must not be empty or blank");
  const { sources, errors } = await readSources(paths.map((p) => cli.resolve(p)));
  if (errors.length > 0) {
    throw new CliError(errors.map((e) => `cannot read ${displayPath(e.path, { cwd: cli.io.cwd })}: ${e.message}`).join("\n"));
  }
  if (sources.length === 0) {
    throw new CliError(`no .policy files found in ${paths.join(", ")}`);
  }
  return sources;
}
