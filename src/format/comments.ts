/**
 * The comments of a file, handed out in source order as the printer walks
 * the AST. Every comment is taken exactly once and in order, whatever the
 * printer does, so formatting can move a comment to a canonical place but
 * never drop or reorder one.
 *
 * A comment is *trailing* when code precedes it on its source line (it is
 * printed at the end of the output line of the token before it) and
 * *own-line* otherwise (it is printed alone on a line).
 */
import type { Comment } from "../parser/ast.js";
import {
  breakParent,
  hardline,
  lineSuffix,
  ownLine,
  type Doc,
} from "./doc.js";

interface Pending {
  text: string;
  start: number;
  end: number;
  trailing: boolean;
}

const BREAK: Doc[] = [hardline];
const BLANK: Doc[] = [hardline, hardline];

/** How the first gap of a run of lines is spaced. */
export type GapPolicy = "none" | "keep" | "force";

export class CommentQueue {
  private readonly list: Pending[];
  private next = 0;
  /** End offset of the last thing printed (a node or a comment). */
  private cursor = 0;
  /**
   * Counts the comments handed out inside expressions, all of which break
   * the groups around them: a group built while it grew must break.
   */
  breaks = 0;

  constructor(
    comments: readonly Comment[],
    private readonly source: string,
  ) {
    this.list = [...comments]
      .sort((a, b) => a.span.start - b.span.start)
      .map((c) => ({
        text: c.text.replace(/[ \t\r\f\v]+$/, ""),
        start: c.span.start,
        end: c.span.end,
        trailing: codeBefore(source, c.span.start),
      }));
  }

  /** Whether a comment not yet printed starts before `pos`. */
  hasBefore(pos: number): boolean {
    const c = this.list[this.next];
    return c !== undefined && c.start < pos;
  }

  /** Record that source up to `pos` has been printed. */
  advance(pos: number): void {
    if (pos > this.cursor) this.cursor = pos;
  }

  /** Whether the author left a blank line between the cursor and `pos`. */
  blankBefore(pos: number): boolean {
    const end = Math.min(pos, this.source.length);
    let newlines = 0;
    for (let i = this.cursor; i < end; i++) {
      const c = this.source.charCodeAt(i);
      if (c === 10) {
        if (++newlines === 2) return true;
      } else if (c !== 32 && c !== 9 && c !== 13 && c !== 12 && c !== 11) newlines = 0;
    }
    return false;
  }

  private take(): Pending {
    const c = this.list[this.next++]!;
    this.advance(c.end);
    return c;
  }

  /**
   * Inside an expression, at a place with no line break: every comment before
   * `pos`, each ending its line: a first trailing one stays at the end of the
   * line of the token before it, the others get lines of their own, and the
   * expression goes on under them. `broken` says whether a line was ended,
   * so that the caller can indent what follows.
   */
  inline(pos: number): { docs: Doc[]; broken: boolean } {
    const docs: Doc[] = [];
    while (this.hasBefore(pos)) {
      const c = this.take();
      if (c.trailing && docs.length === 0) docs.push(lineSuffix(c.text), hardline);
      else docs.push(ownLine(c.text));
      this.breaks++;
    }
    return { docs, broken: docs.length > 0 };
  }

  /**
   * Inside an expression, just before a possible line break: a trailing
   * comment before `pos`. It stays on the line that is ending, and that line
   * must end here, so the enclosing groups break.
   */
  beforeBreak(pos: number): Doc[] {
    if (!this.hasBefore(pos) || !this.list[this.next]!.trailing) return [];
    this.breaks++;
    return [lineSuffix(this.take().text), breakParent];
  }

  /** Inside an expression, just after a line break: the comments before `pos`, each on its line. */
  afterBreak(pos: number): Doc[] {
    const docs: Doc[] = [];
    while (this.hasBefore(pos)) {
      docs.push(ownLine(this.take().text));
      this.breaks++;
    }
    return docs;
  }

  /**
   * Between statements (items, clauses, steps) up to the one starting at
   * `pos`: a trailing comment ends the previous line, the others get lines
   * of their own. Blank lines: the first gap follows `policy`, the
   * others keep the author's (at most one). With `element`, the separator
   * ends with the line break before the statement at `pos`.
   */
  between(pos: number, policy: GapPolicy, opts: { atStart?: boolean; element?: boolean } = {}): Doc[] {
    if (!this.hasBefore(pos) && !opts.atStart && opts.element !== false) {
      // The common case, without comments: one line break, or a blank line.
      return policy === "force" || (policy === "keep" && this.blankBefore(pos)) ? BLANK : BREAK;
    }
    const docs: Doc[] = [];
    // One trailing comment ends the previous line; any more sit on lines of their own.
    if (this.hasBefore(pos) && this.list[this.next]!.trailing && !opts.atStart) {
      docs.push(lineSuffix(this.take().text));
    }
    let firstGap = true;
    const gap = (at: number): void => {
      let blank: boolean;
      if (firstGap) blank = policy === "force" || (policy === "keep" && this.blankBefore(at));
      else blank = this.blankBefore(at);
      if (!(firstGap && opts.atStart)) docs.push(hardline);
      if (blank && !(firstGap && opts.atStart)) docs.push(hardline);
      firstGap = false;
    };
    while (this.hasBefore(pos)) {
      const c = this.list[this.next]!;
      gap(c.start);
      docs.push(this.take().text);
    }
    if (opts.element !== false) gap(pos);
    return docs;
  }
}

/** Whether anything but blanks precedes `offset` on its line. */
function codeBefore(source: string, offset: number): boolean {
  for (let i = offset - 1; i >= 0; i--) {
    const c = source.charCodeAt(i);
    if (c === 10 || c === 13) return false;
    if (c !== 32 && c !== 9 && c !== 12 && c !== 11) return true;
  }
  return false;
}
