/**
 * TOTP (RFC 6238) over otplib: code generation and verification with a window
 * of one time step either side. otplib throws on malformed input (short
 * secret, wrong code length, non-digits, bad time); every such path here is a
 * plain "not valid", never a throw and never a success.
 */
import { generateSync, verifySync } from "otplib";
import { SecretKey } from "../crypto/secret-key.js";

export type TotpAlgorithm = "sha1" | "sha256" | "sha512";

export interface TotpOptions {
  /** Code length (default 6; RFC 6238's vectors use 8). */
  readonly digits?: 6 | 7 | 8;
  /** Time step X in seconds (default 30). */
  readonly period?: number;
  /** HMAC hash (default sha1, what authenticator apps assume). */
  readonly algorithm?: TotpAlgorithm;
}

/** Shortest secret accepted: RFC 4226 section 4 requires 128 bits. */
export const TOTP_MIN_SECRET_BYTES = 16;
/** Longest secret accepted (otplib's guardrail; a SHA-512 block). */
export const TOTP_MAX_SECRET_BYTES = 64;

type Secret = SecretKey | Uint8Array;

function bytesOf(secret: Secret): Uint8Array {
  return secret instanceof SecretKey ? secret.exposeBytes() : secret;
}

function settings(options: TotpOptions) {
  return { digits: options.digits ?? 6, period: options.period ?? 30, algorithm: options.algorithm ?? "sha1" } as const;
}

/** The time step T = floor(time / period) for a Unix time in seconds (T0 = 0). */
export function totpTimeStep(unixSeconds: number, options: TotpOptions = {}): number {
  return Math.floor(unixSeconds / settings(options).period);
}

/**
 * The code for a Unix time in seconds. Throws on bad arguments: this is for
 * enrolment displays and tests, where a bad secret is a programming error.
 */
export function totpCode(secret: Secret, unixSeconds: number, options: TotpOptions = {}): string {
  return generateSync({ ...settings(options), secret: bytesOf(secret), epoch: unixSeconds });
}

/**
 * The time step a code matches at `unixSeconds`, checking the previous,
 * current and next step; null when it matches none or any input is malformed.
 */
export function matchTotp(secret: Secret, code: unknown, unixSeconds: number, options: TotpOptions = {}): number | null {
  try {
    const s = settings(options);
    if (typeof code !== "string" || code.length !== s.digits || !/^[0-9]+$/.test(code)) return null;
    if (typeof unixSeconds !== "number" || !Number.isFinite(unixSeconds) || unixSeconds < 0) return null;
    const bytes = bytesOf(secret);
    if (!(bytes instanceof Uint8Array)) return null;
    if (bytes.length < TOTP_MIN_SECRET_BYTES || bytes.length > TOTP_MAX_SECRET_BYTES) return null;
    // A tolerance of one period each side spans exactly steps T-1, T and T+1 for any offset within T.
    const result = verifySync({ ...s, secret: bytes, token: code, epoch: unixSeconds, epochTolerance: s.period });
    return result.valid && "timeStep" in result ? result.timeStep : null;
  } catch {
    return null;
  }
}

/** True when `code` is valid at `unixSeconds` (one step either side); false for anything malformed. */
export function verifyTotp(secret: Secret, code: unknown, unixSeconds: number, options: TotpOptions = {}): boolean {
  return matchTotp(secret, code, unixSeconds, options) !== null;
}
