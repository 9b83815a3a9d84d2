import { escapeUnsafe } from "../index.js";

/**
 * A message line with control characters as \u escapes: messages name files
 * found in directory scans (a checked-out repository may hold any name) and
 * rules from imported files (a Sigma title may hold ESC), and must not reach
 * the terminal as escape sequences; nor bidirectional controls, which would
 * reorder the line where a CI log is viewed (Trojan Source), as diagnostics
 * escape them.
 */
export const printable: (line: string) => string = escapeUnsafe;
