/**
 * What an importer hands back: the `.policy` text of everything it could
 * convert, and one problem per source rule it could not (never dropped
 * silently: the CLI prints each as `rule NAME: cannot convert: WHY`).
 */
import { escapeUnsafe } from "../diagnostics/escape-text.js";

export interface ImportProblem {
  /** The source rule's name as the importer would have named it. */
  rule: string;
  /** Why it cannot be converted, one line, lowercase. */
  reason: string;
}

export interface ImportResult {
  /** Canonically formatted policy text (a header comment only, when nothing converted). */
  policy: string;
  /** How many source rules became policy rules. */
  converted: number;
  problems: ImportProblem[];
}

/**
 * A reason as one line: line breaks and other control characters (a Sigma
 * title, a json-rules-engine fact may hold any) and bidi controls as \u escapes, so that a
 * caller printing one problem per line prints no line the input wrote.
 */
export function oneLine(reason: string): string {
  return escapeUnsafe(reason);
}

/** The input as a whole is not what the importer reads (the CLI exits 2). */
export class ImportInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ImportInputError";
  }
}
