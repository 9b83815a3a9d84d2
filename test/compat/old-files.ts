/**
 * The files earlier versions wrote (test/fixtures/compat/, README.md there), copied into a test's
 * directory with the modes the old version gave them: git keeps no 0600/0700, and the keyring,
 * the MFA state and a risk state file refuse what group or others may read or write.
 */
import { chmodSync, cpSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Test } from "tap";

export const COMPAT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "compat");

/** Each fixture set: the commit that wrote it, by the name of its directory. */
export const OLD_VERSIONS = ["2026-12-02-899d258", "2026-12-06-864099b"] as const;
export type OldVersion = (typeof OLD_VERSIONS)[number];

/** The clock of the MFA part of generate.mjs. */
export const MFA_AT = Date.parse("2026-12-02T20:00:00Z");
/** The unlock key of ring-env/ (bytes 0 to 31), as $SWARM_POLICY_KEYRING_KEY holds it. */
export const UNLOCK_KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString("base64");

/** A private copy of one version's fixtures; returns its directory. */
export function oldFiles(t: Test, version: OldVersion): string {
  const dir = path.join(t.testdir(), version);
  cpSync(path.join(COMPAT_DIR, version), dir, { recursive: true });
  for (const ring of ["ring", "ring-passphrase", "ring-env"]) privateTree(path.join(dir, ring));
  return dir;
}

function privateTree(p: string): void {
  if (statSync(p).isDirectory()) {
    chmodSync(p, 0o700);
    for (const e of readdirSync(p)) privateTree(path.join(p, e));
  } else {
    chmodSync(p, 0o600);
  }
}
