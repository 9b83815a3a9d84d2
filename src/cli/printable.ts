/**
 * A message line with control characters as \u escapes: messages name files
 * found in directory scans (a checked-out repository may hold any name) and
 * rules from imported files (a Sigma title may hold ESC), and must not reach
 * the terminal as escape sequences; nor bidirectional controls, which would
 * reorder the line where a CI log is viewed (Trojan Source), as diagnostics
 * escape them.
 */
export function printable(line: string): string {
  return line.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
