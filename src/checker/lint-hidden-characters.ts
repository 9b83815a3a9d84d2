/**
 * Lint SP3012: characters written raw in a string or a comment that do not
 * show as themselves. The lexer finds them (PolicyFile.hidden); this pass
 * turns them into warnings, so `# lint:ignore SP3012` works as for any lint.
 *
 * A policy is reviewed as text. Raw, `"root\u200b"` reads as `"root"` (a deny
 * rule on it silently never matches root), and a bidi override in a string
 * or comment reorders what the reviewer sees of the line (Trojan Source,
 * CVE-2021-42574). An escape says what is there; `fmt` writes strings so.
 */
import { diagnostic } from "../diagnostics/diagnostic.js";
import { printable } from "../parser/lexer.js";
import { report, type CheckContext } from "./context.js";

const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const LINE_SEPARATOR = /[\u2028\u2029\u000b\u000c\u0085]/;

function why(c: string): string {
  if (BIDI.test(c)) return "a bidirectional control reorders how the rest of the line is shown";
  if (LINE_SEPARATOR.test(c)) return "an editor may show it as a line break";
  return "it does not show, so the text reads as something it is not";
}

export function lintHiddenCharacters(ctx: CheckContext): void {
  for (const file of ctx.files) {
    const hidden = Array.isArray(file.hidden) ? file.hidden : [];
    for (const h of hidden) {
      const char = printable(h.char);
      const hint = h.place === "string" ? `write it as the escape \`${char}\` (\`swarm-policy fmt\` does), or remove it` : "remove it";
      report(ctx, diagnostic("SP3012", h.span, { place: h.place === "string" ? "string" : "comment", char, why: why(h.char) }, { hint }));
    }
  }
}
