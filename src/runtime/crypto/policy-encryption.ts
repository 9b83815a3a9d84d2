/**
 * Encryption driven by policy: the caller gives the data's attributes, the
 * engine says what protection they need (`evaluate({ kind: "encryption",
 * data })`: cipher, AAD fields, key age, TEE), and this module turns that
 * into stream options, or refuses. Every unmet requirement is a refusal
 * (PolicyRefusal) naming the rules; nothing is ever encrypted more weakly
 * than the policies say.
 */
import { AEAD_ALGORITHMS, type AeadAlgorithm, type AeadProvider } from "./aead.js";
import { aadValue } from "./aad-values.js";
import { checkAttestation, describeAttestation, type Attestation, type AttestationProvider } from "./attestation.js";
import { EnvelopeError } from "./envelope-format.js";
import { keyAgeMs } from "./key-age.js";
import type { Keyring, PrimaryKek } from "./keyring.js";
import type { AsyncKekUsage } from "./kek-usage.js";
import { sealStream } from "./stream.js";
import type { EncryptionResult } from "../../evaluator/decision.js";
import { formatDuration } from "../../evaluator/duration.js";
import { formatInstant, MAX_CLOCK_SKEW_MS } from "../../evaluator/time.js";

export type PolicyRefusalCode = "policy-errors" | "unsupported-cipher" | "missing-aad" | "bad-aad-value" | "key-age" | "not-attested";

/** The policies require something this request cannot give. The message names the rules. */
export class PolicyRefusal extends Error {
  readonly code: PolicyRefusalCode;
  /** The rules that contributed to the requirement. */
  readonly rules: readonly string[];
  constructor(code: PolicyRefusalCode, message: string, rules: readonly string[]) {
    super(message);
    this.name = "PolicyRefusal";
    this.code = code;
    this.rules = rules;
  }
}

/** What evaluating needs: any engine-like object. */
export interface EncryptionPolicy {
  evaluate(input: unknown): unknown;
}

export interface PlanOptions {
  /** The KEK id whose primary wraps the data key (default: the keyring's default). */
  readonly kekId?: string;
  /** Asked only when the policies require a TEE (default: not attested). */
  readonly attestation?: AttestationProvider;
  /**
   * Epoch ms the decision is taken at (default: the engine's clock for the
   * policies, Date.now for the key-age check): both the policies' `now` and
   * the KEK's age are measured at it. Not a finite number: RangeError.
   */
  readonly now?: number;
}

export interface EncryptionPlan {
  readonly cipher: AeadAlgorithm;
  readonly aadFields: readonly string[];
  readonly teeRequired: boolean;
  readonly maxKeyAge: string | null;
  readonly kek: PrimaryKek;
  readonly rules: readonly string[];
  /** Present when a TEE was required and attested. */
  readonly attestation?: Attestation;
}

const ruleList = (rules: readonly string[]) => (rules.length === 0 ? "the policies" : rules.join(", "));

