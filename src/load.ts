/**
 * Loading policy sources: reading PATH... (files, or directories searched
 * recursively for *.policy) and running the front end over them.
 *
 * A directory scan reads every visible `*.policy` regular file, and every
 * visible `*.policy` symlink that resolves to a regular file, descending
 * into visible subdirectories (not into `node_modules`, not through
 * directory symlinks). Hidden entries (a name starting with ".") are
 * skipped: a Kubernetes ConfigMap mounted as a directory is `a.policy ->
 * ..data/a.policy`, `..data -> ..<timestamp>/`, and during an update two
 * `..<timestamp>` directories; reading those too loads each policy once
 * more, twice while both exist, and the set fails with duplicate
 * definitions. A file reached by two names (two links, a link and its
 * target) is read once, under the first name in sorted order.
 *
 * Reading is the only I/O here; `analyze` is pure given its sources and the
 * schema reader, and never throws for bad policy text.
 */
import { readdir, readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import type { PolicyFile } from "./parser/ast.js";
import { SourceText } from "./parser/span.js";
import { parse } from "./parser/parse.js";
import { utf8Problem } from "./parser/utf8.js";
import { checkSteps, type CheckOptions, type CheckResult } from "./checker/check.js";
import { runSteps, type Steps } from "./steps.js";
import { sortDiagnostics, type Diagnostic } from "./diagnostics/diagnostic.js";
import { constErrors } from "./evaluator/const-errors.js";

export interface ReadError {
  path: string;
  message: string;
}

export interface ReadResult {
  sources: SourceText[];
  errors: ReadError[];
}

/** Directories never descended into when searching for policy files (hidden ones neither). */
const SKIPPED_DIRS = new Set(["node_modules"]);

async function walk(dir: string, out: string[], errors: ReadError[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    // Named itself (not the path given on the command line), and its siblings are still scanned.
    errors.push({ path: dir, message: describe(err) });
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith(".")) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIPPED_DIRS.has(e.name)) await walk(full, out, errors);
    } else if (!e.name.endsWith(".policy")) {
      continue;
    } else if (e.isFile()) {
      out.push(full);
    } else if (e.isSymbolicLink()) {
      // A link that does not resolve (dangling, or a loop: ELOOP) is an error rather than a policy
      // silently left out of the set; a link to something other than a regular file is skipped.
      try {
        if ((await stat(full)).isFile()) out.push(full);
      } catch (err) {
        errors.push({ path: full, message: describe(err) });
      }
    }
  }
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && e.code === "ENOENT") return "no such file or directory";
  if (e && e.code === "EACCES") return "permission denied";
  if (e && e.code === "EISDIR") return "is a directory";
  if (e && e.code === "ELOOP") return "too many levels of symbolic links";
  return e && typeof e.message === "string" ? e.message : String(err);
}

/**
 * Read every policy file named by `paths`: a file is taken as it is, a
 * directory is searched recursively for `*.policy` (sorted, so load order and
 * the policy-set version are deterministic; see the top of the file for what
 * a scan includes). A file reached twice, by any names, is read once.
 * Never throws: unreadable paths come back in `errors`.
 */
export async function readSources(paths: readonly string[]): Promise<ReadResult> {
  const files: string[] = [];
  const errors: ReadError[] = [];
  for (const p of paths) {
    try {
      const st = await stat(p);
      if (st.isDirectory()) await walk(p, files, errors);
      else files.push(p);
    } catch (err) {
      errors.push({ path: p, message: describe(err) });
    }
  }
  const seen = new Set<string>();
  const sources: SourceText[] = [];
  for (const f of files) {
    // By the real file, so two links to one file (or a link and its target) are one source.
    const key = await realpath(f).catch(() => path.resolve(f));
    if (seen.has(key)) continue;
    seen.add(key);
    let bytes: Buffer;
    try {
      bytes = await readFile(f);
    } catch (err) {
      errors.push({ path: f, message: describe(err) });
      continue;
    }
    const bad = utf8Problem(bytes);
    if (bad !== undefined) {
      errors.push({ path: f, message: bad });
      continue;
    }
    const text = bytes.toString("utf8");
    sources.push(new SourceText(f, text.charCodeAt(0) === 0xfeff ? text.slice(1) : text));
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
  return runSteps(analyzeSteps(sources, options));
}

/** `analyze` in steps (src/steps.ts): each file's parse, then each checker pass. */
export function* analyzeSteps(sources: readonly SourceText[], options: AnalyzeOptions = {}): Steps<AnalyzeResult> {
  const files: PolicyFile[] = [];
  const diagnostics: Diagnostic[] = [];
  const byName = new Map<string, SourceText>();
  for (const src of sources) {
    byName.set(src.file, src);
    const parsed = parse(src.text, src.file);
    files.push(parsed.ast);
    diagnostics.push(...parsed.diagnostics);
    yield;
  }
  const checked = yield* checkSteps(files, options);
  // Lint reads the AST parsing recovered, which lacks what failed to parse:
  // a rule whose `when` did not parse looked like one with no `when`
  // (SP3001), a const read only there looked unused (SP3003), in that file or
  // another of its package. Lint warnings wait until every file parses.
  const syntaxErrors = diagnostics.some((d) => d.severity === "error");
  diagnostics.push(...(syntaxErrors ? checked.diagnostics.filter((d) => !d.code.startsWith("SP3")) : checked.diagnostics));
  // Consts fold as evaluation will fold them; only a set without errors is folded (SP2033).
  if (!diagnostics.some((d) => d.severity === "error")) {
    try {
      diagnostics.push(...constErrors(files));
    } catch {
      // analyze never throws; compiling the set folds the same consts and fails closed on its own
    }
  }
  return { files, diagnostics: sortDiagnostics(diagnostics), sources: byName, checked };
}
