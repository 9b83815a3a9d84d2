/**
 * MFA for POST /v1/mfa/verify: the MfaVerifier of src/runtime/mfa/ (one
 * step either side, each code once, lockout with back-off) over a secret
 * source, with replay and lockout records in this process's memory. Its
 * security events (`mfa-verify`, `mfa-lockout`, ECS-style, never a code or
 * a secret) go through the served set's correlation engine like any event,
 * so `detect` rules see MFA failures; the alerts they raise are stored.
 *
 * Secret sources: the keyring's enrolments (`KeyringEnrollments`, what
 * `swarm-policy mfa enroll` writes; the serve verb opens it) or any
 * `TotpSecretSource`, e.g. an in-memory map in tests.
 */
import { MfaVerifier, type MfaEvent, type TotpSecretSource } from "../index.js";

export interface MfaSetup {
  secrets: TotpSecretSource;
  /** Epoch ms (tests). */
  clock?: () => number;
  /** Each security event (the server pushes them to the detector). */
  onEvent: (event: MfaEvent) => void;
}

/** What the route calls. */
export type MfaService = Pick<MfaVerifier, "verify">;

export function createMfaService(setup: MfaSetup): MfaService {
  return new MfaVerifier({ secrets: setup.secrets, onEvent: setup.onEvent, ...(setup.clock ? { clock: setup.clock } : {}) });
}
