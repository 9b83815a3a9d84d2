/**
 * swarm-policy: the public library API. This file only re-exports.
 */
export type * from "./parser/ast.js";
export { SourceText, type Span } from "./parser/span.js";
export { CODES, type Code, type CodeInfo } from "./diagnostics/codes.js";
export type { Diagnostic } from "./diagnostics/diagnostic.js";
/** Order diagnostics by file and position; whether any is an error. */
export { hasErrors, sortDiagnostics } from "./diagnostics/diagnostic.js";
/** Diagnostics as rustc-like text with source frames; `shouldColor` decides ANSI colour for a stream. */
export { renderText, renderDiagnostic, summaryLine, shouldColor, type TextRenderOptions } from "./diagnostics/render-text.js";
/**
 * Why bytes are not UTF-8 (`not valid UTF-8 (byte 0xe9 at line 2, column 30)`), or undefined;
 * firstBadUtf8 gives the place as data. Inputs that decide (policies, JSON inputs) are refused
 * rather than decoded with U+FFFD, which would silently change the strings rules compare.
 */
export { utf8Problem, firstBadUtf8, type Utf8Fault } from "./parser/utf8.js";
/** Text safe for a terminal: control, line-separating and bidirectional characters as `\u001b` escapes. */
export { escapeUnsafe } from "./diagnostics/escape-text.js";
/** Diagnostics as a JSON report `{ diagnostics, errors, warnings }`; how files are named in output. */
export {
  renderJson,
  toJsonReport,
  countSeverities,
  displayPath,
  type JsonReport,
  type JsonDiagnostic,
  type RenderPathOptions,
} from "./diagnostics/render-json.js";
/** Diagnostics as a SARIF 2.1.0 log for code-scanning services. */
export { renderSarif, toSarif, type SarifLog, type SarifRenderOptions } from "./diagnostics/render-sarif.js";
/** Read policy files and directories (never throws); parse, check and lint them together. */
export { readSources, analyze, type ReadResult, type ReadError, type AnalyzeResult, type AnalyzeOptions } from "./load.js";
/** The canonical layout of policy text (docs/fmt.md); never throws. */
export { format, type FormatResult } from "./format/format.js";
/**
 * The engine: load or compile policies, then `evaluate(input)` (access by
 * default; `kind: "encryption"` or `"mesh"`) and `evaluateBatch(inputs)`.
 * Loading never throws (see `diagnostics`); a set with errors fails closed.
 */
export { Engine, loadPolicies, compile, policyVersion, POLICY_SET_ERRORS, type EngineOptions } from "./engine.js";
/** Decision objects returned by `evaluate()` (spec/LANGUAGE.md sections 4-6). */
export type {
  AccessDecision,
  EncryptionResult,
  MeshDecision,
  Decision,
  DecisionError,
  Reason,
  MfaObligation,
  NotApplied,
  Violation,
  MeshReason,
  Explain,
  RuleTrace,
  ClauseTrace,
  EvaluateOptions,
} from "./evaluator/decision.js";
/** The stores `risk()` and `quarantined()` read; an in-memory default with expiry. */
export { MemoryRiskStore, EMPTY_RISK_STORE, type RiskStore } from "./evaluator/stores.js";
/** Run the `test` blocks of loaded policy files against an engine (with optional clause coverage). */
export {
  runPolicyTests,
  type TestRun,
  type TestCaseResult,
  type TestFailure,
  type CoverageReport,
  type RunOptions,
  type TestTarget,
} from "./testing/run-tests.js";
/**
 * Convert json-rules-engine rule sets (allow/deny events) into policy text;
 * rules that cannot be converted come back as problems, never dropped.
 */
export { convertJsonRulesEngine, type JsonRulesEngineSource } from "./import/json-rules-engine.js";
export { ImportInputError, type ImportResult, type ImportProblem } from "./import/report.js";
/**
 * The correlation engine (spec/LANGUAGE.md section 7): `compileDetectors(files, { risk })`
 * gives a detector with `push(event)` / `flush()` returning alerts; `then risk` and
 * `then quarantine` write to the given store, which access and mesh rules read.
 */
