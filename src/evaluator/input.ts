/**
 * Checking an input before any rule sees it (issue #3: bad input returns
 * deny/reject with a clear error, never throws).
 *
 * Choices where the spec is silent:
 * - The input is a JSON object. `kind` is "access" (the default when
 *   absent), "encryption" or "mesh"; anything else is an error.
 * - access: `principal` and `resource` must be objects and `action` must be
 *   present (any JSON value: a non-string action simply matches no string
 *   test); `context`, when present, must be an object.
 * - encryption: `data` must be an object.
 * - mesh: `node` must be an object with a string `id`, a `public_key` (its
 *   format is judged by admission, which rejects a malformed key with a
 *   reason) and `tags`, a list of strings.
 * - `time`, when present, is an RFC 3339 string or epoch seconds within
 *   the range of a JavaScript Date (time.ts MAX_TIME_MS).
 * - With a `schema` declared for the kind and validation on (the default),
 *   the input without its `kind` field is validated; every failure is
 *   listed (up to 10).
 */
import { epochSecondsMs, parseRfc3339 } from "./time.js";
import { EvalError, isObject, typeName, type ObjectValue } from "./values.js";
import { quotingError } from "./quoted-error.js";

export type InputKind = "access" | "encryption" | "mesh";

/** What validation tells the evaluator: the kind and time, or the problems. */
export interface CheckedInput {
  kind: InputKind;
  input: ObjectValue;
  /** Epoch ms of `time`, NaN when absent. */
  timeMs: number;
}

export interface InputProblem {
  /** The kind the input asked for, when it could be told. */
  kind: InputKind;
  messages: (string | EvalError)[];
}

/** An ajv-style validator: returns true or fills `errors`. */
export interface SchemaValidator {
  (data: unknown): boolean;
  errors?: { instancePath?: string; message?: string }[] | null;
}

const hasOwn = Object.prototype.hasOwnProperty;
function own(o: ObjectValue, k: string): unknown {
  return hasOwn.call(o, k) ? o[k] : undefined;
}

/**
 * The common case, cheaply: a well-formed access request with no `time`
 * and no schema to validate. Null when the full check must run.
 */
function fastAccess(raw: unknown): CheckedInput | null {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return null;
  const input = raw as ObjectValue;
  const k = input["kind"];
  if ((k !== undefined && k !== "access") || input["time"] !== undefined || input["action"] === undefined) return null;
  const p = input["principal"];
  const r = input["resource"];
  const c = input["context"];
  if (!isObject(p) || !isObject(r) || (c !== undefined && !isObject(c))) return null;
  // Inherited look-alikes (a prototype providing `principal`) take the full path.
  if (!hasOwn.call(input, "principal") || !hasOwn.call(input, "resource") || !hasOwn.call(input, "action")) return null;
  return { kind: "access", input, timeMs: NaN };
}

export function checkInput(raw: unknown, schemas?: ReadonlyMap<string, SchemaValidator> | null): CheckedInput | InputProblem {
  if (!schemas) {
    const fast = fastAccess(raw);
    if (fast !== null) return fast;
  }
  if (!isObject(raw)) return { kind: "access", messages: [`input must be an object, found ${typeName(raw)}`] };
  const input = raw;
  const k = own(input, "kind");
  let kind: InputKind = "access";
  if (k !== undefined) {
    if (k !== "access" && k !== "encryption" && k !== "mesh") {
      const kindMessage = (found: string) => `input \`kind\` must be "access", "encryption" or "mesh", found ${found}`;
      return { kind: "access", messages: [typeof k === "string" ? quotingError(kindMessage, JSON.stringify(k), null) : kindMessage(typeName(k))] };
    }
    kind = k;
  }
  const problems: (string | EvalError)[] = [];
  const needObject = (name: string, optional = false) => {
    const v = own(input, name);
    if (v === undefined) {
      if (!optional) problems.push(`input is missing \`${name}\``);
    } else if (!isObject(v)) problems.push(`input \`${name}\` must be an object, found ${typeName(v)}`);
    return v;
  };
  switch (kind) {
    case "access":
      needObject("principal");
      if (own(input, "action") === undefined) problems.push("input is missing `action`");
      needObject("resource");
      needObject("context", true);
      break;
    case "encryption":
      needObject("data");
      break;
    case "mesh": {
      const node = needObject("node");
      if (isObject(node)) {
        const id = own(node, "id");
        if (id === undefined) problems.push("input is missing `node.id`");
        else if (typeof id !== "string") problems.push(`input \`node.id\` must be a string, found ${typeName(id)}`);
        if (own(node, "public_key") === undefined) problems.push("input is missing `node.public_key`");
        const tags = own(node, "tags");
        if (tags === undefined) problems.push("input is missing `node.tags`");
        else if (!Array.isArray(tags) || !tags.every((t) => typeof t === "string")) problems.push("input `node.tags` must be a list of strings");
      }
      break;
    }
  }
  let timeMs = NaN;
  const time = own(input, "time");
  if (time !== undefined) {
    if (typeof time === "string") {
      timeMs = parseRfc3339(time);
      if (timeMs !== timeMs) problems.push(quotingError((found) => `input \`time\` is not an RFC 3339 time: ${found}`, JSON.stringify(time.slice(0, 60)), null));
    } else if (typeof time === "number" && Number.isFinite(time)) {
      timeMs = epochSecondsMs(time);
      if (timeMs !== timeMs) problems.push(quotingError((found) => `input \`time\` is out of range: ${found} epoch seconds`, String(time), null));
    } else {
      problems.push(`input \`time\` must be an RFC 3339 string or epoch seconds, found ${typeName(time)}`);
    }
  }
  if (problems.length === 0 && schemas) {
    const validate = schemas.get(kind);
    if (validate !== undefined) {
      let subject: unknown = input;
      if (k !== undefined) {
        const { kind: _omit, ...rest } = input;
        subject = rest;
      }
      const verdict: unknown = validate(subject);
      // Only `true` passes: an $async validator answers with a promise (truthy,
      // and rejected when the input is bad), which must neither pass nor be left unhandled.
      if (verdict !== true) {
        if (typeof (verdict as PromiseLike<unknown> | null)?.then === "function") {
          (verdict as PromiseLike<unknown>).then(undefined, () => {});
        } else {
          for (const e of (validate.errors ?? []).slice(0, 10)) {
            problems.push(`input does not match the ${kind} schema: ${e.instancePath || "/"} ${e.message ?? "is invalid"}`);
          }
        }
        if (problems.length === 0) problems.push(`input does not match the ${kind} schema`);
      }
    }
  }
  return problems.length > 0 ? { kind, messages: problems } : { kind, input, timeMs };
}
