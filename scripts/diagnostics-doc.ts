/**
 * Renders docs/diagnostics.md from the catalogue (src/diagnostics/codes.ts).
 * `npm run docs:codes` rewrites it; test/docs.test.ts fails when it is stale.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CODES, type CodeInfo } from "../src/diagnostics/codes.js";

const BANDS: [string, string][] = [
  ["SP1", "Syntax (lexer and parser)"],
  ["SP2", "Names and types (checker)"],
  ["SP3", "Lint (warnings; `lint --strict` fails on them; `# lint:ignore SP3xxx` on the line above silences one)"],
];

function cell(s: string): string {
  return s.replace(/\|/g, "\\|");
}

export function renderDiagnosticsDoc(): string {
  const lines = [
    "# Diagnostics",
    "",
    "Every problem `check` and `lint` report has a stable code (never renumbered), a severity, a",
    "message, a span (file, line, column, end) and, where it helps, a hint. This page is generated",
    "from `src/diagnostics/codes.ts` by `npm run docs:codes`; a test fails when it is out of date.",
    "",
  ];
  for (const [prefix, title] of BANDS) {
    lines.push(`## ${prefix}xxx: ${title}`, "", "| code | severity | message | what it means | help |", "|---|---|---|---|---|");
    for (const [code, info] of Object.entries(CODES) as [string, CodeInfo][]) {
      if (!code.startsWith(prefix)) continue;
      lines.push(`| ${code} | ${info.severity} | ${cell(info.message)} | ${cell(info.summary)} | ${cell(info.help ?? "")} |`);
    }
    lines.push("");
  }
  return lines.join("\n");
}

const here = path.dirname(fileURLToPath(import.meta.url));
export const DIAGNOSTICS_DOC = path.join(here, "..", "docs", "diagnostics.md");

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(DIAGNOSTICS_DOC, renderDiagnosticsDoc());
  console.log(`wrote ${path.relative(process.cwd(), DIAGNOSTICS_DOC)}`);
}
