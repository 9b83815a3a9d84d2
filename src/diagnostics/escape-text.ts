/**
 * Text from policies, inventories, events, key files and imported rules,
 * made safe to print on a terminal or in a CI log: the characters that act
 * instead of showing are written as `\u001b` escapes.
 *
 * - C0 and C1 control characters and DEL: escape sequences move the cursor,
 *   rewrite earlier lines, retitle the terminal; a line break forges lines.
 * - U+2028 and U+2029: line breaks to some viewers.
 * - Bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E,
 *   U+2066-U+2069): raw, they reorder the rest of the line wherever it is
 *   shown (Trojan Source, CVE-2021-42574), so an id or a reason could show
 *   other text than it holds, and the columns of a table no longer line up.
 *
 * One set for every printer, so none escapes ESC and lets U+202E through.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `s` with control, line-separating and bidirectional characters as `\u001b` escapes. */
export function escapeUnsafe(s: string): string {
  return s.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
