/**
 * Sigma files (YAML, one or more documents each) to documents.
 *
 * YAML is read as YAML 1.2 (core schema): `0x17` is the number 23, as it is
 * to pySigma's PyYAML, but `yes`, `on` and `y` stay strings where PyYAML
 * (YAML 1.1) would read booleans; Sigma compares values as strings, so the
 * author's text is the better reading (and SigmaHQ's lint forbids such
 * values unquoted anyway). A file that is not valid YAML, or
 * holds something that is not a Sigma document at all, is bad input
 * (ImportInputError, exit 2); a Sigma document that cannot be converted is a
 * problem of that rule only.
 */
import { parseAllDocuments } from "yaml";
import { ImportInputError } from "../report.js";
import { isMap, type SigmaDoc } from "./model.js";
import { pipelineFromDoc, type Pipeline } from "./pipeline.js";

export interface SigmaSource {
  /** Shown in comments and problems (e.g. the file path). */
  name: string;
  text: string;
}

/** Parse YAML documents; ImportInputError on a syntax error. Empty documents are skipped. */
export function yamlDocuments(src: SigmaSource): { index: number; value: unknown }[] {
  const out: { index: number; value: unknown }[] = [];
  let index = 0;
  let docs: ReturnType<typeof parseAllDocuments>;
  try {
    // logLevel "error": the library's warnings (a collection as a map key, stringified) went to
    // process.emitWarning, Node's stderr; what such a key means is the rule's problem, reported as such.
    docs = parseAllDocuments(src.text, { version: "1.2", uniqueKeys: true, logLevel: "error" });
  } catch (err) {
    // The YAML parser recurses per level of block nesting: some thousands of levels overflow the stack.
    if (err instanceof RangeError) throw new ImportInputError(`${src.name}: invalid YAML: nested too deeply to read`);
    throw err;
  }
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err !== undefined) {
      const pos = err.linePos?.[0];
      const where = pos !== undefined ? `:${pos.line}:${pos.col}` : "";
      const message = err.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
      throw new ImportInputError(`${src.name}${where}: invalid YAML: ${message}`);
    }
    if (doc.contents !== null) {
      let value: unknown;
      try {
        value = doc.toJS({ maxAliasCount: 100 });
      } catch (err) {
        // Parsed, but cannot be built: an alias to an anchor not set before it (anchors do
        // not cross documents), or more aliases than a rule needs (an expansion bomb).
        throw new ImportInputError(`${src.name}: document ${index + 1}: invalid YAML: ${(err as Error).message.split("\n")[0]}`);
      }
      out.push({ index, value });
    }
    index++;
  }
  return out;
}

/** A copy of a parsed YAML value (maps and lists copied, so merging never changes a shared part). */
function copy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(copy);
  if (!isMap(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) setOwn(out, k, copy(x));
  return out;
}

/** `o[k] = v` as an own property, also for a key named `__proto__`. */
function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
}

/** pySigma's deep_dict_update: maps merge key by key, anything else from `src` replaces what `dest` has. */
function deepUpdate(dest: Record<string, unknown>, src: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(src)) {
    const d = Object.prototype.hasOwnProperty.call(dest, k) ? dest[k] : undefined;
    setOwn(dest, k, isMap(v) ? deepUpdate(isMap(d) ? d : {}, v) : copy(v));
  }
  return dest;
}

/**
 * Every Sigma document of the sources, in order. Rule collections (a file's
 * documents with `action: global`, `reset`, `repeat`) are merged as pySigma
 * merges them: a global document is a template merged into each following
 * document (the template's values win where both set one), `reset` drops it,
 * `repeat` is the previous rule with this document's values laid over it.
 */
export function loadSigma(sources: readonly SigmaSource[]): SigmaDoc[] {
  const docs: SigmaDoc[] = [];
  for (const src of sources) {
    const found = yamlDocuments(src);
    if (found.length === 0) throw new ImportInputError(`${src.name}: no YAML documents`);
    let global: Record<string, unknown> = {};
    let previous: Record<string, unknown> | undefined;
    const rule = (index: number, body: Record<string, unknown>) => {
      if (!("detection" in body || "correlation" in body || "filter" in body)) {
        throw new ImportInputError(`${src.name}: document ${index + 1} is not a Sigma rule (no \`detection\` or \`correlation\`)`);
      }
      docs.push({ file: src.name, index, body });
      previous = body;
    };
    for (const { index, value } of found) {
      if (!isMap(value)) throw new ImportInputError(`${src.name}: document ${index + 1} is not a Sigma rule (not a map)`);
      const { action, ...rest } = value;
      if (action === undefined) rule(index, deepUpdate(copy(value) as Record<string, unknown>, global));
      else if (action === "global") previous = global = rest;
      else if (action === "reset") global = {};
      else if (action === "repeat") {
        if (previous === undefined) throw new ImportInputError(`${src.name}: document ${index + 1}: \`action: repeat\` with no rule before it`);
        rule(index, deepUpdate(copy(previous) as Record<string, unknown>, rest));
      } else {
        throw new ImportInputError(`${src.name}: document ${index + 1}: unknown collection action ${JSON.stringify(action)} (global, reset, repeat)`);
      }
    }
  }
  return docs;
}

/** A user pipeline file (docs/sigma.md); ImportInputError when it is not one. */
export function loadPipeline(src: SigmaSource): Pipeline {
  const docs = yamlDocuments(src);
  if (docs.length !== 1) throw new ImportInputError(`pipeline ${src.name}: expected one YAML document, found ${docs.length}`);
  return pipelineFromDoc(docs[0]!.value, src.name);
}
