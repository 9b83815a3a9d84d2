/**
 * `swarm-policy fmt PATH... [--check | --write]`: print the canonical layout
 * of policy files, list the files that are not in it (--check, exit 1), or
 * rewrite them in place (--write, atomically). A file with syntax errors is
 * reported on stderr, left untouched, and makes the exit code 1.
 */
import { access, constants, stat } from "node:fs/promises";
import { Option, type Command } from "commander";
import { displayPath, format, hasErrors, renderText, shouldColor, writeFileAtomic, type Diagnostic, type SourceText } from "../../index.js";
import type { CliContext } from "../context.js";
import { readPolicySources } from "../sources.js";
import { removingTempFilesOnInterrupt } from "../interrupts.js";

interface FmtOptions {
  check?: boolean;
  write?: boolean;
}

export function register(program: Command, cli: CliContext): void {
  program
    .command("fmt")
    .summary("format policy files")
    .description(
      "Format policy files in the canonical layout. By default the formatted text is printed to stdout.\n" +
        "--check lists the files that would change and exits 1 if there are any;\n" +
        "--write rewrites them in place (atomically, keeping the file mode) and lists them.\n" +
        "A file with syntax errors is reported, left untouched, and makes the exit code 1.",
    )
    .argument("<paths...>", "policy files, or directories searched recursively for *.policy")
    .addOption(new Option("--check", "list files that are not formatted; exit 1 if any").conflicts("write"))
    .addOption(new Option("--write", "rewrite files that are not formatted, in place"))
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  $ swarm-policy fmt policies/access.policy\n" +
        "  $ swarm-policy fmt --check policies/\n" +
        "  $ swarm-policy fmt --write policies/\n",
    )
    .action(cli.action(async (paths: string[], opts: FmtOptions) => runFmt(cli, paths, opts)));
}

async function runFmt(cli: CliContext, paths: string[], opts: FmtOptions): Promise<number> {
  const { io } = cli;
  const sources = await readPolicySources(cli, paths);
  const broken: Diagnostic[] = [];
  const brokenSources = new Map<string, SourceText>();
  /** Files that could not be formatted or written: exit 2. */
  const failures: string[] = [];
  let unformatted = 0;
  for (const src of sources) {
    const result = format(src.text, src.file);
    const shown = displayPath(src.file, { cwd: io.cwd });
    if (result.internalError !== undefined) {
      failures.push(`cannot format ${shown}: internal error: ${result.internalError}`);
      continue;
    }
    if (hasErrors(result.diagnostics)) {
      broken.push(...result.diagnostics);
      brokenSources.set(src.file, src);
      continue;
    }
    if (opts.check) {
      if (result.changed) {
        unformatted++;
        io.stdout(`${shown}\n`);
      }
    } else if (opts.write) {
      if (!result.changed) continue;
      const readOnly = await readOnlyReason(src.file);
      if (readOnly !== undefined) {
        failures.push(`cannot write ${shown}: ${readOnly}`);
        continue;
      }
      try {
        // A policy reached through a link stays a link; a signal meanwhile removes the temporary file.
        await removingTempFilesOnInterrupt(() => writeFileAtomic(src.file, result.output, { followSymlinks: true }));
        io.stdout(`${shown}\n`);
      } catch (err) {
        failures.push(`cannot write ${shown}: ${(err as Error).message}`);
      }
    } else {
      io.stdout(result.output);
    }
  }
  if (broken.length > 0) {
    io.stderr(renderText(broken, brokenSources, { cwd: io.cwd, color: shouldColor(io.stderrIsTTY, io.env) }));
  }
  for (const line of failures) io.stderr(`swarm-policy: ${line}\n`);
  if (failures.length > 0) return 2;
  return broken.length > 0 || unformatted > 0 ? 1 : 0;
}

/**
 * Why `file` must not be rewritten in place, or undefined. The atomic write
 * replaces the file by renaming over it, which needs only the directory's
 * permission: without this check a file its owner made read-only (no write
 * bit for anyone, or not writable by us) would be replaced silently, where an
 * editor or `gofmt -w` would stop. Root is held to the mode bits too.
 */
async function readOnlyReason(file: string): Promise<string | undefined> {
  try {
    const st = await stat(file);
    if ((st.mode & 0o222) === 0) return `read-only (mode ${(st.mode & 0o7777).toString(8).padStart(4, "0")}); make it writable to format it in place`;
    await access(file, constants.W_OK);
    return undefined;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return e.code === "EACCES" || e.code === "EPERM" || e.code === "EROFS" ? "permission denied" : e.message;
  }
}