/** Evaluates the policies for `data` and checks every requirement; throws PolicyRefusal. */
export async function planEncryption(policy: EncryptionPolicy, data: Readonly<Record<string, unknown>>, keyring: Keyring, options: PlanOptions = {}): Promise<EncryptionPlan> {
  if (options.now !== undefined && !Number.isFinite(options.now)) throw new RangeError("planEncryption: `now` is not a valid time");
  // One instant for the whole decision: a `when now < ...` must see the time the key age is measured at.
  const result = policy.evaluate({ kind: "encryption", data, ...(options.now === undefined ? {} : { time: new Date(options.now).toISOString() }) }) as EncryptionResult;
  const rules = result.rules ?? [];
  const by = ruleList(rules);
  if (!Array.isArray(result.errors) || result.errors.length > 0) {
    const first = result.errors?.[0]?.message ?? "no decision";
    throw new PolicyRefusal("policy-errors", `the encryption decision has errors (${first}); nothing is encrypted without a clean decision`, rules);
  }
  // Data no rule covers is still encrypted, with the default cipher and nothing bound.
  const cipher = (result.cipher ?? "aes-256-gcm") as AeadAlgorithm;
  if (!AEAD_ALGORITHMS.includes(cipher)) throw new PolicyRefusal("unsupported-cipher", `${by} require cipher "${cipher}", which this runtime does not implement`, rules);
  const aadFields = [...(result.aad ?? [])];
  const missing = aadFields.filter((f) => !Object.hasOwn(data, f) || data[f] === undefined);
  if (missing.length > 0) {
    throw new PolicyRefusal("missing-aad", `${by} require AAD fields ${aadFields.join(", ")}; missing from the attributes: ${missing.join(", ")}`, rules);
  }
  for (const f of aadFields) {
    try {
      aadValue(f, data, true);
    } catch (e) {
      if (e instanceof EnvelopeError) throw new PolicyRefusal("bad-aad-value", `${e.message} (required by ${by})`, rules);
      throw e;
    }
  }
  const kek = keyring.primary(options.kekId);
  const limit = keyAgeMs(result.maxKeyAge);
  if (result.maxKeyAge !== null && limit === null) throw new PolicyRefusal("key-age", `unreadable key_age "${result.maxKeyAge}" from ${by}`, rules);
  if (limit !== null) {
    const now = options.now ?? Date.now();
    const age = now - kek.createdAt.getTime();
    // A KEK dated after now (beyond clock skew) has no known age: a clock set back, or a forged date.
    if (-age > MAX_CLOCK_SKEW_MS || age !== age) {
      throw new PolicyRefusal(
        "key-age",
        `primary KEK "${kek.id}" version ${kek.version} was created at ${formatInstant(kek.createdAt.getTime())}, after now (${formatInstant(now)}): its age is unknown; ${by} require key_age within ${result.maxKeyAge}`,
        rules,
      );
    }
    if (age > limit) {
      throw new PolicyRefusal(
        "key-age",
        `primary KEK "${kek.id}" version ${kek.version} is ${formatDuration(Math.floor(age / 1000) * 1000)} old; ${by} require key_age within ${result.maxKeyAge}: rotate it (swarm-policy keys rotate)`,
        rules,
      );
    }
  }
  let attestation: Attestation | undefined;
  if (result.tee) {
    attestation = await checkAttestation(options.attestation);
    if (!attestation.attested) {
      throw new PolicyRefusal("not-attested", `${by} require a TEE, and this environment is not attested (${describeAttestation(attestation)})`, rules);
    }
  }
  return { cipher, aadFields, teeRequired: result.tee === true, maxKeyAge: result.maxKeyAge, kek, rules, ...(attestation ? { attestation } : {}) };
}

/**
 * Encrypts `source` as the policies require for `data`: a v2 stream whose
 * header binds the required AAD fields and records a TEE requirement.
 * Refusals are thrown when the generator is first advanced, before any output.
 */
export async function* encryptByPolicy(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  data: Readonly<Record<string, unknown>>,
  options: PlanOptions & {
    policy: EncryptionPolicy;
    keyring: Keyring;
    chunkSize?: number;
    /** Counts the wrap (default: the keyring's counter, `keyring.usage`). */
    usage?: AsyncKekUsage;
    /** The AEAD provider (default: providerFor(cipher)); one lacking the policy's cipher is refused. */
    provider?: AeadProvider;
    onPlan?: (plan: EncryptionPlan) => void;
  },
): AsyncGenerator<Uint8Array> {
  const plan = await planEncryption(options.policy, data, options.keyring, options);
  options.onPlan?.(plan);
  yield* sealStream(source, {
    cipher: plan.cipher,
    kek: plan.kek,
    aadFields: plan.aadFields,
    attributes: data,
    teeRequired: plan.teeRequired,
    ...(options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize }),
    usage: options.usage ?? options.keyring.usage,
    ...(options.provider === undefined ? {} : { provider: options.provider }),
  });
}