export {
  compileDetectors,
  type Detector,
  type DetectorOptions,
  type DetectorStats,
  type RuleStats,
  type StreamProblem,
  type Alert,
  type RiskSink,
} from "./runtime/siem/detector.js";
/**
 * Files that appear whole or not at all (temp file, fsync, rename, directory
 * fsync): `writeFileAtomic(file, data, { mode, exclusive, followSymlinks })`, and `AtomicFile`
 * for output streamed in pieces that must vanish on failure;
 * `removeTempFilesSync()` for a signal handler ending the process. A target
 * that is a symlink is refused (`OutputIsSymlinkError`) unless `followSymlinks`, and one that
 * exists and is not a regular file (/dev/null, a FIFO, a directory) always (`OutputNotRegularFileError`).
 */
export { writeFileAtomic, AtomicFile, OutputIsSymlinkError, OutputNotRegularFileError, syncDirectory, removeTempFilesSync, type AtomicWriteOptions } from "./runtime/atomic-file.js";
/**
 * Key material behind a redacting wrapper: `SecretKey.generate()`, `SecretKey.from(bytes)`,
 * `exposeBytes()` for a cipher, `destroy()` to wipe; JSON, inspect and strings show "<redacted>".
 */
export { SecretKey } from "./runtime/crypto/secret-key.js";
/**
 * The keyring (docs/keyring.md): versioned key-encryption keys in a private directory
 * (`Keyring.create` / `Keyring.open`, `rotate`, `retire`, `list`, `primary`), optionally
 * unlocked by a passphrase (scrypt) or an unlock key from `$SWARM_POLICY_KEYRING_KEY`
 * (`parseUnlockKey`). `sealSecret(bytes, context)` / `openSecret(sealed, context)` seal a
 * small secret (a TOTP seed) bound to a context string; `resealSecret(sealed, context)`
 * moves one to the current primary after `rotate`.
 */
export {
  Keyring,
  KeyringError,
  parseUnlockKey,
  KEYRING_KEY_ENV,
  DEFAULT_SCRYPT,
  SECRET_CONTEXT_FIELD,
  type KekInfo,
  type PrimaryKek,
  type ResealedSecret,
  type KeyringOptions,
  type CreateKeyringOptions,
  type KeyringErrorCode,
  type ScryptParams,
  type ProtectionKind,
} from "./runtime/crypto/keyring.js";
/**
 * Envelope encryption, format v1 (docs/envelope.md): `sealEnvelope(plaintext, { cipher, kek,
 * aadFields, attributes })`, `openEnvelope(envelope, { resolveKek, attributes })`,
 * `readEnvelopeHeader(envelope)`; failures are `EnvelopeError` with a `code`.
 */
export {
  sealEnvelope,
  openEnvelope,
  readEnvelopeHeader,
  EnvelopeError,
  type EnvelopeHeader,
  type Kek,
  type SealOptions,
  type OpenOptions,
} from "./runtime/crypto/envelope.js";
/**
 * The per-KEK wrap limit (docs/envelope.md "Nonces and the per-key limit"): `MAX_WRAPS_PER_KEK`
 * (2^32), the counter interfaces, `MemoryKekUsage` (one process, the default of `sealEnvelope`
 * and streams) and `FileKekUsage` (a locked counter file in the keyring directory, reserved in
 * blocks; the default of `Keyring`, exposed as `keyring.usage`).
 */
export { MAX_WRAPS_PER_KEK, MemoryKekUsage, type KekUsage, type AsyncKekUsage } from "./runtime/crypto/kek-usage.js";
export { FileKekUsage, USAGE_FILE, MAX_RESERVE_BLOCK, type FileKekUsageOptions } from "./runtime/crypto/kek-usage-file.js";
/**
 * KEK ages against the policies' `require key_age` limits (`keys list --policies`):
 * `keyAgeRequirements(engine.files)` and `checkKeyAges(keyring.list(), requirements, now)`.
 */
export {
  keyAgeRequirements,
  checkKeyAges,
  type KeyAgeRequirement,
  type KekAgeCheck,
  type KekAgeReport,
} from "./runtime/crypto/key-age.js";
/**
 * Streams, format v2 (docs/envelope.md "Streams"): chunked STREAM encryption in bounded memory.
 * `sealStream(source, { cipher, kek, aadFields, attributes, teeRequired, chunkSize })` and
 * `openStream(source, { resolveKek, attributes?, attestation? })` are async generators of bytes;
 * `rewrapStream` re-wraps the data key without touching the payload; `inspectStream` reads the header.
 */
