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
import { readJsonFile, type FileCheck } from "./json-input.js";
import { removingTempFilesOnInterrupt } from "./interrupts.js";

/**
 * Whoever may write the snapshot may empty its quarantines and risk: a file group or others may
 * write is refused (POSIX mode bits; skipped on Windows, where they do not describe access).
 * `--risk-out` writes 0600.
 */
const notWritableByOthers: FileCheck = (st, where) => {
  if (process.platform === "win32" || (st.mode & 0o022) === 0) return undefined;
  const mode = (st.mode & 0o777).toString(8).padStart(4, "0");
  return `has mode ${mode}: group or others may write it, and so lift its quarantines (chmod 600 ${where})`;
};

export const RISK_OPTION_HELP = "risk and quarantines from a snapshot (detect --risk-out); default: none";

/** The store a `--risk FILE` names; undefined without the option. Exit 2 (CliError) for an unreadable or invalid file. */
export async function readRiskOption(cli: CliContext, file: string | undefined): Promise<MemoryRiskStore | undefined> {
  if (file === undefined) return undefined;
  const { value: json, name } = await readJsonFile(cli, file, "risk snapshot", notWritableByOthers);
  try {
    return storeFromSnapshot(json);
  } catch (err) {
    if (err instanceof RiskSnapshotError) throw new CliError(`risk snapshot ${name}: ${err.message}`);
    throw err;
  }
}

/** Writes every entry of `store` to `file`, taken now (atomically, 0600: it names users and machines). */
export async function writeRiskSnapshot(cli: CliContext, file: string, store: MemoryRiskStore): Promise<void> {
  const text = JSON.stringify(riskSnapshot(store, Date.now()), null, 2) + "\n";
  await removingTempFilesOnInterrupt(() => writeFileAtomic(cli.resolve(file), text, { mode: 0o600 }));
}
