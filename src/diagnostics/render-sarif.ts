/**
 * Diagnostics as SARIF 2.1.0 (OASIS), the format code-scanning services
 * (GitHub, Azure DevOps, ...) ingest: one run whose tool lists every code of
 * the catalogue as a rule, one result per diagnostic.
 *
 * Our spans are already what SARIF wants: 1-based lines and columns counted
 * in UTF-16 code units, `endColumn` exclusive (run.columnKind says so).
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Span } from "../parser/span.js";
import type { Diagnostic } from "./diagnostic.js";
import { CODES, type Code, type CodeInfo } from "./codes.js";
import { displayPath, type RenderPathOptions } from "./render-json.js";

export interface SarifRenderOptions extends RenderPathOptions {
  /** The tool version reported in tool.driver.version (the package's version). */
  version: string;
}

export const SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json";

interface SarifPhysicalLocation {
  artifactLocation: { uri: string };
  region: { startLine: number; startColumn: number; endLine: number; endColumn: number };
}

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: "error" | "warning";
  message: { text: string };
  locations: { physicalLocation: SarifPhysicalLocation }[];
  relatedLocations?: { id: number; message: { text: string }; physicalLocation: SarifPhysicalLocation }[];
}

export interface SarifLog {
  $schema: string;
  version: "2.1.0";
  runs: {
    tool: {
      driver: {
        name: string;
        version: string;
        rules: {
          id: string;
          shortDescription: { text: string };
          help?: { text: string };
          defaultConfiguration: { level: "error" | "warning" };
        }[];
      };
    };
    columnKind: "utf16CodeUnits";
    results: SarifResult[];
  }[];
}

const CODE_LIST = Object.keys(CODES) as Code[];
const RULE_INDEX = new Map<string, number>(CODE_LIST.map((code, i) => [code, i]));

/**
 * A file as a SARIF artifact URI: relative to `cwd` with forward slashes
 * (percent-encoded) when the file lies inside it, which is what code-scanning
 * services resolve against the repository; an absolute file: URI otherwise
 * (displayPath shows such a file absolute).
 */
function artifactUri(file: string, options: RenderPathOptions): string {
  const shown = displayPath(file, options);
  if (shown.startsWith("/") || /^[A-Za-z]:\//.test(shown)) {
    return pathToFileURL(path.resolve(options.cwd ?? ".", file)).href;
  }
  return shown.split("/").map(encodeURIComponent).join("/");
}

function physicalLocation(span: Span, options: RenderPathOptions): SarifPhysicalLocation {
  return {
    artifactLocation: { uri: artifactUri(span.file, options) },
    region: { startLine: span.line, startColumn: span.column, endLine: span.endLine, endColumn: span.endColumn },
  };
}

function result(d: Diagnostic, options: RenderPathOptions): SarifResult {
  const out: SarifResult = {
    ruleId: d.code,
    ruleIndex: RULE_INDEX.get(d.code) ?? -1,
    level: d.severity,
    message: { text: d.hint === undefined ? d.message : `${d.message}\nhelp: ${d.hint}` },
    locations: [{ physicalLocation: physicalLocation(d.span, options) }],
  };
  if (d.related && d.related.length > 0) {
    out.relatedLocations = d.related.map((r, i) => ({
      id: i,
      message: { text: r.message },
      physicalLocation: physicalLocation(r.span, options),
    }));
  }
  return out;
}

/** The SARIF log as an object (for callers that embed or post-process it). */
export function toSarif(diagnostics: readonly Diagnostic[], options: SarifRenderOptions): SarifLog {
  return {
    $schema: SARIF_SCHEMA_URI,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "swarm-policy",
            version: options.version,
            rules: CODE_LIST.map((code) => {
              const info: CodeInfo = CODES[code];
              return {
                id: code,
                shortDescription: { text: info.summary },
                ...(info.help !== undefined ? { help: { text: info.help } } : {}),
                defaultConfiguration: { level: info.severity },
              };
            }),
          },
        },
        columnKind: "utf16CodeUnits",
        results: diagnostics.map((d) => result(d, options)),
      },
    ],
  };
}

/** `--format sarif`: the log, pretty-printed, with a trailing newline. */
export function renderSarif(diagnostics: readonly Diagnostic[], options: SarifRenderOptions): string {
  return JSON.stringify(toSarif(diagnostics, options), null, 2) + "\n";
}
