/**
 * Loading policy sources: reading PATH... (files, or directories searched
 * recursively for *.policy) and running the front end over them.
 *
 * Reading is the only I/O here; `analyze` is pure given its sources and the
 * schema reader, and never throws for bad policy text.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import type { PolicyFile } from "./parser/ast.js";
import { SourceText } from "./parser/span.js";
import { parse } from "./parser/parse.js";
import { check, type CheckOptions, type CheckResult } from "./checker/check.js";
import { sortDiagnostics, type Diagnostic } from "./diagnostics/diagnostic.js";

export interface ReadError {
  path: string;
  message: string;
}

export interface ReadResult {
  sources: SourceText[];
  errors: ReadError[];
}

/** Directories never descended into when searching for policy files. */
const SKIPPED_DIRS = new Set(["node_modules", ".git"]);

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIPPED_DIRS.has(e.name)) await walk(full, out);
    } else if (e.isFile() && e.name.endsWith(".policy")) {
      out.push(full);
    }
  }
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && e.code === "ENOENT") return "no such file or directory";
  if (e && e.code === "EACCES") return "permission denied";
  if (e && e.code === "EISDIR") return "is a directory";
  return e && typeof e.message === "string" ? e.message : String(err);
}

/**
 * Read every policy file named by `paths`: a file is taken as it is, a
 * directory is searched recursively for `*.policy` (sorted, so load order and
 * the policy-set version are deterministic). A path read twice is read once.
 * Never throws: unreadable paths come back in `errors`.
 */
export async function readSources(paths: readonly string[]): Promise<ReadResult> {
  const files: string[] = [];
  const errors: ReadError[] = [];
  for (const p of paths) {
    try {
      const st = await stat(p);
      if (st.isDirectory()) await walk(p, files);
      else files.push(p);
    } catch (err) {
      errors.push({ path: p, message: describe(err) });
    }
  }
  const seen = new Set<string>();
  const sources: SourceText[] = [];
  for (const f of files) {
    const key = path.resolve(f);
    if (seen.has(key)) continue;
    seen.add(key);
    try {
      const text = await readFile(f, "utf8");
      sources.push(new SourceText(f, text.charCodeAt(0) === 0xfeff ? text.slice(1) : text));
    } catch (err) {
      errors.push({ path: f, message: describe(err) });
    }
  }
  return { sources, errors };
}

export interface AnalyzeOptions extends CheckOptions {}

export interface AnalyzeResult {
  files: PolicyFile[];
  /** Syntax, check and (when on) lint diagnostics, sorted by file and position. */
  diagnostics: Diagnostic[];
  /** Sources by file name, for rendering source frames. */
  sources: Map<string, SourceText>;
  /** The checker's side tables (folded consts, compiled schemas). */
  checked: CheckResult;
}

/** Parse, check and (unless `lint: false`) lint a set of sources together. */
export function analyze(sources: readonly SourceText[], options: AnalyzeOptions = {}): AnalyzeResult {
  const files: PolicyFile[] = [];
  const diagnostics: Diagnostic[] = [];
  const byName = new Map<string, SourceText>();
  for (const src of sources) {
    byName.set(src.file, src);
    const parsed = parse(src.text, src.file);
    files.push(parsed.ast);
    diagnostics.push(...parsed.diagnostics);
  }
  const checked = check(files, options);
  diagnostics.push(...checked.diagnostics);
  return { files, diagnostics: sortDiagnostics(diagnostics), sources: byName, checked };
}
