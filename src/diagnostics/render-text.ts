/**
 * Diagnostics as text for people, in the shape rustc made familiar:
 *
 *   error[SP2001]: unknown name `pricipal`
 *    --> policies/access.policy:3:8
 *     |
 *   3 |   when pricipal.roles contains "ops"
 *     |        ^^^^^^^^
 *     |
 *     = help: did you mean `principal`?
 *
 * followed by related spans as notes and a summary line. Lines and columns
 * come from the span; the source frame needs the file's SourceText, and is
 * left out when the source is not at hand.
 */
import type { Span, SourceText } from "../parser/span.js";
import type { Diagnostic } from "./diagnostic.js";
import { escapeUnsafe } from "./escape-text.js";
import type { Severity } from "./codes.js";
import { countSeverities, displayPath, type RenderPathOptions } from "./render-json.js";

export interface TextRenderOptions extends RenderPathOptions {
  /** ANSI colour; decide with `shouldColor` for the stream written to. */
  color?: boolean;
}

/** Tabs are shown as this many spaces, so carets line up with the text above them. */
const TAB = "    ";

/**
 * A source line as shown in a frame: a policy file may hold control
 * characters (in strings, comments, names), and written raw they would drive
 * the reader's terminal (clear lines, retitle it, hide text in a CI log).
 * Each is shown as one visible character (C0 and DEL as Unicode control
 * pictures, C1 as U+FFFD), so the carets below stay aligned. So are the
 * bidirectional controls (Trojan Source, CVE-2021-42574): raw, they reorder
 * the rest of the line wherever the log is viewed (a browser shows CI logs),
 * and being invisible they would shift the carets by one each. Other format
 * characters (zero-width spaces and joiners, tag characters) and the line and
 * paragraph separators are shown as U+FFFD too: the caret of a lint warning
 * about one (SP3012) then points at something.
 */
function visibleSource(s: string): string {
  return s.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}]/gu, (c) => {
    const n = c.charCodeAt(0);
    return n < 0x20 ? String.fromCharCode(0x2400 + n) : n === 0x7f ? "\u2421" : "\ufffd";
  });
}

/** Characters a terminal draws two cells wide: East Asian wide and fullwidth forms, emoji presentation. */
const WIDE = /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\ua960-\ua97f\uac00-\ud7a3\uf900-\ufaff\ufe10-\ufe19\ufe30-\ufe6f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{20000}-\u{3fffd}]|\p{Emoji_Presentation}/u;
/** Characters drawn on the cell before them: combining marks. */
const ZERO_WIDTH = /[\p{Mn}\p{Me}]/u;

/**
 * Terminal cells `s` takes (after visibleSource), so carets go under the
 * characters as shown: a span's column counts UTF-16 code units (docs/cli.md),
 * and a line holding 用户 (two code units, four cells), e plus a combining
 * accent (two units, one cell) or 𝐀 (two units, one cell) put the carets
 * that many cells off. East Asian ambiguous characters count one, as most
 * terminals draw them outside East Asian locales.
 */
function cellWidth(s: string): number {
  let n = 0;
  for (const c of s) {
    const cp = c.codePointAt(0)!;
    if (cp < 0x300) n++;
    else if (ZERO_WIDTH.test(c)) continue;
    else n += WIDE.test(c) ? 2 : 1;
  }
  return n;
}

/** Message text (which quotes names and strings from the policy) with control and bidi characters as `\u001b` escapes. */
const visibleText = escapeUnsafe;

const ANSI = {
  reset: "\x1b[0m",
  bold: "\x1b[1m",
  red: "\x1b[31m",
  yellow: "\x1b[33m",
  blue: "\x1b[34m",
  cyan: "\x1b[36m",
} as const;

type Paint = (style: string, text: string) => string;

function painter(color: boolean | undefined): Paint {
  return color ? (style, text) => `${style}${text}${ANSI.reset}` : (_style, text) => text;
}

/**
 * Whether to colour output written to a stream: FORCE_COLOR (other than "0"
 * or "false") forces it; otherwise only a TTY gets colour, and only while
 * NO_COLOR is unset or empty (no-color.org).
 */
export function shouldColor(isTTY: boolean | undefined, env: Readonly<Record<string, string | undefined>>): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== "0" && force !== "false") return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return isTTY === true;
}

