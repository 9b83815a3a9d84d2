/**
 * MFA for POST /v1/mfa/verify: the MfaVerifier of src/runtime/mfa/ (one
 * step either side, each code once, lockout with back-off) over a secret
 * source, with replay and lockout records in the given store (`serve
 * --keyring`: the keyring's state file, which `mfa verify` shares and a
 * restart keeps) or else in this process's memory. Its
 * security events (`mfa-verify`, `mfa-lockout`, ECS-style, never a code or
 * a secret) go through the served set's correlation engine like any event,
 * so `detect` rules see MFA failures; the alerts they raise are stored.
 * Names that are not enrolled are counted and locked like enrolled ones (in
 * a bounded store of their own), so no answer reveals who is enrolled.
 *
 * Secret sources: the keyring's enrolments (`KeyringEnrollments`, what
 * `swarm-policy mfa enroll` writes; the serve verb opens it) or any
 * `TotpSecretSource`, e.g. an in-memory map in tests.
 */
import { MemoryLockoutStore, MfaVerifier, type LockoutState, type LockoutStore, type MfaEvent, type ReplayStore, type TotpSecretSource } from "../index.js";

export interface MfaSetup {
  secrets: TotpSecretSource;
  /**
   * Used codes and lockouts; default this process's memory. `serve --keyring` gives the
   * keyring's FileMfaStateStore, so a restart forgets neither and `mfa verify` shares them.
   */
  state?: (ReplayStore & LockoutStore) | null;
  /** Epoch ms (tests). */
  clock?: () => number;
  /** Each security event (the server pushes them to the detector). */
  onEvent: (event: MfaEvent) => void;
}

/** What the route calls. */
export type MfaService = Pick<MfaVerifier, "verify">;

/** Records of made-up user names kept at most (LRU); about 100 bytes each. */
export const UNENROLLED_LOCKOUT_RECORDS = 100_000;

type Touchable = LockoutStore & { touch(): Promise<void> };

/**
 * Lockout records of names that are not enrolled: in bounded memory (anyone may make names up),
 * but each update also does the state-file work an enrolled user's does (a write when the
 * record changed, a read when not, as while locked), so neither the time taken nor an unusable
 * file tells the two apart.
 */
class UnenrolledLockoutStore implements LockoutStore {
  constructor(
    private readonly records: MemoryLockoutStore,
    private readonly state: Touchable | null,
  ) {}

  get(user: string): Promise<LockoutState | undefined> {
    return this.records.get(user);
  }

  async update(user: string, change: (current: LockoutState | undefined) => LockoutState | undefined): Promise<LockoutState | undefined> {
    let changed = false;
    const next = await this.records.update(user, (current) => {
      const n = change(current);
      changed = n !== current;
      return n;
    });
    if (this.state !== null) await (changed ? this.state.touch() : this.state.get(user));
    return next;
  }
}

const touchable = (state: LockoutStore | null | undefined): state is Touchable => typeof (state as Partial<Touchable> | null | undefined)?.touch === "function";

export function createMfaService(setup: MfaSetup): MfaService {
  const clock = setup.clock ?? Date.now;
  return new MfaVerifier({
    secrets: setup.secrets,
    onEvent: setup.onEvent,
    clock,
    ...(setup.state ? { replay: setup.state, lockout: setup.state } : {}),
    // The route answers "invalid" for a user who is not enrolled; locking such names like enrolled
    // ones keeps the fifth failure's retry_after_seconds and the 429 from telling who is enrolled.
    unenrolledLockout: new UnenrolledLockoutStore(
      new MemoryLockoutStore(clock, { maxRecords: UNENROLLED_LOCKOUT_RECORDS }),
      touchable(setup.state) ? setup.state : null,
    ),
  });
}
