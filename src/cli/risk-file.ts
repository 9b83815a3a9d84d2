/**
 * `--risk FILE` (eval, mesh plan/verify/graph, detect) and `detect --risk-out FILE`:
 * the risk store behind `risk()` and `quarantined()` on the command line, as
 * a snapshot file (src/runtime/risk-snapshot.ts). Without `--risk` those
 * verbs read an empty store: nobody is quarantined, every risk is 0.
 */
import { readFile } from "node:fs/promises";
import { displayPath } from "../index.js";
import type { MemoryRiskStore } from "../evaluator/stores.js";
import { writeFileAtomic } from "../runtime/atomic-file.js";
import { RiskSnapshotError, riskSnapshot, storeFromSnapshot } from "../runtime/risk-snapshot.js";
import { CliError, type CliContext } from "./context.js";
import { jsonSyntaxProblem } from "./json-syntax.js";

export const RISK_OPTION_HELP = "risk and quarantines from a snapshot (detect --risk-out); default: none";

/** The store a `--risk FILE` names; undefined without the option. Exit 2 (CliError) for an unreadable or invalid file. */
export async function readRiskOption(cli: CliContext, file: string | undefined): Promise<MemoryRiskStore | undefined> {
  if (file === undefined) return undefined;
  const name = displayPath(cli.resolve(file), { cwd: cli.io.cwd });
  let text: string;
  try {
    text = await readFile(cli.resolve(file), "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`cannot read risk snapshot ${name}: ${code === "ENOENT" ? "no such file or directory" : code === "EISDIR" ? "is a directory" : (err as Error).message}`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const at = jsonSyntaxProblem(text);
    throw new CliError(at ? `risk snapshot ${name}:${at.line}:${at.column}: not valid JSON: ${at.message}` : `risk snapshot ${name} is not valid JSON: ${(err as Error).message}`);
  }
  try {
    return storeFromSnapshot(json);
  } catch (err) {
    if (err instanceof RiskSnapshotError) throw new CliError(`risk snapshot ${name}: ${err.message}`);
    throw err;
  }
}

/** Writes every entry of `store` to `file`, taken now (atomically, 0600: it names users and machines). */
export async function writeRiskSnapshot(cli: CliContext, file: string, store: MemoryRiskStore): Promise<void> {
  await writeFileAtomic(cli.resolve(file), JSON.stringify(riskSnapshot(store, Date.now()), null, 2) + "\n", { mode: 0o600 });
}