export {
  sealStream,
  openStream,
  rewrapStream,
  inspectStream,
  collectBytes,
  DEFAULT_CHUNK_SIZE,
  MAX_CHUNK_SIZE,
  type StreamHeader,
  type StreamSealOptions,
  type StreamOpenOptions,
} from "./runtime/crypto/stream.js";
/**
 * AEAD providers (docs/envelope.md "Providers: which runs when"): `nodeAead` (node:crypto,
 * AES-256-GCM), `nobleAead` (@noble/ciphers, pure JS, AES-256-GCM and AES-256-GCM-SIV), and
 * `providerFor(cipher)`, the default choice. Pass one as `provider` in the options of
 * `sealEnvelope`, `openEnvelope`, `sealStream`, `openStream`, `rewrapStream` or
 * `encryptByPolicy` to choose; what either seals, the other opens. Implement `AeadProvider`
 * for another backend; failures are `CryptoError`.
 */
export { nodeAead } from "./runtime/crypto/node-aead.js";
export { nobleAead } from "./runtime/crypto/noble-aead.js";
export { providerFor } from "./runtime/crypto/providers.js";
export { CryptoError, AEAD_ALGORITHMS, type AeadProvider, type AeadAlgorithm, type CryptoErrorCode } from "./runtime/crypto/aead.js";
/** TEE attestation for `require tee`: the provider interface and the default, which attests nothing. */
export { NO_ATTESTATION, checkAttestation, type Attestation, type AttestationProvider } from "./runtime/crypto/attestation.js";
/**
 * Encryption by policy: `planEncryption(engine, data, keyring, { attestation })` checks what
 * `evaluate({ kind: "encryption", data })` requires (cipher, AAD, key age, TEE) and throws
 * `PolicyRefusal` when it cannot be met; `encryptByPolicy(source, data, { policy, keyring })` seals a stream so.
 */
export {
  planEncryption,
  encryptByPolicy,
  PolicyRefusal,
  type PolicyRefusalCode,
  type EncryptionPlan,
  type EncryptionPolicy,
  type PlanOptions,
} from "./runtime/crypto/policy-encryption.js";
/**
 * Encryption audit (docs/audit.md): stream an inventory of data objects
 * (JSON Lines or a JSON array, in bounded memory) through the encryption
 * rules and count compliance in total, per rule and per compliance tag.
 * `auditInventory(engine, await openInventory(file), { now })` gives the
 * report; `renderAuditText` / `renderAuditHtml` print it (JSON: as is).
 */
export {
  auditInventory,
  encryptionRuleTags,
  AUDIT_REPORT_FORMAT,
  AUDIT_REPORT_VERSION,
  type AuditReport,
  type AuditOptions,
  type AuditObject,
  type AuditViolation,
  type InvalidRecord,
  type GroupSummary,
  type FrameworkSummary,
  type RuleSummary,
} from "./runtime/audit/audit.js";
/** Inventory readers: a file or byte stream, or records already in hand; InventoryError when the whole input is unreadable. */
export { openInventory, readInventory, recordsOf, InventoryError, type ReadInventoryOptions, type ScannedRecord, type InventoryFormat } from "./runtime/audit/inventory.js";
/** The JSON Schema every inventory record must meet, and its validator (problems with JSON Pointer paths). */
export { AUDIT_RECORD_SCHEMA, validateRecord, type RecordProblem } from "./runtime/audit/record-schema.js";
/** An audit report as terminal text (control characters escaped) or a self-contained HTML page (everything escaped). */
export { renderAuditText, auditSummaryLine } from "./runtime/audit/report-text.js";
export { renderAuditHtml } from "./runtime/audit/report-html.js";
/**
 * The decision log: `new DecisionLog({ path })` appends every decision as one
 * JSON line (id, time, version, kind, outcome, rule, reasons, redacted input)
 * to a file rotated by size, or to stdout with path "-". `redact` is the
 * redaction it applies; `decisionEvent(entry)` turns an entry into an event
 * for a detector, so `detect` rules can watch the engine's own decisions.
 */
