/**
 * Reading the files a verb is given (`--nodes`, `--dump`, `--risk`): one
 * place for the read errors ("cannot read inventory x.json: no such file or
 * directory") and for JSON that does not parse, named by line and column.
 */
import { readFile } from "node:fs/promises";
import { displayPath } from "../index.js";
import { CliError, type CliContext } from "./context.js";
import { jsonSyntaxProblem } from "./json-syntax.js";

/** The text of `where` (a path, or - for stdin); CliError `cannot read {what} {where}: ...` when it cannot be read. */
export async function readText(cli: CliContext, where: string, what: string): Promise<string> {
  try {
    return where === "-" ? await cli.io.readStdin() : await readFile(cli.resolve(where), "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file or directory" : code === "EISDIR" ? "is a directory" : (err as Error).message;
    throw new CliError(`cannot read ${what} ${where}: ${why}`);
  }
}

/**
 * `where` parsed as JSON (a leading byte-order mark dropped, as for policy
 * files and eval inputs), with the name errors about its content should use:
 * `(stdin)`, or the path relative to the working directory.
 */
export async function readJsonFile(cli: CliContext, where: string, what: string): Promise<{ value: unknown; name: string }> {
  let text = await readText(cli, where, what);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const name = where === "-" ? "(stdin)" : displayPath(cli.resolve(where), { cwd: cli.io.cwd });
  try {
    return { value: JSON.parse(text), name };
  } catch (err) {
    const at = jsonSyntaxProblem(text);
    throw new CliError(at ? `${what} ${name}:${at.line}:${at.column}: not valid JSON: ${at.message}` : `${what} ${name} is not valid JSON: ${(err as Error).message}`);
  }
}
