/**
 * `# lint:ignore SP3xxx[, SP3yyy ...] [-- reason]` directives.
 *
 * A directive on line L silences the named lint codes for the item (rule,
 * const, test) that starts on line L+1, anywhere inside it, and for any
 * warning that points at line L+1. Comment lines in between are skipped,
 * whatever their indentation, so directives stack and may be followed by a
 * comment saying why (indentation does not count: `fmt` re-indents comments,
 * and a directive must reach the same item before and after formatting). A directive after code on its own line
 * (`const a = 1 # lint:ignore SP3003`) reaches nothing: read as "the line
 * below", it would silence the next item instead of the one it sits on. A
 * directive code that silences nothing, or that is not a lint code, is
 * itself a warning (SP3008), so stale suppressions do not pile up.
 */
import type { Comment, PolicyFile } from "../parser/ast.js";
import type { Span } from "../parser/span.js";
import { CODES } from "../diagnostics/codes.js";
import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.js";
import { didYouMean } from "../diagnostics/suggest.js";
import { isNode } from "./sites.js";

/** Codes a directive may name: the lint warnings, except SP3008 itself. */
const IGNORABLE = Object.keys(CODES).filter((c) => c.startsWith("SP3") && c !== "SP3008");

interface DirectiveCode {
  code: string;
  span: Span;
  used: boolean;
}

interface Directive {
  file: string;
  /** The line the directive applies to (the one below it). */
  target: number;
  /** The item starting on the target line, if any: [start, end) offsets. */
  item?: { start: number; end: number };
  codes: DirectiveCode[];
  span: Span;
  /** Written after code on its line: it silences nothing. */
  trailing: boolean;
}

// Followed by a space or the end: `lint:ignore-free` or `lint:ignored` starts an ordinary comment.
const DIRECTIVE = /^(\s*#?\s*)lint:ignore(?=\s|$)/;

function parseDirective(
  file: PolicyFile,
  c: Comment,
  itemsByLine: Map<number, { start: number; end: number }>,
  commentColumns: Map<number, number>,
): Directive | undefined {
  if (!c || typeof c.text !== "string" || !c.span) return undefined;
  const m = DIRECTIVE.exec(c.text);
  if (!m) return undefined;
  const span = c.span;
  // The comment text may or may not include the leading `#`; it always ends where the span ends.
  const base = c.text.length <= span.end - span.start ? span.end - c.text.length : span.start;
  const codes: DirectiveCode[] = [];
  const rest = c.text.slice(m[0].length);
  const re = /[^\s,]+/g;
  for (let t = re.exec(rest); t; t = re.exec(rest)) {
    if (t[0] === "--" || t[0].startsWith("#")) break; // the rest is a reason
    const offset = m[0].length + t.index;
    const start = base + offset;
    const colStart = span.column + (start - span.start);
    codes.push({
      code: t[0],
      used: false,
      span: { file: span.file, start, end: start + t[0].length, line: span.line, column: colStart, endLine: span.line, endColumn: colStart + t[0].length },
    });
  }
  // The line below, skipping comment lines (stacked directives, or a comment explaining why).
  let target = span.line + 1;
  while (commentColumns.has(target)) target++;
  const trailing = c.trailing === true;
  // A trailing directive gets a target no warning has (line 0).
  const d: Directive = { file: String(file.file), target: trailing ? 0 : target, codes, span, trailing };
  const item = trailing ? undefined : itemsByLine.get(target);
  if (item) d.item = item;
  return d;
}

function directivesOf(file: PolicyFile): Directive[] {
  const comments = Array.isArray(file?.comments) ? file.comments : [];
  if (!comments.some((c) => c && typeof c.text === "string" && c.text.includes("lint:ignore"))) return [];
  const itemsByLine = new Map<number, { start: number; end: number }>();
  for (const item of Array.isArray(file.items) ? file.items : []) {
    if (isNode(item) && item.span && !itemsByLine.has(item.span.line)) itemsByLine.set(item.span.line, { start: item.span.start, end: item.span.end });
  }
  const commentColumns = new Map<number, number>();
  for (const c of comments) {
    // Only comments alone on their line are skipped over: a trailing one sits on a line of code.
    if (c?.span && typeof c.span.line === "number" && c.trailing !== true && !commentColumns.has(c.span.line)) commentColumns.set(c.span.line, c.span.column);
  }
  const out: Directive[] = [];
  for (const c of comments) {
    const d = parseDirective(file, c, itemsByLine, commentColumns);
    if (d) out.push(d);
  }
  return out;
}

/**
 * Drop the warnings that directives silence; return the rest plus an SP3008
 * for every directive code that silenced nothing.
 */
export function applyLintIgnores(files: readonly PolicyFile[], warnings: Diagnostic[]): Diagnostic[] {
  const byFile = new Map<string, Directive[]>();
  for (const f of files) {
    const ds = directivesOf(f);
    if (ds.length > 0) byFile.set(String(f.file), [...(byFile.get(String(f.file)) ?? []), ...ds]);
  }
  if (byFile.size === 0) return warnings;
  const kept: Diagnostic[] = [];
  for (const w of warnings) {
    const ds = byFile.get(w.span.file);
    let silenced = false;
    if (ds && w.code !== "SP3008") {
      for (const d of ds) {
        const applies = w.span.line === d.target || (d.item !== undefined && w.span.start >= d.item.start && w.span.start < d.item.end);
        if (!applies) continue;
        for (const c of d.codes) {
          if (c.code === w.code) {
            c.used = true;
            silenced = true;
          }
        }
      }
    }
    if (!silenced) kept.push(w);
  }
  for (const ds of byFile.values()) {
    for (const d of ds) {
      if (d.codes.length === 0) {
        kept.push(diagnostic("SP3008", d.span, { code: "" }, { hint: "name the lint codes to silence, e.g. `# lint:ignore SP3001`" }));
      }
      for (const c of d.codes) {
        if (c.used) continue;
        let hint: string;
        if (d.trailing) {
          hint = "a `lint:ignore` directive silences the line below it; move it onto a line of its own above the code";
        } else if (c.code === "SP3008") {
          hint = "SP3008 reports directives themselves and cannot be silenced";
        } else if (Object.prototype.hasOwnProperty.call(CODES, c.code) && !IGNORABLE.includes(c.code)) {
          hint = `\`${c.code}\` is an error, not a lint warning; errors cannot be silenced`;
        } else if (!IGNORABLE.includes(c.code)) {
          hint = didYouMean(c.code, IGNORABLE) ?? `\`${c.code}\` is not a lint code; only ${IGNORABLE[0]}-${IGNORABLE[IGNORABLE.length - 1]} warnings can be silenced`;
        } else {
          hint = `no ${c.code} warning on the rule or line below; remove the directive`;
        }
        kept.push(diagnostic("SP3008", c.span, { code: c.code }, { hint }));
      }
    }
  }
  return kept;
}
