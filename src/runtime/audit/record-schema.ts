/**
 * The shape of one inventory record (docs/audit.md "Inventory records") and
 * its validator: JSON Schema 2020-12, compiled once by ajv.
 *
 * A record IS the `data` of an encryption query (spec/LANGUAGE.md section
 * 5): an `id`, the data's attributes (classification, type, tenant_id, ...)
 * and, under `encryption`, its actual state `{ cipher, key_created_at, tee,
 * aad }`. So an inventory line can be pasted into `swarm-policy eval` as
 * `{"kind":"encryption","data": <record>}` and answers the same.
 *
 * Choices where the issue is silent:
 * - `id` (a non-empty string) and `encryption` (an object) are required:
 *   without the actual state there is nothing to verify, and an audit that
 *   skipped such a record would look cleaner than the data is.
 * - `encryption.cipher` is required but may be null: null means stored in
 *   the clear, which every rule that applies reports. `tee`, `aad` and
 *   `key_created_at` may be left out; a rule that needs them then reports a
 *   violation (unknown is never compliant). `key_created_at` may be null
 *   (unknown) as well. The audit passes a null as an absent field, so a
 *   policy schema that types `cipher` as a string still sees an unencrypted
 *   record and its rules report it under their tags.
 * - Sizes are capped (id, cipher, AAD names and count) so that the details a
 *   report keeps of a record stay small.
 * - `encryption` admits no other fields: a misspelt `AAD` must not pass as
 *   "no AAD declared" silently.
 * - The attributes themselves are free here; a `schema encryption` the
 *   policies declare judges them when the record is evaluated.
 */
import { Ajv2020 } from "ajv/dist/2020.js";

/** RFC 3339 date-time (the same pattern the policies' encryption schema uses). */
const RFC3339_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$";

/** The inventory record schema (JSON Schema 2020-12); docs/audit.md prints it. */
export const AUDIT_RECORD_SCHEMA = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: "https://swarm.example/policy/schemas/audit-record.schema.json",
  title: "swarm-policy audit inventory record",
  description: "A data object's attributes (the `data` of an encryption query) and its actual encryption state.",
  type: "object",
  required: ["id", "encryption"],
  properties: {
    id: { type: "string", minLength: 1, maxLength: 1024 },
    encryption: {
      type: "object",
      additionalProperties: false,
      required: ["cipher"],
      properties: {
        cipher: { type: ["string", "null"], maxLength: 64 },
        key_created_at: {
          anyOf: [{ type: "string", pattern: RFC3339_PATTERN }, { type: "number", minimum: 0 }, { type: "null" }],
        },
        tee: { type: "boolean" },
        aad: { type: "array", maxItems: 256, items: { type: "string", maxLength: 256 } },
      },
    },
  },
} as const;

/** One schema failure: the JSON Pointer into the record (`""` for the record itself) and ajv's message. */
export interface RecordProblem {
  path: string;
  message: string;
}

/** At most this many problems are kept per record. */
export const MAX_PROBLEMS_PER_RECORD = 5;

const ajv = new Ajv2020({ allErrors: true, strict: true });
const validate = ajv.compile(AUDIT_RECORD_SCHEMA);

/** The record's problems against AUDIT_RECORD_SCHEMA; empty when it is valid. */
export function validateRecord(record: unknown): RecordProblem[] {
  if (validate(record)) return [];
  const problems: RecordProblem[] = [];
  for (const e of validate.errors ?? []) {
    // anyOf reports each branch; its own summary line says enough.
    if (problems.length >= MAX_PROBLEMS_PER_RECORD) break;
    let message = e.message ?? "is invalid";
    if (e.keyword === "additionalProperties") message += `: ${JSON.stringify((e.params as { additionalProperty?: string }).additionalProperty ?? "")}`;
    if (e.keyword === "anyOf") message = "must be an RFC 3339 time, epoch seconds or null";
    if (e.schemaPath.includes("/anyOf/")) continue;
    problems.push({ path: e.instancePath, message });
  }
  if (problems.length === 0) problems.push({ path: "", message: "is invalid" });
  return problems;
}
