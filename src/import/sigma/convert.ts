/**
 * Import Sigma rules into one `.policy` file of detect blocks
 * (`swarm-policy import sigma`; docs/sigma.md).
 *
 * Every document of every file is either converted or reported with its
 * reason (ImportResult.problems); nothing is dropped silently. Detection
 * rules become detect blocks with a `where`; correlation rules become
 * detect blocks that group and count (correlation.ts), with the detection
 * rules they reference inlined. Referenced rules are not also emitted on
 * their own unless the correlation says `generate: true`, as the Sigma
 * correlation specification defines.
 */
import { format } from "../../format/format.js";
import { oneLine, type ImportProblem, type ImportResult } from "../report.js";
import { UniqueNames } from "../unique-names.js";
import { convertCorrelation, type ConvertedDetection } from "./correlation.js";
import { detectionCondition } from "./detection.js";
import { and, leaf, render } from "./expr.js";
import { loadSigma, type SigmaSource } from "./load.js";
import { docLabel, fail, isMap, text, Unconvertible, type SigmaDoc } from "./model.js";
import { applyPipeline, describeLogsource, NO_PIPELINE, type Pipeline } from "./pipeline.js";
import { commentLine, detectBlock, logsourceOf, provenance, severityOf, tagsOf } from "./render.js";

export interface SigmaOptions {
  /** Built-in (`sysmon`, `ecs`) or loaded from a file; default: none (fields as named). */
  pipeline?: Pipeline;
}

interface Block {
  doc: SigmaDoc;
  name: string;
  comments: string[];
  clauses: string[];
}

function kindOf(doc: SigmaDoc): "detection" | "correlation" | "filter" {
  if (doc.body["correlation"] !== undefined) return "correlation";
  if (doc.body["detection"] !== undefined) return "detection";
  return "filter";
}

function ruleLabel(d: SigmaDoc): string {
  return `${docLabel(d)} (${d.file}${d.index > 0 ? ` document ${d.index + 1}` : ""})`;
}

/** A per-rule failure as one line; an unexpected error is reported too, never allowed to stop the others. */
function reasonOf(err: unknown): string {
  if (err instanceof Unconvertible) return err.message;
  // The condition and regular expression parsers recurse per level of nesting.
  if (err instanceof RangeError && /call stack/i.test(err.message)) return "the condition or a regular expression is nested too deeply to convert";
  return `internal error: ${err instanceof Error ? err.message : String(err)}`;
}

class Converter {
  readonly problems: ImportProblem[] = [];
  readonly blocks: Block[] = [];
  private readonly cache = new Map<SigmaDoc, ConvertedDetection | Unconvertible>();
  private readonly byRef = new Map<string, SigmaDoc[]>();

  constructor(
    readonly docs: SigmaDoc[],
    readonly pipeline: Pipeline,
  ) {
    for (const d of docs) {
      for (const key of [text(d.body, "id"), text(d.body, "name")]) {
        if (key === undefined) continue;
        const list = this.byRef.get(key) ?? [];
        if (!list.includes(d)) list.push(d);
        this.byRef.set(key, list);
      }
    }
  }

  resolve(ref: string): SigmaDoc {
    const found = this.byRef.get(ref) ?? [];
    if (found.length === 0) fail(`it refers to rule \`${ref}\`, which is not among the input files`);
    if (found.length > 1) fail(`rule \`${ref}\` is ambiguous: ${found.length} documents have that id or name`);
    return found[0]!;
  }

  detection(doc: SigmaDoc): ConvertedDetection {
    let c = this.cache.get(doc);
    if (c === undefined) {
      try {
        c = this.convertDetection(doc);
      } catch (err) {
        if (!(err instanceof Unconvertible)) throw err;
        c = err;
      }
      this.cache.set(doc, c);
    }
    if (c instanceof Unconvertible) {
      if (this.current !== doc) fail(`referenced rule \`${docLabel(doc)}\`: ${c.message}`);
      throw c;
    }
    return c;
  }

  private current: SigmaDoc | undefined;
  /** Documents inlined into a converted correlation. */
  private readonly inlined = new Set<SigmaDoc>();

  private convertDetection(doc: SigmaDoc): ConvertedDetection {
    const ls = applyPipeline(this.pipeline, logsourceOf(doc.body));
    const cond = detectionCondition(doc.body["detection"], ls);
    const where = and([...ls.conditions.map((c) => leaf(c.text, c.prec)), cond]);
    if (where.k === "false") fail("the condition can never hold");
    return { where, mapField: ls.mapField };
  }

