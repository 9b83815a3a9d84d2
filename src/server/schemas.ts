/**
 * JSON Schemas of the request bodies and query strings, compiled once by
 * fastify's ajv when the routes are registered (no type coercion, nothing
 * silently removed: a wrong field is a 400). Inputs themselves are then
 * validated by the engine against the policies' declared schemas; these
 * check the envelope: an object, a known `kind`, list sizes.
 */

export const KINDS = ["access", "encryption", "mesh"] as const;

const input = {
  type: "object",
  properties: { kind: { enum: KINDS } },
} as const;

export const evaluateBody = input;

export const explainQuery = {
  type: "object",
  properties: { explain: { enum: ["true", "false", "1", "0"] } },
  additionalProperties: false,
} as const;

export function batchBody(maxItems: number) {
  return {
    type: "object",
    required: ["inputs"],
    properties: {
      inputs: { type: "array", maxItems, items: input },
      explain: { type: "boolean" },
    },
    additionalProperties: false,
  } as const;
}

/** One event object, or an array of them (NDJSON is parsed into an array first; see events.ts). */
export function eventsBody(maxItems: number) {
  return {
    anyOf: [{ type: "object" }, { type: "array", maxItems }],
  } as const;
}

export const alertsQuery = {
  type: "object",
  properties: {
    rule: { type: "string", minLength: 1, maxLength: 200 },
    severity: { enum: ["low", "medium", "high", "critical"] },
    since: { type: "string", format: "date-time" },
    after: { type: "string", pattern: "^[0-9]{1,15}$" },
    limit: { type: "string", pattern: "^[0-9]{1,6}$" },
  },
  additionalProperties: false,
} as const;

export const mfaBody = {
  type: "object",
  required: ["user", "code"],
  properties: {
    user: { type: "string", minLength: 1, maxLength: 256 },
    code: { type: "string", minLength: 1, maxLength: 16 },
  },
  additionalProperties: false,
} as const;
