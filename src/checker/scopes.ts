/**
 * Which names and functions exist where (spec/LANGUAGE.md sections 3-8).
 *
 * Every expression sits in a block kind; the kind decides which input roots
 * are bound there. Inside `detect`, a bare name that is not a const (nor
 * `now`) is the first segment of an event field path, so nothing is unknown
 * there. Const bodies and other constant positions (test inputs, step counts,
 * thresholds) read no input at all.
 */
import type { ValueType } from "./values.js";

export type BlockKind = "access" | "encryption" | "mesh" | "detect" | "expect" | "constant";

/** Roots bound by the evaluator, per block kind. */
export const BLOCK_ROOTS: Record<BlockKind, readonly string[]> = {
  access: ["principal", "action", "resource", "context", "now"],
  encryption: ["data", "now"],
  mesh: ["node", "now"],
  detect: ["now"],
  expect: ["result"],
  constant: [],
};

/** Every name some block binds to its input (spec section 1). */
export const INPUT_ROOTS: ReadonlySet<string> = new Set([
  "principal",
  "action",
  "resource",
  "context",
  "data",
  "node",
  "event",
  "now",
  "result",
]);

/** Which block binds a root, for "`principal` is only available in access rules". */
export function whereRootIsBound(name: string): string | undefined {
  switch (name) {
    case "principal":
    case "action":
    case "resource":
    case "context":
      return "access rules";
    case "data":
      return "encryption rules";
    case "node":
      return "mesh blocks";
    case "event":
      return "detect rules";
    case "result":
      return "test expectations";
    case "now":
      return "rules";
    default:
      return undefined;
  }
}

export interface Builtin {
  /** Accepted types of each parameter. */
  params: readonly (readonly ValueType[])[];
  returns: ValueType;
  /** Reads input, the clock or a runtime store: not allowed in constants. */
  readsInput?: string;
}

/** The builtin functions (spec section 3). */
export const BUILTINS: Readonly<Record<string, Builtin>> = {
  ip: { params: [["string"]], returns: "ip" },
  age: { params: [["time", "number", "string"]], returns: "duration", readsInput: "`age()` reads the clock (`now`)" },
  size: { params: [["list", "string", "object"]], returns: "number" },
  lower: { params: [["string"]], returns: "string" },
  upper: { params: [["string"]], returns: "string" },
  type: { params: [["string", "number", "bool", "duration", "ip", "list", "object", "time"]], returns: "string" },
  hour: { params: [["time", "string", "number"]], returns: "number" },
  weekday: { params: [["time", "string", "number"]], returns: "string" },
  risk: { params: [["string"]], returns: "number", readsInput: "`risk()` reads the runtime risk store" },
  quarantined: { params: [["string"]], returns: "bool", readsInput: "`quarantined()` reads the runtime quarantine store" },
};

export function isBuiltin(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(BUILTINS, name);
}

/** Human name of a block kind for messages ("access rules"). */
export function blockLabel(kind: BlockKind): string {
  switch (kind) {
    case "access":
      return "access rules";
    case "encryption":
      return "encryption rules";
    case "mesh":
      return "mesh blocks";
    case "detect":
      return "detect rules";
    case "expect":
      return "test expectations";
    case "constant":
      return "constants";
  }
}