export {
  DecisionLog,
  redact,
  decisionEvent,
  decisionOutcome,
  DEFAULT_REDACT_KEYS,
  REDACTED,
  type DecisionLogOptions,
  type DecisionLogFile,
  type DecisionLogEntry,
  type DecisionLogStats,
  type LoggedDecision,
} from "./runtime/decision-log.js";
/**
 * The decision service (`swarm-policy serve`, docs/api.md): `startServer({
 * paths, config })` listens and returns a handle with `url`, `reload()` and
 * `close()`; it refuses a non-loopback host without client tokens.
 */
export { startServer, isLoopbackHost, type StartServerOptions, type RunningServer } from "./server/server.js";
/** The service's configuration file (YAML or JSON, docs/operations.md): loaded, checked, defaults filled. */
export { loadServerConfig, resolveServerConfig, defaultServerConfig, ServerConfigError, DEFAULT_PORT, DEFAULT_HOST, type ServerConfig } from "./server/config.js";
/** The sha256 hex of a bearer token, as the config's `token_sha256` stores it. */
export { hashToken, type Scope } from "./server/auth.js";
/** A policy set's reload attempt, as `RunningServer` emits it ("reload"). */
export type { ReloadAttempt, ReloadTrigger } from "./server/policy-set.js";
/**
 * Convert Sigma detection and correlation rules (YAML text) into detect
 * blocks of one policy file (docs/sigma.md); rules that cannot be converted
 * come back as problems, never dropped. A pipeline maps Sigma log sources and
 * field names onto the events: `SIGMA_PIPELINES.sysmon`, `SIGMA_PIPELINES.ecs`,
 * or one read with `loadSigmaPipeline`.
 */
export { convertSigma, type SigmaOptions } from "./import/sigma/convert.js";
/** Sigma input files: `{ name, text }`, each one or more YAML documents. */
export type { SigmaSource } from "./import/sigma/load.js";
/** A pipeline from YAML text (docs/sigma.md); throws ImportInputError when malformed. */
export { loadPipeline as loadSigmaPipeline } from "./import/sigma/load.js";
/** The built-in pipelines by name (`sysmon`, `ecs`) and the pipeline shape. */
export { BUILTIN_PIPELINES as SIGMA_PIPELINES } from "./import/sigma/pipelines.js";
export type { Pipeline as SigmaPipeline } from "./import/sigma/pipeline.js";
/**
 * The WireGuard mesh runtime (docs/mesh.md). `parseMeshInventory` validates a
 * node inventory (a JSON array of nodes, or `{ nodes: [...] }`); every
 * problem names the node and the field.
 */
export {
  parseInventory as parseMeshInventory,
  problemText as meshInventoryProblemText,
  INVENTORY_SCHEMA as MESH_INVENTORY_SCHEMA,
  type InventoryNode as MeshInventoryNode,
  type InventoryProblem as MeshInventoryProblem,
  type InventoryResult as MeshInventoryResult,
} from "./runtime/mesh/inventory.js";
/**
 * `planMesh(engine, nodes, { time })`: admission, stable overlay addresses and
 * peers per `connect` rule, as a pure function; `MeshTopology` expands one
 * node's peers and inbound rules.
 */
