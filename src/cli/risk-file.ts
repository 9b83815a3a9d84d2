/**
 * `--risk FILE` (eval, mesh plan/verify/graph, detect) and `detect --risk-out FILE`:
 * the risk store behind `risk()` and `quarantined()` on the command line, as
 * a snapshot file (src/runtime/risk-snapshot.ts). Without `--risk` those
 * verbs read an empty store: nobody is quarantined, every risk is 0.
 */
import type { MemoryRiskStore } from "../evaluator/stores.js";
import { writeFileAtomic } from "../runtime/atomic-file.js";
import { RiskSnapshotError, riskSnapshot, storeFromSnapshot } from "../runtime/risk-snapshot.js";
import { CliError, type CliContext } from "./context.js";
import { readJsonFile } from "./json-input.js";

export const RISK_OPTION_HELP = "risk and quarantines from a snapshot (detect --risk-out); default: none";

/** The store a `--risk FILE` names; undefined without the option. Exit 2 (CliError) for an unreadable or invalid file. */
export async function readRiskOption(cli: CliContext, file: string | undefined): Promise<MemoryRiskStore | undefined> {
  if (file === undefined) return undefined;
  const { value: json, name } = await readJsonFile(cli, file, "risk snapshot");
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
