/**
 * A path from an input root (`event.source.ip`) as a generated function: the
 * hot read of the correlation engine, which runs a handful of paths on every
 * event of a stream.
 *
 * Why generate: the closure compiler's path loop is one function body for
 * every path, so `o[step.prop]` is a megamorphic keyed load at every step.
 * A function per path has constant property names that V8 caches per site
 * (codegen.ts does the same for whole access rules).
 *
 * Semantics are the closure's, step for step: the same checks in the same
 * order, the same shared errors. Safety: only the root and property names
 * become code, through JSON.stringify; the errors are passed in. Functions
 * are made per path text, so readers of one path share V8's feedback.
 */
import { EvalError, Special, isInheritedName, type Result } from "./values.js";
import type { EvalContext } from "./context.js";

/** One step of a path: its property and the errors its site raises. */
export interface PathStep {
  prop: string;
  safe: boolean;
  missing: EvalError;
  typeError: (v: unknown) => EvalError;
}

type Factory = (rootMissing: EvalError, steps: readonly PathStep[], Sp: typeof Special, own: (o: object, k: string) => unknown) => (c: EvalContext) => Result;

const hasOwn = Object.prototype.hasOwnProperty;
const own = (o: object, k: string): unknown => (hasOwn.call(o, k) ? (o as Record<string, unknown>)[k] : undefined);
const factories = new Map<string, Factory | null>();
/** Beyond this many distinct paths, new ones are generated without being kept (reloads cannot grow the table). */
const MAX_FACTORIES = 10_000;

function source(root: string, props: readonly string[]): string {
  const rootRead = isInheritedName(root) ? `own(c.input, ${JSON.stringify(root)})` : `c.input[${JSON.stringify(root)}]`;
  const lines = ['"use strict";', "return function readPath(c) {", `  let o = ${rootRead};`, "  if (o === undefined) return rootMissing;"];
  props.forEach((prop, i) => {
    const key = JSON.stringify(prop);
    lines.push(
      `  if (typeof o !== "object") return steps[${i}].typeError(o);`,
      `  if (o === null) return steps[${i}].missing;`,
      `  if (Array.isArray(o) || o instanceof Sp) return steps[${i}].typeError(o);`,
      `  o = ${isInheritedName(prop) ? `own(o, ${key})` : `o[${key}]`};`,
      `  if (o === undefined) return steps[${i}].missing;`,
    );
  });
  lines.push("  return o;", "};");
  return lines.join("\n");
}

/**
 * The reader of `root.props...` as a generated function, or null where code
 * cannot be generated (`--disallow-code-generation-from-strings`); the
 * caller then keeps its closure.
 */
export function generatedPathReader(root: string, steps: readonly PathStep[], rootMissing: EvalError): ((c: EvalContext) => Result) | null {
  const props = steps.map((s) => s.prop);
  const text = JSON.stringify([root, props]);
  let f = factories.get(text);
  if (f === undefined) {
    try {
      f = new Function("rootMissing", "steps", "Sp", "own", source(root, props)) as Factory;
    } catch {
      f = null;
    }
    if (factories.size < MAX_FACTORIES) factories.set(text, f);
  }
  return f === null ? null : f(rootMissing, steps, Special, own);
}
