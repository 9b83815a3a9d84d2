/**
 * Comparing trees across formatting: what must survive (the AST without
 * positions, the comments) and what the output must look like.
 */
import type { PolicyFile } from "../../src/parser/ast.js";

/**
 * A deep copy of `node` without spans, the spelling of keys (`quoted`) or the
 * characters written raw that do not show (`hidden`: the formatter writes
 * those in strings as escapes), which formatting may change; everything
 * else must survive formatting.
 */
export function stripSpans(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripSpans);
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "span" || key.endsWith("Span") || key === "quoted" || key === "comments" || key === "hidden") continue;
    out[key] = stripSpans(value);
  }
  return out;
}

/** The comments' texts in order, without trailing blanks (they are not kept). */
export function commentTexts(file: PolicyFile): string[] {
  return file.comments.map((c) => c.text.replace(/[ \t]+$/, ""));
}

/** Ways in which `text` breaks the whitespace rules of docs/fmt.md. */
export function layoutProblems(text: string): string[] {
  const problems: string[] = [];
  if (text === "") return problems;
  if (text.includes("\r")) problems.push("carriage return");
  if (!text.endsWith("\n") || text.endsWith("\n\n")) problems.push("not exactly one trailing newline");
  const lines = text.slice(0, -1).split("\n");
  lines.forEach((l, i) => {
    if (/[ \t]$/.test(l)) problems.push(`line ${i + 1}: trailing blank`);
    if (/^ *\t/.test(l)) problems.push(`line ${i + 1}: tab in indentation`);
    if (/^( {2})* (?! )/.test(l)) problems.push(`line ${i + 1}: odd indentation`);
    if (l === "" && i > 0 && lines[i - 1] === "") problems.push(`line ${i + 1}: two blank lines`);
    if (i === 0 && l === "") problems.push("leading blank line");
  });
  return problems;
}
