/**
 * Fuzzing MfaVerifier.verify with codes near the right one: its digits in
 * other scripts (fullwidth, Arabic-Indic, Devanagari, mathematical), with
 * whitespace, signs, zero-width and control characters spliced in, cut or
 * lengthened, as other JavaScript types (numbers, BigInt, String objects,
 * lists, objects whose toString or valueOf gives the code, Proxies that
 * throw), and users as odd as that. verify never throws and is valid only
 * for the exact code string of an enrolled user; the exact code works after
 * all of it (lockout off), once.
 *
 * FUZZ_CASES (default 5000) and FUZZ_SEED (default fixed, printed).
 */
import t from "tap";
import { SecretKey } from "../../../src/runtime/crypto/secret-key.js";
import type { TotpSecretSource } from "../../../src/runtime/mfa/enrollments.js";
import { MfaVerifier } from "../../../src/runtime/mfa/mfa-verifier.js";
import { totpCode } from "../../../src/runtime/mfa/totp.js";
import { prng } from "../../support/prng.js";

const CASES = Number(process.env.FUZZ_CASES ?? 5000);
const SEED = Number(process.env.FUZZ_SEED ?? 0x70f9);
const SECRET = new TextEncoder().encode("12345678901234567890");
const T0 = Date.parse("2026-01-01T00:00:10Z");

const secrets: TotpSecretSource = {
  async secretFor(user) {
    return user === "alice" ? { secret: SecretKey.from(SECRET), totp: { algorithm: "sha1", digits: 6, period: 30 } } : null;
  },
};

t.test(`verify refuses ${CASES} near-miss codes (seed ${SEED})`, async (t) => {
  const rnd = prng(SEED);
  const pick = (n: number) => Math.floor(rnd() * n);
  const choose = <T>(xs: readonly T[]): T => xs[pick(xs.length)]!;
  const good = totpCode(SECRET, Math.floor(T0 / 1000));
  const neighbours = [-30, 30].map((s) => totpCode(SECRET, Math.floor(T0 / 1000) + s));
  const zeros = [0xff10, 0x0660, 0x06f0, 0x0966, 0x1d7ce, 0x1d7ec, 0x09e6, 0xff10];
  const inDigits = (code: string, zero: number) => [...code].map((d) => (/[0-9]/.test(d) ? String.fromCodePoint(zero + Number(d)) : d)).join("");
  const splices = [" ", "\t", "\n", "\r", "\u00a0", "\u200b", "\u2028", "\ufeff", "\u0000", "+", "-", ".", "0", "e", "٠", "０"];
  const boom = (): never => {
    throw new Error("hostile");
  };
  const nearText = (): string => {
    let s = pick(3) === 0 ? choose(neighbours) : good;
    for (let r = 1 + pick(2); r > 0; r--) {
      switch (pick(6)) {
        case 0:
          s = inDigits(s, choose(zeros));
          break;
        case 1: {
          const at = pick(s.length + 1);
          s = s.slice(0, at) + choose(splices) + s.slice(at);
          break;
        }
        case 2:
          s = s.slice(0, pick(s.length));
          break;
        case 3:
          s = s + String(pick(10));
          break;
        case 4: {
          // one digit changed (a wrong code; it may equal a neighbour's, which is then valid on its own)
          const at = pick(s.length);
          if (/[0-9]/.test(s[at] ?? "")) s = s.slice(0, at) + String((Number(s[at]) + 1 + pick(9)) % 10) + s.slice(at + 1);
          break;
        }
        default:
          s = s.repeat(2 + pick(3));
      }
    }
    return s;
  };
  const nearValue = (): unknown => {
    switch (pick(10)) {
      case 0:
        return Number(good);
      case 1:
        return BigInt(good);
      case 2:
        return new String(good);
      case 3:
        return [good];
      case 4:
        return { toString: () => good, valueOf: () => good };
      case 5:
        return new Proxy({}, { get: boom, getPrototypeOf: boom });
      case 6:
        return Symbol(good);
      default:
        return nearText();
    }
  };
  const verifier = new MfaVerifier({ secrets, clock: () => T0, lockoutPolicy: { maxFailures: 1_000_000 } });
  let accepted = 0;
  let goodTaken = false;
  for (let n = 0; n < CASES; n++) {
    const code = nearValue();
    const user = pick(10) === 0 ? choose<unknown>(["alice\n", " alice", "ALICE", "alice\u0000", new String("alice"), ["alice"], null, 42, "a".repeat(300)]) : "alice";
    let result: { valid: boolean };
    try {
      result = await verifier.verify(user, code);
    } catch (err) {
      t.fail(`case ${n} (seed ${SEED}): threw ${String(err)}`);
      continue;
    }
    if (!result.valid) continue;
    // Only the exact text of a code of the window, for the enrolled user, once per step.
    if (user !== "alice" || typeof code !== "string" || !(code === good || neighbours.includes(code))) {
      t.fail(`case ${n} (seed ${SEED}): accepted ${JSON.stringify(String(code))} for ${JSON.stringify(String(user))}`);
    }
    accepted++;
    if (code === good) goodTaken = true;
  }
  t.ok(accepted <= 3, `at most one acceptance per step of the window (${accepted})`);
  const last = await verifier.verify("alice", good);
  t.equal(last.valid, !goodTaken, goodTaken ? "the exact code, used already, is a replay" : "the exact code still works");
});
