/**
 * Reading the files a verb is given (`--nodes`, `--dump`, `--risk`): one
 * place for the read errors ("cannot read inventory x.json: no such file or
 * directory") and for JSON that does not parse, named by line and column.
 */
import { open } from "node:fs/promises";
import type { Stats } from "node:fs";
import { displayPath, utf8Problem } from "../index.js";
import { CliError, type CliContext } from "./context.js";
import { fsReason } from "./fs-reason.js";
import { jsonSyntaxProblem } from "../diagnostics/json-syntax.js";

/**
 * What a file read with `readText` must be: a reason to refuse it (checked on
 * the open file, so the file checked is the file read), or undefined.
 */
export type FileCheck = (st: Stats, where: string) => string | undefined;

/**
 * The text of `where` (a path, or - for stdin); CliError `cannot read {what} {where}: ...` when it
 * cannot be read, `{what} {where}: {reason}` when `check` refuses the file.
 */
export async function readText(cli: CliContext, where: string, what: string, check?: FileCheck): Promise<string> {
  let refused: string | undefined;
  try {
    if (where === "-") return await cli.io.readStdin();
    const handle = await open(cli.resolve(where), "r");
    try {
      refused = check?.(await handle.stat(), where);
      if (refused === undefined) {
        // JSON inputs are UTF-8 (RFC 8259): decoded with U+FFFD, a Latin-1 value would silently be another.
        const bytes = await handle.readFile();
        refused = utf8Problem(bytes);
        if (refused === undefined) return bytes.toString("utf8");
        throw new CliError(`cannot read ${what} ${where}: ${refused}`);
      }
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot read ${what} ${where}: ${fsReason(err)}`);
  }
  throw new CliError(`${what} ${where}: ${refused}`);
}

/**
 * `where` parsed as JSON (a leading byte-order mark dropped, as for policy
 * files and eval inputs), with the name errors about its content should use:
 * `(stdin)`, or the path relative to the working directory.
 */
export async function readJsonFile(cli: CliContext, where: string, what: string, check?: FileCheck): Promise<{ value: unknown; name: string }> {
  let text = await readText(cli, where, what, check);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const name = where === "-" ? "(stdin)" : displayPath(cli.resolve(where), { cwd: cli.io.cwd });
  try {
    return { value: JSON.parse(text), name };
  } catch (err) {
    const at = jsonSyntaxProblem(text);
    throw new CliError(at ? `${what} ${name}:${at.line}:${at.column}: not valid JSON: ${at.message}` : `${what} ${name} is not valid JSON: ${(err as Error).message}`);
  }
}
