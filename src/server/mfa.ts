/**
 * What POST /v1/mfa/verify needs from the MFA runtime: check one code for
 * one user. The service is built from the TOTP verifier of src/runtime/mfa/
 * and a secret source (see `totpMfaService`); tests inject an in-memory
 * source. Secrets never leave the source except as the bytes the verifier
 * reads; codes are never logged.
 */

export type MfaResult =
  | { valid: true; verifiedAt: string }
  | { valid: false; reason: "invalid" | "replay" }
  | { valid: false; reason: "locked"; retryAfterSeconds: number };

export interface MfaService {
  /** Never throws for a bad code or an unknown user (both are `invalid`). */
  verify(user: string, code: string): Promise<MfaResult>;
}
