/**
 * Which clauses each block takes (spec/LANGUAGE.md sections 4-7).
 *
 * The grammar reads every clause with one general rule; here each block keeps
 * the clauses it takes, in source order. A clause it does not take is SP1010
 * with a hint that says where it belongs, and is dropped; a clause that may
 * appear once, repeated, is SP1011 and the repeat is dropped.
 */
import type { AnyClause, ParsedClause } from "./clause-grammar.js";
import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.js";

export type BlockKind = "allow" | "deny" | "encryption" | "mesh" | "detect";
type ClauseKind = AnyClause["kind"];

const TAKES: Record<BlockKind, ReadonlySet<ClauseKind>> = {
  allow: new Set(["Tags", "When", "Unless", "Require", "RequireMfa"]),
  deny: new Set(["Tags", "When", "Unless"]),
  encryption: new Set(["Tags", "When", "Unless", "RequireCipher", "RequireKeyAge", "RequireTee", "RequireAad"]),
  mesh: new Set(["Tags", "When", "Unless", "Require", "RequireKeyAge", "Network", "ListenPort", "Keepalive", "Connect"]),
  detect: new Set(["Tags", "Severity", "Where", "By", "Having", "Sequence", "ThenRisk", "ThenQuarantine"]),
};

/** Clauses that may appear once per block (`sequence` and `all` count as one). */
const ONCE = new Set<ClauseKind>(["Severity", "By", "Network", "ListenPort", "Keepalive", "Sequence", "RequireCipher", "RequireMfa"]);

const BLOCK_NAME: Record<BlockKind, string> = {
  allow: "an `allow` rule",
  deny: "a `deny` rule",
  encryption: "an `encryption` block",
  mesh: "a `mesh` block",
  detect: "a `detect` rule",
};

const DETECT_ONLY = new Set<ClauseKind>(["Severity", "By", "Having", "Sequence", "ThenRisk", "ThenQuarantine"]);
const MESH_ONLY = new Set<ClauseKind>(["Network", "ListenPort", "Keepalive", "Connect"]);
const ENCRYPTION_ONLY = new Set<ClauseKind>(["RequireCipher", "RequireTee", "RequireAad"]);

/** Where a misplaced clause belongs, said so a person can act on it. */
function hintFor(kind: ClauseKind, keyword: string, block: BlockKind): string {
  if (kind === "Where") return "use `when` (`where` filters events in `detect` rules)";
  if (block === "detect" && kind === "When") return "use `where`";
  if (block === "detect" && kind === "Unless") return "use `where not (...)`";
  if (block === "detect" && kind === "Require") return "a detect rule states its condition with `where`";
  if (block === "deny" && (kind === "Require" || kind === "RequireMfa")) {
    return "requirements belong in `allow` rules; a `deny` rule states its conditions with `when` and `unless`";
  }
  if (DETECT_ONLY.has(kind)) return `\`${keyword}\` belongs in a \`detect\` rule`;
  if (MESH_ONLY.has(kind)) return `\`${keyword}\` belongs in a \`mesh\` block`;
  if (ENCRYPTION_ONLY.has(kind)) return `\`${keyword}\` belongs in an \`encryption\` block`;
  if (kind === "RequireMfa") return "`require mfa` belongs in an `allow` rule";
  if (kind === "RequireKeyAge") return "`require key_age` belongs in an `encryption` or `mesh` block";
  if (kind === "Require" && block === "encryption") {
    return "an encryption block takes `require cipher`, `require key_age`, `require tee` and `require aad`";
  }
  return `${BLOCK_NAME[block]} does not take \`${keyword}\``;
}

export function placeClauses(clauses: ParsedClause[], block: BlockKind, report: (d: Diagnostic) => void): AnyClause[] {
  const takes = TAKES[block];
  const kept: AnyClause[] = [];
  const seen = new Map<ClauseKind, ParsedClause>();
  for (const pc of clauses) {
    const kind = pc.clause.kind;
    if (!takes.has(kind)) {
      report(diagnostic("SP1010", pc.keywordSpan, { clause: pc.keyword, block: BLOCK_NAME[block] }, { hint: hintFor(kind, pc.keyword, block) }));
      continue;
    }
    if (ONCE.has(kind)) {
      const first = seen.get(kind);
      if (first !== undefined) {
        const hint = kind === "Sequence" ? "a detect rule has one `sequence` or `all`; keep one" : undefined;
        report(
          diagnostic(
            "SP1011",
            pc.keywordSpan,
            { clause: pc.keyword, block: BLOCK_NAME[block] },
            { ...(hint !== undefined ? { hint } : {}), related: [{ message: `the first \`${first.keyword}\``, span: first.keywordSpan }] },
          ),
        );
        continue;
      }
      seen.set(kind, pc);
    }
    kept.push(pc.clause);
  }
  return kept;
}
