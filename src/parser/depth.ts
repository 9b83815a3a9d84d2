/**
 * A cap on how deep an item's AST may be.
 *
 * The lexer cuts brackets nested deeper than its cap (the parser recurses
 * on them), but long operator chains (`a + b + c ...` is left-nested) and runs
 * of `not` also make deep trees, and every later stage (checker, evaluator,
 * formatter) walks trees recursively. An item deeper than MAX_AST_DEPTH is
 * dropped with SP1013, so no stage after the parser can overflow its stack.
 * The walk here is iterative for the same reason.
 */
import type { Item } from "./ast.js";
import type { Span } from "./span.js";
import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.js";

export const MAX_AST_DEPTH = 1000;

/** The first node deeper than `max` in `root`, or null. */
function tooDeep(root: object, max: number): { span: Span } | null {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value !== "object") continue;
    if (Array.isArray(value)) {
      for (const v of value) stack.push([v, depth]);
      continue;
    }
    const node = value as Record<string, unknown>;
    if (typeof node["kind"] !== "string") {
      // A step count `{ op, value, span }`: walk into its value only.
      if ("value" in node) stack.push([node["value"], depth]);
      continue;
    }
    if (depth > max) return node as { span: Span };
    for (const key in node) {
      if (key === "span" || key.endsWith("Span")) continue;
      const child = node[key];
      if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
    }
  }
  return null;
}

/**
 * Items within the depth cap; SP1013 for each one dropped. Only `big` items
 * are walked: every level of a tree takes at least one token, so an item of
 * fewer tokens than the cap cannot pass it.
 */
export function checkDepth(items: Item[], big: ReadonlySet<unknown>, diagnostics: Diagnostic[]): Item[] {
  if (big.size === 0) return items;
  const kept: Item[] = [];
  for (const item of items) {
    const deep = big.has(item) ? tooDeep(item, MAX_AST_DEPTH) : null;
    if (deep === null) kept.push(item);
    else {
      diagnostics.push(
        diagnostic("SP1013", deep.span, { max: MAX_AST_DEPTH }, {
          hint: "split the expression, or name parts of it with `const`",
        }),
      );
    }
  }
  return kept;
}