export {
  planMesh,
  MeshTopology,
  type MeshPlan,
  type PlannedNode,
  type RejectedNode,
  type Flow,
  type Inbound,
  type PlanOptions as MeshPlanOptions,
  type MeshEngine,
} from "./runtime/mesh/plan.js";
/** The planning half of a mesh block (network, ports, keepalive, key age, connect rules). */
export { meshSettings, type MeshSettings, type ConnectRule } from "./runtime/mesh/settings.js";
/** Overlay address assignment: hashed ids with probing, pins kept (docs/mesh.md "Addresses"). */
export { AddressSpace, assignAddresses, type AddressRequest, type AddressResult } from "./runtime/mesh/addresses.js";
/** Per-node wg-quick configs and nftables rules, and the render options (interface name, key file). */
export { renderWgQuick, interfaceName, defaultRenderOptions, renderOptionsProblem, type RenderOptions } from "./runtime/mesh/render-wg.js";
/** The nftables rule file enforcing `ports` on a receiving node. */
export { renderNft, nftTableName } from "./runtime/mesh/render-nft.js";
/** plan.json: the plan as data, edges as groups. */
export { planToJson, PLAN_FORMAT, type PlanJson } from "./runtime/mesh/plan-json.js";
/** Write a plan's configs, rules and plan.json atomically into a directory; stale files of the last plan go. */
export { writePlan, type WriteResult } from "./runtime/mesh/write-plan.js";
/** WireGuard X25519 keys in base64; private keys stay in `SecretKey` until `privateKeyText`. */
export {
  generateKeyPair,
  publicKeyOf,
  parsePrivateKey,
  privateKeyText,
  clampPrivateKey,
  type WireGuardKeyPair,
} from "./runtime/mesh/keys.js";
/** `wg show all dump` (and `wg show IFACE dump`) parsed; bad lines by number; the private key is never kept. */
export { parseWgDump, type WgDump, type DumpInterface, type DumpPeer, type DumpProblem } from "./runtime/mesh/wg-dump.js";
/** Drift between a plan and a live dump (docs/mesh.md "Verify"), and its text form. */
export { verifyMesh, verifyText, type VerifyReport as MeshVerifyReport, type VerifyOptions as MeshVerifyOptions, type Finding as MeshDriftFinding, type DriftKind } from "./runtime/mesh/verify.js";
/** The mesh drawn as Mermaid or DOT, per node or per tag, rejected nodes apart. */
export { renderGraph, type GraphOptions, type GraphFormat } from "./runtime/mesh/graph.js";
/** Duration text (`5m`, `1h30m`) to milliseconds; null when malformed. */
export { parseDuration } from "./evaluator/duration.js";
/** RFC 3339 text to epoch milliseconds, as the policies read times (no February 30th, no hour 24); NaN when it is not one. */
export { parseRfc3339 } from "./evaluator/time.js";
/**
 * TOTP multi-factor authentication (docs/mfa.md). `KeyringEnrollments` keeps
 * each user's secret sealed by the keyring (`enroll(user, { force })`);
 * `MfaVerifier.verify(user, code)` checks a code (one step either side, each
 * step once per user, lockout with back-off), emits ECS-style security events
 * and on success gives the `context.mfa.verified_at` access policies read.
 */
export { MfaVerifier, type MfaVerifierOptions, type MfaVerifyResult, type VerifyOptions } from "./runtime/mfa/mfa-verifier.js";
/**
 * Secrets at rest in a keyring, the source a verifier reads, and user-name rules;
 * `reseal()` moves every secret to the keyring's current primary after `rotate`, and
 * `list()` says which KEK version each is sealed under (docs/mfa.md "Rotating the keyring").
 */
export {
  KeyringEnrollments,
  MfaEnrollmentError,
  checkUserName,
  MFA_DIR,
  ENROLLMENTS_LOCK,
  TOTP_SECRET_BYTES,
  type TotpSecretSource,
  type Enrollment,
  type EnrollOptions,
  type EnrolledSecret,
  type ResealResult,
} from "./runtime/mfa/enrollments.js";
/** RFC 6238 codes: `totpCode` for displays and tests, `verifyTotp` / `matchTotp` that never throw. */
export { totpCode, verifyTotp, matchTotp, totpTimeStep, type TotpOptions, type TotpAlgorithm } from "./runtime/mfa/totp.js";
/** The used-code store (interface and in-memory default). */
export { MemoryReplayStore, type ReplayStore } from "./runtime/mfa/replay-store.js";
/** The lockout store (interface and in-memory default) and the lockout policy. */
export {
  MemoryLockoutStore,
  DEFAULT_LOCKOUT_POLICY,
  MAX_LOCKOUT_MS,
  type LockoutStore,
  type LockoutState,
  type LockoutPolicy,
} from "./runtime/mfa/lockout.js";
/** Replay and lockout records in one 0600 file (for one process per verification, as the CLI runs). */
export { FileMfaStateStore, MfaStateError, MFA_STATE_FILE, type FileMfaStateOptions } from "./runtime/mfa/file-state-store.js";
/** The security events verify and enroll emit (ECS-style JSON objects). */
export { type MfaEvent, type MfaFailureReason, type SecurityEventSink } from "./runtime/mfa/events.js";
/** The enrolment display: the otpauth:// URI and its QR code for a terminal. */
export { otpauthUri, terminalQr } from "./runtime/mfa/otpauth.js";
