/**
 * MFA files written by earlier versions (test/fixtures/compat/): their secrets verify with the
 * settings they were enrolled with, a code they recorded as used stays used, a lockout they
 * recorded stays in force until its end, and a lock file in the old form ("PID TOKEN", no host)
 * is honoured while its owner lives and taken over once it is gone.
 */
import t, { type Test } from "tap";
import path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { FileMfaStateStore, Keyring, KeyringEnrollments, MfaVerifier, totpCode } from "../../src/index.js";
import { MFA_AT, OLD_VERSIONS, oldFiles, type OldVersion } from "./old-files.js";

interface MfaFixture {
  alice_used_code: string;
  seeds_base64: Record<"alice" | "carol" | "dave", string>;
}

async function verifierOver(t: Test, version: OldVersion) {
  const dir = oldFiles(t, version);
  const fixture = JSON.parse(readFileSync(path.join(dir, "mfa.json"), "utf8")) as MfaFixture;
  const ring = await Keyring.open(path.join(dir, "ring"));
  t.teardown(() => ring.close());
  let now = MFA_AT;
  /** A verifier over the fixture's keyring and state file, waiting up to `lockTimeoutMs` for the state's lock. */
  const verifier = (lockTimeoutMs = 5000) => {
    const state = new FileMfaStateStore(path.join(dir, "ring", "mfa"), { now: () => now, timeoutMs: lockTimeoutMs });
    return new MfaVerifier({ secrets: new KeyringEnrollments(ring), replay: state, lockout: state, clock: () => now });
  };
  const seed = (user: keyof MfaFixture["seeds_base64"]) => Buffer.from(fixture.seeds_base64[user], "base64");
  return { dir, fixture, verifier, seed, at: (ms: number) => void (now = ms) };
}

for (const version of OLD_VERSIONS) {
  t.test(`${version}: used codes, lockouts and TOTP settings carry over`, async (t) => {
    const { fixture, verifier: make, seed, at } = await verifierOver(t, version);
    const verifier = make();
    t.same(await verifier.verify("alice", fixture.alice_used_code), { valid: false, reason: "replay" }, "the code used before the upgrade stays used");
    t.equal(totpCode(seed("alice"), MFA_AT / 1000), fixture.alice_used_code, "the seed in mfa.json is alice's");

    const carol = totpCode(seed("carol"), MFA_AT / 1000, { algorithm: "sha256", digits: 8, period: 60 });
    t.equal((await verifier.verify("carol", carol)).valid, true, "SHA-256, 8 digits, 60 s as enrolled");
    t.equal((await verifier.verify("carol", carol.slice(2))).valid, false, "not 6 digits");

    at(MFA_AT + 10_000);
    const locked = await verifier.verify("dave", totpCode(seed("dave"), (MFA_AT + 10_000) / 1000));
    t.match(locked, { valid: false, reason: "locked" }, "dave's lock (until 60 s after) holds after the upgrade");

    at(MFA_AT + 90_000);
    t.equal((await verifier.verify("alice", totpCode(seed("alice"), (MFA_AT + 90_000) / 1000))).valid, true, "a fresh code of alice's");
    t.equal((await verifier.verify("dave", totpCode(seed("dave"), (MFA_AT + 90_000) / 1000))).valid, true, "dave once the lock has ended");
  });

  t.test(`${version}: a lock file in the old form is honoured while its owner lives`, async (t) => {
    const { dir, fixture, verifier } = await verifierOver(t, version);
    const lock = path.join(dir, "ring", "mfa", "state.json.lock");
    const owner = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
    t.teardown(() => void owner.kill("SIGKILL"));
    // What 899d258 and 864099b wrote: "<pid> <token>\n", no host name, no incarnation.
    writeFileSync(lock, `${owner.pid} 00112233445566778899aabb\n`, { mode: 0o600 });
    await t.rejects(verifier(300).verify("alice", fixture.alice_used_code), { name: "MfaStateError", message: /locked by another process/ }, "a live owner's lock is waited for");

    const gone = spawnSync(process.execPath, ["-e", "process.pid"]).pid!;
    writeFileSync(lock, `${gone} 00112233445566778899aabb\n`, { mode: 0o600 });
    // The default wait (5 s): taking a dead owner's lock over is a few file operations, slow on a loaded machine.
    t.same(await verifier().verify("alice", fixture.alice_used_code), { valid: false, reason: "replay" }, "a dead owner's lock is taken over");
  });
}
