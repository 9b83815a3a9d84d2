/**
 * The service's policy checker thread (see analyze-thread.ts): parses and
 * checks one set of sources per message and answers with the verdict only,
 * its diagnostics and the schema files it read (for the version). The ASTs
 * stay here: copied across threads they cost the receiver more than parsing
 * again (some 80 MB of structured clone for 10,000 rules).
 */
import { parentPort } from "node:worker_threads";
import { analyzeSources } from "../engine.js";
import { SourceText } from "../parser/span.js";

parentPort?.on("message", (msg: { id: number; sources: { file: string; text: string }[] }) => {
  try {
    const a = analyzeSources(msg.sources.map((s) => new SourceText(s.file, s.text)));
    parentPort!.postMessage({ id: msg.id, ok: true, verdict: { diagnostics: a.diagnostics, schemaTexts: a.schemaTexts } });
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, ok: false, message: err instanceof Error ? err.message : String(err) });
  }
});
