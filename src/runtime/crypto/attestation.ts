/**
 * Trusted execution environments: what `require tee` needs. A provider says
 * whether this process runs in an attested TEE (SEV-SNP, TDX, Nitro, ...:
 * each platform's provider verifies its own evidence). The default provider
 * answers "not attested", so data whose policy requires a TEE is refused,
 * never encrypted or decrypted outside one by accident.
 */

export interface Attestation {
  readonly attested: boolean;
  /** The provider's name, for messages. */
  readonly provider: string;
  /** Why not (or what was verified); shown in refusals. Never secret. */
  readonly detail?: string;
}

export interface AttestationProvider {
  readonly name: string;
  attest(): Attestation | Promise<Attestation>;
}

/** The default: no TEE evidence is checked, so nothing is attested. */
export const NO_ATTESTATION: AttestationProvider = {
  name: "none",
  attest: () => ({ attested: false, provider: "none", detail: "no attestation provider is configured" }),
};

/** Asks `provider`; a provider that throws or answers oddly counts as not attested (fail closed). */
export async function checkAttestation(provider: AttestationProvider = NO_ATTESTATION): Promise<Attestation> {
  try {
    const a = await provider.attest();
    if (a !== null && typeof a === "object" && a.attested === true) return { attested: true, provider: String(a.provider ?? provider.name), ...(a.detail ? { detail: String(a.detail) } : {}) };
    return { attested: false, provider: String(a?.provider ?? provider.name), detail: String(a?.detail ?? "the provider did not attest") };
  } catch (e) {
    return { attested: false, provider: String(provider?.name ?? "unknown"), detail: `the provider failed: ${(e as Error)?.message ?? String(e)}` };
  }
}

/** "provider \"none\": no attestation provider is configured" */
export function describeAttestation(a: Attestation): string {
  return `provider "${a.provider}"${a.detail ? `: ${a.detail}` : ""}`;
}