  run(): void {
    const referenced = new Set<SigmaDoc>();
    const generate = new Set<SigmaDoc>();
    for (const d of this.docs) {
      if (kindOf(d) !== "correlation") continue;
      const c = d.body["correlation"];
      const rules = isMap(c) && Array.isArray(c["rules"]) ? c["rules"] : [];
      for (const r of rules) {
        for (const target of typeof r === "string" ? (this.byRef.get(r) ?? []) : []) {
          referenced.add(target);
          if (d.body["generate"] === true) generate.add(target);
        }
      }
    }
    for (const d of this.docs) {
      const kind = kindOf(d);
      if (referenced.has(d) && !generate.has(d)) continue;
      this.current = d;
      try {
        if (kind === "filter") fail("Sigma filter documents are not supported (apply the filter to the rules it names instead)");
        if (kind === "detection") this.emitDetection(d);
        else this.emitCorrelation(d);
      } catch (err) {
        this.problems.push({ rule: ruleLabel(d), reason: reasonOf(err) });
      }
    }
    this.current = undefined;
    // A rule that only a failed correlation uses would otherwise vanish without a word.
    for (const d of referenced) {
      if (generate.has(d) || this.inlined.has(d)) continue;
      this.problems.push({ rule: ruleLabel(d), reason: "it is only part of correlations that cannot be converted" });
    }
  }

  private emitDetection(d: SigmaDoc): void {
    const c = this.detection(d);
    const ls = logsourceOf(d.body);
    const note = this.pipeline === NO_PIPELINE ? "" : ` (pipeline ${this.pipeline.name})`;
    this.blocks.push({ doc: d, name: docLabel(d), comments: provenance(d, [`logsource: ${describeLogsource(ls)}${note}`]), clauses: [`where ${render(c.where)}`] });
  }

  private emitCorrelation(d: SigmaDoc): void {
    const corr = convertCorrelation(d, { resolve: (r) => this.resolve(r), detection: (doc) => this.detection(doc) });
    for (const u of corr.used) this.inlined.add(u);
    const c = d.body["correlation"] as Record<string, unknown>;
    const seen = new Set<SigmaDoc>();
    const notes = [`correlation: ${String(c["type"])} of:`];
    for (const u of corr.used) {
      if (seen.has(u)) continue;
      seen.add(u);
      notes.push(`  ${docLabel(u)}${text(u.body, "id") ? ` (${text(u.body, "id")})` : ""}, ${u.file}`);
    }
    this.blocks.push({ doc: d, name: docLabel(d), comments: provenance(d, notes), clauses: corr.clauses });
  }
}

/**
 * Convert Sigma rule files into one policy file. Throws ImportInputError when
 * a file is not YAML or not Sigma at all; everything else is per rule.
 */
export function convertSigma(sources: readonly SigmaSource[], options: SigmaOptions = {}): ImportResult {
  const pipeline = options.pipeline ?? NO_PIPELINE;
  const conv = new Converter(loadSigma(sources), pipeline);
  conv.run();
  // A rule whose text the policy parser refuses (brackets nested deeper than it reads) is that
  // rule's problem; it must not fail the whole import.
  const blocks = conv.blocks.filter((b) => {
    const alone = format(detectBlock({ comments: [], name: b.name, severity: severityOf(b.doc.body), tags: [], clauses: b.clauses }), "import.policy");
    const error = alone.internalError ?? alone.diagnostics.find((d) => d.severity === "error")?.message;
    if (error === undefined) return true;
    conv.problems.push({ rule: ruleLabel(b.doc), reason: `the converted rule cannot be written as policy text: ${error}` });
    return false;
  });
  const names = new UniqueNames();
  const texts = blocks.map((b) => {
    const name = names.take(b.name);
    const renamed = name === b.name ? [] : [`# named ${JSON.stringify(name)}: another rule has the same title`];
    return detectBlock({ comments: [...b.comments, ...renamed], name, severity: severityOf(b.doc.body), tags: tagsOf(b.doc.body), clauses: b.clauses });
  });
  // File names and the pipeline's name come from outside: one line each, or a line break would end the comment.
  const header = [
    commentLine(`Imported from Sigma: ${sources.length <= 3 ? sources.map((s) => s.name).join(", ") : `${sources.length} files (each rule names its own)`}`),
    commentLine(`Pipeline: ${pipeline.name}${pipeline.description ? ` (${pipeline.description})` : ""}`),
    "# Sigma rules are shared under the Detection Rule License (DRL) 1.1 unless they say otherwise;",
    "# each rule below keeps its authors and references. Conversion: docs/sigma.md.",
  ].join("\n");
  const out = `${header}\n\n${texts.join("\n")}`;
  const formatted = format(out, "import.policy");
  if (formatted.internalError !== undefined || formatted.diagnostics.some((d) => d.severity === "error")) {
    throw new Error(`the generated policy does not parse: ${formatted.internalError ?? formatted.diagnostics[0]!.message}`);
  }
  return { policy: formatted.output, converted: blocks.length, problems: conv.problems.map((p) => ({ rule: p.rule, reason: oneLine(p.reason) })) };
}
