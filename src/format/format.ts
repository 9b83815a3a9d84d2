/**
 * `swarm-policy fmt`: one canonical layout for policy text (docs/fmt.md).
 *
 * The formatter prints the parsed AST, never the tokens, so spacing,
 * indentation and line breaks come out the same whatever the input looked
 * like; comments are carried along in source order. Text with syntax errors
 * is returned unchanged with the parser's diagnostics.
 */
import type { PolicyFile } from "../parser/ast.js";
import { parse } from "../parser/parse.js";
import { hasErrors, type Diagnostic } from "../diagnostics/diagnostic.js";
import { printFile } from "./items.js";
import { render } from "./render.js";

/** Lines are kept within this many columns where the layout allows. */
export const FORMAT_WIDTH = 100;

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

/** Format one policy file's text. Never throws. */
export function format(text: string, file: string): FormatResult {
  try {
    const normalized = normalizeNewlines(text);
    const parsed = parse(normalized, file);
    if (hasErrors(parsed.diagnostics)) {
      // Report positions in the text as given, not in its normalised copy.
      const original = normalized === text ? parsed : parse(text, file);
      return { output: text, changed: false, diagnostics: original.diagnostics };
    }
    const output = render(printFile(parsed.ast, normalized), FORMAT_WIDTH);
    return { output, changed: output !== text, diagnostics: parsed.diagnostics };
  } catch (err) {
    return { output: text, changed: false, diagnostics: [], internalError: String(err) };
  }
}

/**
 * Print a policy AST in the canonical layout. `source` is the text it was
 * parsed from (for comments and the author's blank lines); a tree built by a
 * program can leave it out.
 */
export function printPolicy(file: PolicyFile, source = ""): string {
  return render(printFile(file, source), FORMAT_WIDTH);
}

function normalizeNewlines(text: string): string {
  return text.includes("\r") ? text.replace(/\r\n?/g, "\n") : text;
}
