/**
 * An audit report as one self-contained HTML page a person can open from
 * disk or a CI artifact: inline CSS, no scripts, no fonts, no images, no
 * links out, and a Content-Security-Policy that forbids loading anything,
 * so the page looks the same offline and cannot call home.
 *
 * Every piece of text is escaped (`&<>"'`), whatever its source: record
 * ids and attribute values come from the inventory, rule names and tags
 * from policy files, and neither is trusted to be markup.
 */
import type { AuditReport, GroupSummary } from "./audit.js";
import { auditSummaryLine } from "./report-text.js";

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text made safe for HTML element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #1b1f24; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
.verdict { padding: .6rem .9rem; border-radius: 4px; font-weight: 600; }
.ok { background: #dff3e4; color: #0f5323; } .bad { background: #fde2e1; color: #8a1c16; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #d8dee4; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.bad td.status { color: #8a1c16; font-weight: 600; } tr.ok td.status { color: #0f5323; }
code, .mono { font-family: ui-monospace, monospace; font-size: 12.5px; overflow-wrap: anywhere; }
ul { margin: 0; padding-left: 1.1rem; } .muted { color: #57606a; }
`;

const num = (n: number) => `<td class="n">${n}</td>`;
const rowClass = (nonCompliant: number) => (nonCompliant > 0 ? "bad" : "ok");

function countsTable(title: string, rows: { name: string; objects: number; compliant: number; nonCompliant: number; extra?: string }[]): string {
  if (rows.length === 0) return "";
  const body = rows
    .map(
      (r) =>
        `<tr class="${rowClass(r.nonCompliant)}"><td><code>${escapeHtml(r.name)}</code>${r.extra ?? ""}</td>` +
        `${num(r.objects)}${num(r.compliant)}<td class="n status">${r.nonCompliant}</td></tr>`,
    )
    .join("\n");
  return (
    `<h2>${escapeHtml(title)}</h2>\n<table><thead><tr><th></th><th class="n">objects</th><th class="n">compliant</th>` +
    `<th class="n">non-compliant</th></tr></thead><tbody>\n${body}\n</tbody></table>`
  );
}

function groupNote(g: GroupSummary): string {
  if (g.kind === "unattributed") return ` <span class="muted">(invalid records, and objects no rule could be credited with)</span>`;
  return g.rules.length > 0 ? `<div class="muted">${g.rules.map(escapeHtml).join(", ")}</div>` : "";
}

function objectsSection(report: AuditReport): string {
  if (report.objects.length === 0 && report.omitted.objects === 0) return "";
  const rows = report.objects.map((o) => {
    const problems = [
      ...o.violations.map((v) => `<li>${v.rule === null ? "" : `<code>${escapeHtml(v.rule)}</code>: `}${escapeHtml(v.message)}</li>`),
      ...o.errors.map((e) => `<li>error${e.rule === null ? "" : ` in <code>${escapeHtml(e.rule)}</code>`}: ${escapeHtml(e.message)}</li>`),
    ];
    return (
      `<tr class="${o.status === "compliant" ? "ok" : "bad"}"><td class="n">${o.line}</td><td><code>${escapeHtml(o.id)}</code>` +
      `<div class="mono muted">${escapeHtml(JSON.stringify(o.attributes))}</div></td><td class="status">${escapeHtml(o.status)}</td>` +
      `<td class="mono">${escapeHtml(JSON.stringify(o.actual))}</td><td><ul>${problems.join("")}</ul></td>` +
      `<td>${o.tags.map((t) => `<code>${escapeHtml(t)}</code>`).join("<br>")}</td></tr>`
    );
  });
  const more = report.omitted.objects > 0 ? `<p class="muted">… and ${report.omitted.objects} more objects not listed.</p>` : "";
  return (
    `<h2>Objects (the first ${report.maxDetails} listed)</h2>\n<table><thead><tr><th class="n">line</th><th>object</th><th>status</th>` +
    `<th>actual encryption</th><th>violations</th><th>tags</th></tr></thead><tbody>\n${rows.join("\n")}\n</tbody></table>${more}`
  );
}

function invalidSection(report: AuditReport): string {
  if (report.invalid.length === 0 && report.omitted.invalid === 0) return "";
  const rows = report.invalid.map(
    (r) =>
      `<tr class="bad"><td class="n">${r.line}</td><td><code>${escapeHtml(r.id ?? "")}</code></td><td><ul>` +
      r.problems.map((p) => `<li><code>${escapeHtml(p.path === "" ? "(record)" : p.path)}</code> ${escapeHtml(p.message)}</li>`).join("") +
      `</ul></td></tr>`,
  );
  const more = report.omitted.invalid > 0 ? `<p class="muted">… and ${report.omitted.invalid} more invalid records not listed.</p>` : "";
  return (
    `<h2>Invalid records (not audited)</h2>\n<table><thead><tr><th class="n">line</th><th>id</th><th>problems</th></tr></thead>` +
    `<tbody>\n${rows.join("\n")}\n</tbody></table>${more}`
  );
}

export function renderAuditHtml(report: AuditReport): string {
  const title = `Encryption audit${report.inventory === null ? "" : ` of ${report.inventory}`}`;
  const empty = report.totals.records === 0 ? `<p>The inventory holds no records: nothing was verified.</p>` : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="muted">Measured at ${escapeHtml(report.now)} against policy set <code>${escapeHtml(report.policy.version)}</code>.</p>
<p class="verdict ${report.compliant ? "ok" : "bad"}">${escapeHtml(auditSummaryLine(report))}</p>
${empty}
${countsTable("Frameworks", report.frameworks.map((f) => ({ name: f.framework, ...f })))}
${countsTable("Compliance tags", report.groups.map((g) => ({ name: g.group, ...g, extra: groupNote(g) })))}
${countsTable("Rules", report.rules.map((r) => ({ name: r.rule, objects: r.objects, compliant: r.objects - r.nonCompliant, nonCompliant: r.nonCompliant, extra: r.tags.length > 0 ? `<div class="muted">${r.tags.map(escapeHtml).join(", ")}</div>` : "" })))}
${objectsSection(report)}
${invalidSection(report)}
</body>
</html>
`;
}
