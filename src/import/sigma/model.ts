/**
 * What the Sigma importer's parts share: the source documents as loaded, and
 * the one error a rule's conversion raises when some part of it has no
 * faithful translation (caught per rule and reported, never dropped).
 */

/** One YAML document of an input file. */
export interface SigmaDoc {
  /** The file as the caller names it (shown in comments and problems). */
  file: string;
  /** 0-based position of the document in its file (multi-document YAML). */
  index: number;
  /** The parsed document: a plain object. */
  body: Record<string, unknown>;
}

/** A rule (or one part of it) that cannot be converted; the message is the reason. */
export class Unconvertible extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Unconvertible";
  }
}

export function fail(why: string): never {
  throw new Unconvertible(why);
}

export function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** A string field of a document, or undefined. */
export function text(doc: Record<string, unknown>, key: string): string | undefined {
  const v = doc[key];
  return typeof v === "string" && v.trim() !== "" ? v : undefined;
}

/** How a document is named in problems and comments: its title, else file#n. */
export function docLabel(doc: SigmaDoc): string {
  return text(doc.body, "title") ?? `${doc.file}#${doc.index + 1}`;
}
