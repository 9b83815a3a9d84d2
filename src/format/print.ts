/**
 * Printing a policy AST as text in the canonical layout (docs/fmt.md),
 * without the parser: for trees built by programs (`swarm-policy import`)
 * as well as for `format`.
 */
import type { PolicyFile } from "../parser/ast.js";
import { printFile } from "./items.js";
import { render } from "./render.js";

/** Lines are kept within this many columns where the layout allows. */
export const FORMAT_WIDTH = 100;

/**
 * Print a policy AST in the canonical layout. `source` is the text it was
 * parsed from (for comments and the author's blank lines); a tree built by a
 * program can leave it out.
 */
export function printPolicy(file: PolicyFile, source = ""): string {
  return render(printFile(file, source), FORMAT_WIDTH, true);
}
