/**
 * An audit report as plain text for a terminal or a CI log: the verdict,
 * then frameworks, compliance tags and rules as aligned tables, then the
 * non-compliant objects and invalid records the report kept.
 *
 * Everything that came from the inventory (ids, attribute values, schema
 * paths) or the policies (rule names, tags and their frameworks) is shown
 * with control characters escaped, so neither can move the cursor,
 * recolour or retitle a terminal.
 */
import type { AuditReport } from "./audit.js";
import { escapeUnsafe } from "../../diagnostics/escape-text.js";

/** `s` with C0/C1 control characters, DEL and bidi controls written as \u escapes. */
export const printable = escapeUnsafe;

/** Rows under a header; the first column left-aligned, the numbers right-aligned. */
function table(header: string[], rows: (string | number)[][]): string[] {
  const cells = [header, ...rows.map((r) => r.map((cell, i) => (i === 0 ? `  ${cell}` : String(cell))))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  "));
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The verdict line: what a person reads first. */
export function auditSummaryLine(report: AuditReport): string {
  const t = report.totals;
  const verdict = report.compliant ? "COMPLIANT" : "NOT COMPLIANT";
  const parts = [`${plural(t.records, "record")}`, `${t.compliant} compliant`, `${t.nonCompliant} non-compliant`, `${t.invalid} invalid`];
  return `${verdict}: ${parts.join(", ")} (${plural(t.violations, "violation")})`;
}

export function renderAuditText(report: AuditReport): string {
  const out: string[] = [];
  const inv = report.inventory === null ? "" : ` of ${printable(report.inventory)}`;
  out.push(`Encryption audit${inv} at ${report.now}, policy set ${report.policy.version.slice(0, 12)}`);
  out.push(auditSummaryLine(report));
  if (report.totals.records === 0) out.push("The inventory holds no records: nothing was verified.");

  if (report.frameworks.length > 0) {
    out.push("", ...table(["Frameworks", "objects", "compliant", "non-compliant"], report.frameworks.map((f) => [printable(f.framework), f.objects, f.compliant, f.nonCompliant])));
  }
  if (report.groups.length > 0) {
    out.push("", ...table(["Compliance tags", "objects", "compliant", "non-compliant", "violations"], report.groups.map((g) => [printable(g.group), g.objects, g.compliant, g.nonCompliant, g.violations])));
  }
  if (report.rules.length > 0) {
    out.push("", ...table(["Rules", "applied to", "non-compliant", "violations"], report.rules.map((r) => [printable(r.rule), r.objects, r.nonCompliant, r.violations])));
  }

  if (report.objects.length > 0 || report.omitted.objects > 0) {
    out.push("", `Objects (the first ${report.maxDetails} listed)`);
    for (const o of report.objects) {
      const tags = o.tags.length > 0 ? `  [${o.tags.map(printable).join(", ")}]` : "";
      out.push(`  line ${o.line}: ${printable(o.id)} ${o.status}${tags}`);
      for (const v of o.violations) out.push(`    ${v.rule === null ? "" : `${printable(v.rule)}: `}${printable(v.message)}`);
      for (const e of o.errors) out.push(`    error${e.rule === null ? "" : ` in ${printable(e.rule)}`}: ${printable(e.message)}`);
    }
    if (report.omitted.objects > 0) out.push(`  ... and ${plural(report.omitted.objects, "more object")} not listed`);
  }
  if (report.invalid.length > 0 || report.omitted.invalid > 0) {
    out.push("", "Invalid records (not audited)");
    for (const r of report.invalid) {
      const id = r.id === null ? "" : ` ${printable(r.id)}`;
      const problems = r.problems.map((p) => `${p.path === "" ? "record" : printable(p.path)} ${printable(p.message)}`).join("; ");
      out.push(`  line ${r.line}:${id} ${problems}`);
    }
    if (report.omitted.invalid > 0) out.push(`  ... and ${plural(report.omitted.invalid, "more invalid record")} not listed`);
  }
  return out.join("\n") + "\n";
}
