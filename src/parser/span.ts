/**
 * Source locations. Every AST node and every diagnostic carries a Span.
 *
 * Offsets are UTF-16 code-unit offsets into the source text (what JavaScript
 * strings and chevrotain use): `start` inclusive, `end` exclusive. Lines and
 * columns are 1-based; `endColumn` is the column just after the last
 * character, as SARIF's region.endColumn is.
 */
export interface Span {
  file: string;
  start: number;
  end: number;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

/** `text` without a leading byte-order mark (U+FEFF), which is not part of a policy's text. */
export function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** A span covering `a` through `b` (both in the same file). */
export function joinSpans(a: Span, b: Span): Span {
  const first = a.start <= b.start ? a : b;
  const last = a.end >= b.end ? a : b;
  return {
    file: a.file,
    start: first.start,
    end: last.end,
    line: first.line,
    column: first.column,
    endLine: last.endLine,
    endColumn: last.endColumn,
  };
}

/**
 * A source text with its line table, for turning offsets into line/column and
 * for rendering source frames under diagnostics. A leading byte-order mark is
 * not part of the text (`text` is without it): counted, it moved every
 * column of line 1 one to the right of where an editor shows it.
 */
export class SourceText {
  readonly file: string;
  readonly text: string;
  private readonly lineStarts: number[];

  constructor(file: string, text: string) {
    this.file = file;
    text = withoutBom(text);
    this.text = text;
    const starts = [0];
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) starts.push(i + 1);
      else if (c === 13 && text.charCodeAt(i + 1) !== 10) starts.push(i + 1);
    }
    this.lineStarts = starts;
  }

  get lineCount(): number {
    return this.lineStarts.length;
  }

  /** 1-based line and column of an offset (clamped into the text). */
  position(offset: number): { line: number; column: number } {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: o - this.lineStarts[lo]! + 1 };
  }

  /** A span for offsets [start, end). */
  span(start: number, end: number): Span {
    const s = this.position(start);
    const e = this.position(Math.max(start, end));
    return { file: this.file, start, end: Math.max(start, end), line: s.line, column: s.column, endLine: e.line, endColumn: e.column };
  }

  /** The text of a 1-based line, without its line terminator. */
  lineText(line: number): string {
    const start = this.lineStarts[line - 1];
    if (start === undefined) return "";
    const next = this.lineStarts[line];
    let end = next === undefined ? this.text.length : next;
    while (end > start && (this.text.charCodeAt(end - 1) === 10 || this.text.charCodeAt(end - 1) === 13)) end--;
    return this.text.slice(start, end);
  }
}
