/**
 * `swarm-policy fmt`: one canonical layout for policy text (docs/fmt.md).
 *
 * The formatter prints the parsed AST, never the tokens, so spacing,
 * indentation and line breaks come out the same whatever the input looked
 * like; comments are carried along in source order. Text with syntax errors
 * is returned unchanged with the parser's diagnostics.
 */
import { parse } from "../parser/parse.js";
import { hasErrors, type Diagnostic } from "../diagnostics/diagnostic.js";
import { printPolicy } from "./print.js";
import { withoutBom } from "../parser/span.js";

export { printPolicy, FORMAT_WIDTH } from "./print.js";

export interface FormatResult {
  /** The formatted text (the input itself when it has syntax errors). */
  output: string;
  /** Whether `output` differs from the input. */
  changed: boolean;
  /** The parser's diagnostics: syntax errors explain why nothing changed. */
  diagnostics: Diagnostic[];
  /** Set only if the formatter itself failed; the input is returned unchanged. */
  internalError?: string;
}

/**
 * Format one policy file's text. Never throws. A leading byte-order mark is
 * not part of the text: positions do not count it and the output has none.
 */
export function format(text: string, file: string): FormatResult {
  try {
    const body = withoutBom(text);
    const normalized = normalizeNewlines(body);
    const parsed = parse(normalized, file);
    if (hasErrors(parsed.diagnostics)) {
      // Report positions in the text as given, not in its normalised copy.
      const original = normalized === body ? parsed : parse(body, file);
      return { output: text, changed: false, diagnostics: original.diagnostics };
    }
    const output = printPolicy(parsed.ast, normalized);
    return { output, changed: output !== text, diagnostics: parsed.diagnostics };
  } catch (err) {
    return { output: text, changed: false, diagnostics: [], internalError: String(err) };
  }
}

/**
 * CRLF and lone CR become LF. Safe: to the lexer CR is a line break, comments
 * stop at it and strings cannot hold it.
 */
function normalizeNewlines(text: string): string {
  return text.includes("\r") ? text.replace(/\r\n?/g, "\n") : text;
}