function severityStyle(severity: Severity): string {
  return ANSI.bold + (severity === "error" ? ANSI.red : ANSI.yellow);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** "2 errors, 1 warning": the last line of text output. */
export function summaryLine(diagnostics: readonly Diagnostic[]): string {
  const { errors, warnings } = countSeverities(diagnostics);
  return `${plural(errors, "error")}, ${plural(warnings, "warning")}`;
}

/** Source characters shown of a long line: a window from a little before the span. */
const FRAME_WIDTH = 120;
const FRAME_LEAD = 40;

/** `i` moved off the second half of a surrogate pair, so a window never splits a character. */
function charBoundary(text: string, i: number): number {
  const c = text.charCodeAt(i);
  return i > 0 && c >= 0xdc00 && c <= 0xdfff ? i - 1 : i;
}

/**
 * The source line under a span and the caret run beneath it. A span over
 * several lines is underlined to the end of its first line; an empty span
 * (end of file, a missing token) still gets one caret. A line longer than
 * FRAME_WIDTH (minified or generated text) is shown as a window around the
 * span, cut ends marked `...`: printing the whole line under every
 * diagnostic made the output grow with lines times diagnostics (a 60 KB
 * one-line file overflowed a string).
 */
function frameLines(span: Span, source: SourceText): { text: string; pad: string; carets: string } {
  const line = source.lineText(span.line);
  const startIndex = Math.min(span.column - 1, line.length);
  const endIndex = span.endLine === span.line ? Math.min(span.endColumn - 1, line.length) : line.length;
  let from = 0;
  let to = line.length;
  if (line.length > FRAME_WIDTH) {
    from = charBoundary(line, Math.max(0, startIndex - FRAME_LEAD));
    to = charBoundary(line, Math.min(line.length, from + FRAME_WIDTH));
  }
  const lead = from > 0 ? "..." : "";
  const tail = to < line.length ? "..." : "";
  const width = Math.max(1, Math.min(endIndex, to) - startIndex);
  const expand = (s: string) => visibleSource(s.replace(/\t/g, TAB));
  const before = lead + expand(line.slice(from, startIndex));
  const under = expand(line.slice(startIndex, startIndex + width));
  return {
    text: lead + expand(line.slice(from, to)) + tail,
    pad: " ".repeat(cellWidth(before)),
    carets: "^".repeat(Math.max(1, cellWidth(under))),
  };
}

function renderFrame(
  out: string[],
  span: Span,
  source: SourceText | undefined,
  gutter: number,
  caretStyle: string,
  paint: Paint,
  options: TextRenderOptions,
): void {
  const blank = " ".repeat(gutter);
  out.push(`${blank}${paint(ANSI.bold + ANSI.blue, "-->")} ${visibleText(displayPath(span.file, options))}:${span.line}:${span.column}`);
  if (source === undefined) return;
  const { text, pad, carets } = frameLines(span, source);
  const bar = paint(ANSI.bold + ANSI.blue, "|");
  out.push(`${blank} ${bar}`);
  out.push(`${paint(ANSI.bold + ANSI.blue, String(span.line).padStart(gutter))} ${bar}${text === "" ? "" : " " + text}`);
  out.push(`${blank} ${bar} ${pad}${paint(caretStyle, carets)}`);
}

/** One diagnostic with its source frame, help line and related notes (no trailing newline). */
export function renderDiagnostic(
  d: Diagnostic,
  sources: ReadonlyMap<string, SourceText> | undefined,
  options: TextRenderOptions = {},
): string {
  const paint = painter(options.color);
  const style = severityStyle(d.severity);
  const related = d.related ?? [];
  // One gutter width for the whole diagnostic, so its frames line up.
  const gutter = Math.max(String(d.span.line).length, ...related.map((r) => String(r.span.line).length));
  const out: string[] = [];
  out.push(`${paint(style, `${d.severity}[${d.code}]`)}${paint(ANSI.bold, `: ${visibleText(d.message)}`)}`);
  renderFrame(out, d.span, sources?.get(d.span.file), gutter, style, paint, options);
  if (d.hint !== undefined) {
    const blank = " ".repeat(gutter);
    if (sources?.get(d.span.file) !== undefined) out.push(`${blank} ${paint(ANSI.bold + ANSI.blue, "|")}`);
    out.push(`${blank} ${paint(ANSI.bold + ANSI.blue, "=")} ${paint(ANSI.bold, "help")}: ${visibleText(d.hint)}`);
  }
  for (const r of related) {
    out.push(`${paint(ANSI.bold + ANSI.cyan, "note")}${paint(ANSI.bold, `: ${visibleText(r.message)}`)}`);
    renderFrame(out, r.span, sources?.get(r.span.file), gutter, ANSI.bold + ANSI.cyan, paint, options);
  }
  return out.join("\n");
}

/**
 * Every diagnostic, a blank line between them, then the summary line
 * ("1 error, 0 warnings"). Ends with a newline.
 */
export function renderText(
  diagnostics: readonly Diagnostic[],
  sources: ReadonlyMap<string, SourceText> | undefined,
  options: TextRenderOptions = {},
): string {
  const blocks = diagnostics.map((d) => renderDiagnostic(d, sources, options) + "\n\n");
  return blocks.join("") + summaryLine(diagnostics) + "\n";
}
