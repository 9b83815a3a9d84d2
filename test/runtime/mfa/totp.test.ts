/**
 * TOTP against the RFC 6238 Appendix B vectors (18 rows, SHA-256/512 with the
 * errata's 32- and 64-byte seeds), the one-step window, and malformed input
 * answered with a clean false.
 */
import t from "tap";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SecretKey } from "../../../src/runtime/crypto/secret-key.js";
import { matchTotp, totpCode, totpTimeStep, verifyTotp, type TotpAlgorithm } from "../../../src/runtime/mfa/totp.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const rfc = JSON.parse(readFileSync(path.resolve(repoRoot, "../shared/vectors/rfc6238.json"), "utf8")) as {
  params: { digits: 8; period: number };
  seeds: Record<string, { ascii: string; hex: string; bytes: number }>;
  vectors: Array<{ time: number; T: string; totp: string; mode: string }>;
};

const algorithmOf = (mode: string) => mode.toLowerCase() as TotpAlgorithm;
const seedOf = (mode: string) => Uint8Array.from(Buffer.from(rfc.seeds[mode]!.hex, "hex"));

t.test("RFC 6238 Appendix B: all 18 rows", async (t) => {
  t.equal(rfc.vectors.length, 18);
  for (const v of rfc.vectors) {
    const seed = seedOf(v.mode);
    t.equal(seed.length, rfc.seeds[v.mode]!.bytes, `${v.mode} seed length`);
    t.equal(Buffer.from(seed).toString("ascii"), rfc.seeds[v.mode]!.ascii);
    const opts = { digits: 8 as const, period: rfc.params.period, algorithm: algorithmOf(v.mode) };
    const where = `${v.mode} at ${v.time}`;
    t.equal(totpCode(seed, v.time, opts), v.totp, `${where}: code`);
    t.equal(totpTimeStep(v.time, opts), parseInt(v.T, 16), `${where}: time step`);
    t.equal(matchTotp(SecretKey.from(seed), v.totp, v.time, opts), parseInt(v.T, 16), `${where}: verifies at its step`);
    const wrong = v.totp.slice(0, 7) + String((Number(v.totp[7]) + 1) % 10);
    t.equal(verifyTotp(seed, wrong, v.time, opts), false, `${where}: last digit changed is refused`);
  }
});

t.test("errata: the 20-byte seed does not give the SHA-256/512 vectors", async (t) => {
  const short = seedOf("SHA1");
  for (const v of rfc.vectors.filter((v) => v.mode !== "SHA1")) {
    const opts = { digits: 8 as const, algorithm: algorithmOf(v.mode) };
    t.not(totpCode(short, v.time, opts), v.totp, `${v.mode} at ${v.time}`);
  }
});

t.test("window: previous, current and next step only, at any offset in the step", async (t) => {
  const secret = SecretKey.from(seedOf("SHA1"));
  const base = 1_700_000_010; // some step s = floor(base/30)
  const s = Math.floor(base / 30);
  for (const offset of [0, 1, 15, 29]) {
    const now = s * 30 + offset;
    for (const delta of [-2, -1, 0, 1, 2]) {
      const code = totpCode(secret, (s + delta) * 30 + 7);
      const want = Math.abs(delta) <= 1 ? s + delta : null;
      // A code for step s±2 may collide with a neighbour's code by chance; not for this seed and time.
      t.equal(matchTotp(secret, code, now), want, `offset ${offset}, step ${delta}`);
    }
  }
  t.equal(matchTotp(secret, totpCode(secret, 10), 10), 0, "first step of the epoch (no previous step)");
  t.equal(matchTotp(secret, totpCode(secret, 31), 10), 1, "next step from step 0");
});

t.test("secrets of 16 bytes (RFC 4226's minimum) and of 64 bytes (the longest) verify", async (t) => {
  const now = 1_700_000_000;
  for (const n of [16, 64]) {
    const seed = new Uint8Array(n).fill(7);
    t.equal(matchTotp(seed, totpCode(seed, now), now), totpTimeStep(now), `${n} bytes`);
  }
});

t.test("malformed input is a clean false, never a throw", async (t) => {
  const good = seedOf("SHA1");
  const now = 1_700_000_000;
  const code = totpCode(good, now);
  t.equal(verifyTotp(good, code, now), true, "control: the well-formed case is valid");
  const destroyed = SecretKey.from(good);
  destroyed.destroy();
  const cases: Array<[string, unknown, unknown, unknown]> = [
    ["15-byte secret", good.subarray(0, 15), code, now],
    ["empty secret", new Uint8Array(0), code, now],
    ["65-byte secret", new Uint8Array(65), code, now],
    ["secret as a string", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", code, now],
    ["secret null", null, code, now],
    ["destroyed key", destroyed, code, now],
    ["5 digits", good, code.slice(0, 5), now],
    ["7 digits", good, code + "0", now],
    ["empty code", good, "", now],
    ["letters", good, "12a456", now],
    ["leading space", good, " " + code.slice(1), now],
    ["trailing newline", good, code.slice(0, 5) + "\n", now],
    ["fullwidth digits", good, "１２３４５６", now],
    ["code as number", good, Number(code), now],
    ["code null", good, null, now],
    ["code object", good, { toString: () => code }, now],
    ["time NaN", good, code, Number.NaN],
    ["time negative", good, code, -30],
    ["time infinite", good, code, Number.POSITIVE_INFINITY],
    ["time as string", good, code, String(now)],
  ];
  for (const [what, secret, c, time] of cases) {
    let answer: unknown;
    t.doesNotThrow(() => {
      answer = verifyTotp(secret as Uint8Array, c, time as number);
    }, what);
    t.equal(answer, false, `${what}: false`);
  }
});
