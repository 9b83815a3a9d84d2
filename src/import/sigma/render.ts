/**
 * Converted rules as policy text: a comment block that keeps where each rule
 * came from (file, id, author, references: the Detection Rule License asks
 * for attribution), then the `detect` block.
 *
 * - Name: the Sigma title (unique names get `-2`, `-3`, ... as the JSON
 *   importer does); the alert's `rule` is this name.
 * - Severity: Sigma `level`; `informational` becomes `low` (the language has
 *   no lower level), no level `medium`.
 * - Tags: `sigma:ID` first, so an alert leads back to its rule, then the
 *   Sigma tags with ATT&CK technique tags written `MITRE:T1059.004` as the
 *   project's policies write them; other tags as they are.
 * - Comment text is put on one line each, so nothing in a rule's metadata can
 *   end the comment and become policy text.
 */
import { isMap, text, type SigmaDoc } from "./model.js";
import { escapeUnsafe } from "../../diagnostics/escape-text.js";

const SEVERITY: Record<string, string> = { informational: "low", low: "low", medium: "medium", high: "high", critical: "critical" };

export function severityOf(body: Record<string, unknown>): string {
  const level = body["level"];
  return typeof level === "string" ? (SEVERITY[level.toLowerCase()] ?? "medium") : "medium";
}

export function tagsOf(body: Record<string, unknown>): string[] {
  const out: string[] = [];
  const id = text(body, "id");
  if (id !== undefined) out.push(`sigma:${id}`);
  const tags = body["tags"];
  if (Array.isArray(tags)) {
    for (const t of tags) {
      if (typeof t !== "string") continue;
      const m = /^attack\.(t\d{4}(?:\.\d{3})?)$/i.exec(t);
      out.push(m ? `MITRE:${m[1]!.toUpperCase()}` : t);
    }
  }
  return [...new Set(out)];
}

/**
 * One comment line: line breaks and control characters (C0, DEL, C1) become spaces, bidi controls
 * `\u202e` text (raw, a title's U+202E would reorder the comment wherever the policy is reviewed).
 */
export function commentLine(s: string): string {
  return `# ${escapeUnsafe(s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ").trim())}`.trimEnd();
}

function listOf(v: unknown): string[] {
  if (typeof v === "string") return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string");
  return [];
}

/** Where the rule came from, and what it is, as comment lines. */
export function provenance(doc: SigmaDoc, extra: string[] = []): string[] {
  const b = doc.body;
  const lines: string[] = [];
  lines.push(commentLine(`Sigma: ${text(b, "title") ?? "(untitled)"} (${doc.file}${doc.index > 0 ? ` document ${doc.index + 1}` : ""})`));
  const meta = [
    ["id", text(b, "id")],
    ["status", text(b, "status")],
    ["level", text(b, "level")],
    ["date", typeof b["date"] === "string" ? b["date"] : b["date"] instanceof Date ? b["date"].toISOString().slice(0, 10) : undefined],
  ].filter(([, v]) => v !== undefined);
  if (meta.length > 0) lines.push(commentLine(meta.map(([k, v]) => `${k}: ${v}`).join(", ")));
  const author = text(b, "author");
  if (author !== undefined) lines.push(commentLine(`author: ${author}`));
  const refs = listOf(b["references"]);
  if (refs.length > 0) {
    lines.push("# references:");
    for (const r of refs) lines.push(commentLine(`  ${r}`).replace(/^# /, "#   "));
  }
  const license = text(b, "license");
  if (license !== undefined) lines.push(commentLine(`license: ${license}`));
  for (const e of extra) lines.push(commentLine(e));
  return lines;
}

export interface DetectText {
  comments: string[];
  name: string;
  severity: string;
  tags: string[];
  /** Clause lines after severity and tags (`where ...`, `by ... within ...`). */
  clauses: string[];
}

export function detectBlock(d: DetectText): string {
  const lines = [...d.comments, `detect ${JSON.stringify(d.name)} {`, `  severity ${d.severity}`];
  if (d.tags.length > 0) lines.push(`  tags [${d.tags.map((t) => JSON.stringify(t)).join(", ")}]`);
  for (const c of d.clauses) lines.push(`  ${c}`);
  lines.push("}");
  return lines.join("\n") + "\n";
}

export function logsourceOf(body: Record<string, unknown>): { product?: string; category?: string; service?: string } {
  const ls = body["logsource"];
  if (!isMap(ls)) return {};
  const pick = (k: string) => (typeof ls[k] === "string" ? (ls[k] as string) : undefined);
  return { product: pick("product"), category: pick("category"), service: pick("service") };
}
