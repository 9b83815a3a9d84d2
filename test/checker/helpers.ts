/**
 * Helpers for the checker's table-driven tests: parse policy text, check it,
 * and compare diagnostics by code and span (line:column-endLine:endColumn),
 * with hints and messages asserted where a case names them.
 */
import type { Test } from "tap";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "../../src/parser/parse.js";
import { check, lastPassFailures, type CheckOptions, type CheckResult } from "../../src/checker/check.js";
import type { Diagnostic } from "../../src/diagnostics/diagnostic.js";
import type { PolicyFile } from "../../src/parser/ast.js";

export const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "schemas");

export interface Checked extends CheckResult {
  files: PolicyFile[];
  /** Syntax diagnostics; the cases are written to parse cleanly. */
  syntax: Diagnostic[];
  /** Passes that threw (they must not). */
  failures: string[];
}

/** Parse and check one or more sources: a string is one file `t.policy`, a record maps file names to text. */
export function checkText(src: string | Record<string, string>, options: CheckOptions = {}): Checked {
  const sources = typeof src === "string" ? { "t.policy": src } : src;
  const files: PolicyFile[] = [];
  const syntax: Diagnostic[] = [];
  for (const [name, text] of Object.entries(sources)) {
    const p = parse(text, name);
    files.push(p.ast);
    syntax.push(...p.diagnostics);
  }
  const r = check(files, options);
  return { ...r, files, syntax, failures: [...lastPassFailures] };
}

/** `SP2001@3:8-3:16` */
export function where(d: Diagnostic): string {
  return `${d.code}@${d.span.line}:${d.span.column}-${d.span.endLine}:${d.span.endColumn}`;
}

export interface Want {
  /** `SP2001@3:8-3:16` */
  at: string;
  /** A substring of the hint. */
  hint?: string;
  /** A substring of the message. */
  message?: string;
}

export interface Case {
  name: string;
  text: string | Record<string, string>;
  want: (string | Want)[];
  lint?: boolean;
  /** Only compare diagnostics with these codes (default: all). */
  only?: string[];
}

/** Run a table of cases: each must parse cleanly and produce exactly `want`. */
export function runCases(t: Test, cases: Case[], options: CheckOptions = {}): void {
  for (const c of cases) {
    t.test(c.name, async (t) => {
      const r = checkText(c.text, { ...options, lint: c.lint ?? false });
      t.same(r.syntax.map(where), [], "parses cleanly");
      t.same(r.failures, [], "no pass threw");
      const got = r.diagnostics.filter((d) => !c.only || c.only.includes(d.code));
      const want = c.want.map((w) => (typeof w === "string" ? { at: w } : w));
      t.same(got.map(where), want.map((w) => w.at), "codes and spans");
      for (let i = 0; i < Math.min(got.length, want.length); i++) {
        const w = want[i]!;
        if (w.hint !== undefined) t.match(got[i]!.hint ?? "", w.hint, `${w.at} hint`);
        if (w.message !== undefined) t.match(got[i]!.message, w.message, `${w.at} message`);
      }
    });
  }
}
