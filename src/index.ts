/**
 * swarm-policy: the public library API. This file only re-exports.
 */
export type * from "./parser/ast.js";
export { SourceText, type Span } from "./parser/span.js";
export { CODES, type Code, type CodeInfo } from "./diagnostics/codes.js";
export type { Diagnostic } from "./diagnostics/diagnostic.js";
