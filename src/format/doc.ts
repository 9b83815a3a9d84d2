/**
 * A small document algebra for the formatter, in the Wadler/Prettier
 * tradition: the printer builds a Doc from the AST, and `render` chooses,
 * group by group, between the flat layout and the broken one so that lines
 * stay within the width.
 *
 * Two extras carry comments: `lineSuffix` (a trailing comment, written at the
 * end of the output line it lands on) and `ownLine` (a comment that must sit
 * on a line of its own in the middle of an expression). Both force every
 * enclosing group to break, so a comment never swallows the code after it.
 */

export type Doc = string | Doc[] | Group | Indent | Line | LineSuffix | OwnLine | BreakParent;

export interface Group {
  t: "group";
  contents: Doc;
  /** Set by `propagateBreaks` (or by hand) when the group must break. */
  broken: boolean;
}
export interface Indent {
  t: "indent";
  contents: Doc;
}
/**
 * A possible line break. Flat: `flat` text (" " or ""). Broken: a newline
 * and the current indentation. `hard` lines always break.
 */
export interface Line {
  t: "line";
  flat: string;
  hard: boolean;
}
/** Text appended at the end of the current output line (a trailing comment). */
export interface LineSuffix {
  t: "lineSuffix";
  text: string;
}
/** A comment alone on its line: a newline first unless the line is still empty. */
export interface OwnLine {
  t: "ownLine";
  text: string;
}
/** Forces the enclosing groups to break. */
export interface BreakParent {
  t: "breakParent";
}

export const line: Line = { t: "line", flat: " ", hard: false };
export const softline: Line = { t: "line", flat: "", hard: false };
export const hardline: Line = { t: "line", flat: "", hard: true };
export const breakParent: BreakParent = { t: "breakParent" };

export function group(contents: Doc, broken = false): Group {
  return { t: "group", contents, broken };
}

export function indent(contents: Doc): Indent {
  return { t: "indent", contents };
}

export function lineSuffix(text: string): LineSuffix {
  return { t: "lineSuffix", text };
}

export function ownLine(text: string): OwnLine {
  return { t: "ownLine", text };
}

/** `parts` separated by `sep`. */
export function join(sep: Doc, parts: readonly Doc[]): Doc[] {
  const out: Doc[] = [];
  parts.forEach((p, i) => {
    if (i > 0) out.push(sep);
    out.push(p);
  });
  return out;
}

/**
 * Mark every group that contains a hard line, an own-line comment or a
 * breakParent (at any depth) as broken. Returns whether `doc` contains one.
 */
export function propagateBreaks(doc: Doc): boolean {
  if (typeof doc === "string") return false;
  if (Array.isArray(doc)) {
    let any = false;
    for (const d of doc) if (propagateBreaks(d)) any = true;
    return any;
  }
  switch (doc.t) {
    case "group": {
      const inner = propagateBreaks(doc.contents);
      if (inner) doc.broken = true;
      return doc.broken;
    }
    case "indent":
      return propagateBreaks(doc.contents);
    case "line":
      return doc.hard;
    case "ownLine":
    case "breakParent":
      return true;
    case "lineSuffix":
      return false;
  }
}
