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
    docs = parseAllDocuments(src.text, { version: "1.2", uniqueKeys: true });
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

/** Every Sigma document of the sources, in order. */
export function loadSigma(sources: readonly SigmaSource[]): SigmaDoc[] {
  const docs: SigmaDoc[] = [];
  for (const src of sources) {
    const found = yamlDocuments(src);
    if (found.length === 0) throw new ImportInputError(`${src.name}: no YAML documents`);
    for (const { index, value } of found) {
      if (!isMap(value) || !("detection" in value || "correlation" in value || "filter" in value)) {
        throw new ImportInputError(`${src.name}: document ${index + 1} is not a Sigma rule (no \`detection\` or \`correlation\`)`);
      }
      docs.push({ file: src.name, index, body: value });
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
