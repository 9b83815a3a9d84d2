/**
 * Which provider runs (docs/envelope.md "Providers: which runs when"): the
 * caller's, when it passes one (`provider` in seal, open, stream and
 * encrypt-by-policy options); otherwise node:crypto for AES-256-GCM (about
 * 70x faster than pure JS on 1 MiB) and @noble/ciphers for AES-256-GCM-SIV,
 * which node:crypto lacks.
 *
 * This module imports node-aead.ts, and so node:crypto, at load: it is the
 * one edge from the envelope and stream code to a Node builtin (checked by
 * test/runtime/crypto/providers.test.ts).
 */
import type { AeadAlgorithm, AeadProvider } from "./aead.js";
import { EnvelopeError } from "./envelope-format.js";
import { nobleAead } from "./noble-aead.js";
import { nodeAead } from "./node-aead.js";

/** The default provider for `algorithm`: node:crypto where it implements it, else @noble/ciphers. */
export function providerFor(algorithm: AeadAlgorithm): AeadProvider {
  return nodeAead.algorithms.includes(algorithm) ? nodeAead : nobleAead;
}

/**
 * The provider to use: `chosen` when given (refused, before any key is used
 * or counted, when it lacks `algorithm`: never a silent switch to another
 * provider), else the default.
 */
export function resolveProvider(algorithm: AeadAlgorithm, chosen: AeadProvider | undefined): AeadProvider {
  if (chosen === undefined) return providerFor(algorithm);
  if (!chosen.algorithms.includes(algorithm)) {
    throw new EnvelopeError("bad-request", `AEAD provider "${chosen.name}" does not implement ${algorithm} (it has ${chosen.algorithms.join(", ")})`);
  }
  return chosen;
}
