/**
 * Output paths checked before any work is done: a file output (`encrypt` and
 * `decrypt` OUT, `detect --risk-out`, `mesh keys gen --out`) that names a
 * directory, or a directory output (`mesh plan --out`) that names something
 * else, is bad usage (exit 2) said in one line, instead of an internal error
 * quoting the failed rename of a temporary file (after a whole event stream
 * was read, for --risk-out). A file output of `-` is refused too.
 */
import { stat } from "node:fs/promises";
import { CliError, type CliContext } from "./context.js";

async function kind(cli: CliContext, where: string): Promise<"directory" | "other" | "none"> {
  try {
    return (await stat(cli.resolve(where))).isDirectory() ? "directory" : "other";
  } catch {
    return "none"; // missing (created later), or a problem the write itself reports
  }
}

/**
 * Refuse a file output that is a directory, or `-`: these outputs are files written whole and then
 * renamed into place (a decrypted plaintext only once authentic), which standard output cannot be;
 * `-` would otherwise make a file named `-`.
 */
export async function checkOutputFile(cli: CliContext, where: string): Promise<void> {
  if (where === "-") throw new CliError("cannot write to standard output ('-'): name an output file (it is written whole, then renamed into place)");
  if ((await kind(cli, where)) === "directory") throw new CliError(`cannot write ${where}: is a directory`);
}

/** Refuse a directory output that exists and is not a directory (`what`: "the plan"). */
export async function checkOutputDirectory(cli: CliContext, where: string, what: string): Promise<void> {
  if ((await kind(cli, where)) === "other") throw new CliError(`cannot write ${what} to ${where}: not a directory`);
}
