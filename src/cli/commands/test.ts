/**
 * `swarm-policy test PATH... [--coverage] [--threshold N] [--strict]`: run
 * every `test` block. Prints each failure with the expected and actual
 * outcome and the span; the last line is always "N passed, N failed". Exit
 * 1 on any failure, on policy errors, or (with --threshold) on clause
 * coverage below N percent. Two ways a run can show nothing are warned
 * about on stderr, and fail with --strict (exit 1): no test ran (none
 * written, or --filter matched none), and a test that passed on an input
 * the engine refused before any rule ran. Without --strict they keep the
 * contract's exit codes (0 when nothing failed).
 */
import { Option, type Command } from "commander";
import { runPolicyTests, displayPath, type TestRun } from "../../index.js";
import { loadEngineOrReport } from "../engine.js";
import { CliError, type CliContext } from "../context.js";
import { jsonWithDisplayPaths } from "../json-spans.js";
import { printable } from "../printable.js";
import { readPolicySources } from "../sources.js";

interface TestOptions {
  coverage: boolean;
  threshold?: string;
  filter?: string;
  strict: boolean;
  format: "text" | "json";
}

function parseThreshold(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  // A plain decimal: Number() would take "" and " " as 0, and "0x10" or "1e1" as other numbers.
  const n = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new CliError(`--threshold must be a number from 0 to 100, got ${JSON.stringify(raw)}`);
  return n;
}

/**
 * A value as one line of JSON that is safe on a terminal: JSON.stringify
 * escapes U+0000-U+001F only, and a reason or value from the policy text may
 * hold a C1 control (U+009B is CSI) or a line separator.
 */
function printableJson(v: unknown): string {
  return printable(JSON.stringify(v));
}

/**
 * Clause coverage below `threshold` percent, from the exact counts: the
 * printed percentage is rounded down to a tenth, and the gate must not depend
 * on how it is printed.
 */
function belowThreshold(run: TestRun, threshold: number | undefined): boolean {
  const cov = run.coverage;
  if (threshold === undefined || cov === undefined || cov.clausesTotal === 0) return false;
  return (cov.clausesTotal - cov.clausesMissed.length) * 100 < threshold * cov.clausesTotal;
}

function renderRun(run: TestRun, cwd: string, threshold: number | undefined): string {
  const out: string[] = [];
  // Test and rule names, failure messages and paths come from the policy text and the file system, and
  // must not reach the terminal as escape sequences (clearing lines, hiding a FAIL in a CI log).
  const where = (s: { file: string; line: number; column: number }) => `${printable(displayPath(s.file, { cwd }))}:${s.line}:${s.column}`;
  for (const r of run.results) {
    if (r.status === "passed" && r.refused !== undefined) {
      out.push(`ok    ${printable(r.id)}`, `  warning: passed on an input the engine refused before any rule ran: ${printable(r.refused.join("; "))} (--strict fails it)`);
    } else if (r.status === "passed") out.push(`ok    ${printable(r.id)}`);
    else if (r.status === "skipped") out.push(`skip  ${printable(r.id)}: ${printable(r.skipReason ?? "")}`);
    else {
      out.push(`FAIL  ${printable(r.id)}`, `  --> ${where(r.span)}`);
      for (const f of r.failures) {
        out.push(`  ${where(f.span)}: ${printable(f.message)}`);
        if (f.expected !== undefined) out.push(`      expected: ${printableJson(f.expected)}`);
        if (f.actual !== undefined) out.push(`      actual:   ${printableJson(f.actual)}`);
      }
      const d = r.decision as { decision?: string; rule?: string | null; reasons?: unknown; errors?: unknown[] } | undefined;
      if (d && "decision" in d) {
        out.push(`      decision: ${printable(String(d.decision))} (rule ${printable(d.rule ?? "none")}), reasons ${printableJson(d.reasons)}`);
        if (d.errors && d.errors.length > 0) out.push(`      errors:   ${printableJson(d.errors)}`);
      }
    }
  }
  const cov = run.coverage;
  if (cov) {
    out.push("", `coverage: ${cov.percent}% of ${cov.clausesTotal} clauses, ${cov.rulesTotal - cov.rulesMissed.length}/${cov.rulesTotal} rules exercised`);
    for (const id of cov.rulesMissed) out.push(`  rule never reached: ${printable(id)}`);
    for (const c of cov.clausesMissed) out.push(`  clause never evaluated: ${where(c.span)} \`${printable(c.clause)}\` in ${printable(c.rule)}`);
    if (belowThreshold(run, threshold)) out.push(`coverage ${cov.percent}% is below the threshold ${threshold}%`);
  }
  if (run.skipped > 0) out.push(`${run.skipped} skipped`);
  out.push(`${run.passed} passed, ${run.failed} failed`);
  return out.join("\n") + "\n";
}

export function register(program: Command, cli: CliContext): void {
  program
    .command("test")
    .summary("run the test blocks of policy files")
    .description(
      "Run every `test` block in the policy files against the compiled policies.\n" +
        'The last line is "N passed, N failed". Exits 1 on any failed test, on policy errors,\n' +
        "or when --threshold is given and clause coverage is below it; 2 on unreadable paths.\n" +
        "Warns on stderr when no test ran (none written, or --filter matched none) and when a\n" +
        "test passed on an input the engine refused before any rule ran; --strict makes both fail.",
    )
    .argument("<paths...>", "policy files, or directories searched recursively for *.policy")
    .option("--coverage", "list rules and clauses no test exercised", false)
    .option("--threshold <percent>", "fail below this clause coverage (implies --coverage)")
    .option("--filter <text>", "run only tests whose id (package/name) contains this text")
    .option("--strict", "fail when no test ran, and fail tests that pass on an input refused before any rule ran", false)
    .addOption(new Option("-f, --format <format>", "output format").choices(["text", "json"]).default("text"))
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  $ swarm-policy test policies/\n" +
        "  $ swarm-policy test --coverage --threshold 90 policies/\n" +
        "  $ swarm-policy test --strict policies/\n",
    )
    .action(
      cli.action(async (paths: string[], opts: TestOptions) => {
        const threshold = parseThreshold(opts.threshold);
        const coverage = opts.coverage || threshold !== undefined;
        const sources = await readPolicySources(cli, paths);
        const engine = loadEngineOrReport(cli, sources);
        if (engine === null) {
          // Nothing ran; stdout stays in the format asked for (a JSON reader must get JSON).
          const empty: TestRun = { results: [], passed: 0, failed: 0, skipped: 0 };
          cli.io.stdout(opts.format === "json" ? JSON.stringify(empty, null, 2) + "\n" : "0 passed, 0 failed\n");
          return 1;
        }
        const run = runPolicyTests(engine.files, engine, { coverage, strict: opts.strict, ...(opts.filter !== undefined ? { filter: opts.filter } : {}) });
        if (opts.format === "json") {
          cli.io.stdout(jsonWithDisplayPaths(cli, sources, run));
        } else {
          cli.io.stdout(renderRun(run, cli.io.cwd, threshold));
        }
        const refused = run.results.filter((r) => r.status === "passed" && r.refused !== undefined).length;
        if (refused > 0) {
          cli.io.stderr(`swarm-policy: warning: ${refused} test(s) passed on an input the engine refused before any rule ran; --strict fails them\n`);
        }
        if (run.results.length === 0) {
          // A set without tests, or a mistyped --filter, has shown nothing; a CI gate that must not pass then uses --strict.
          const why = opts.filter !== undefined ? `no test id contains ${JSON.stringify(opts.filter)}` : "the policies hold no `test` block";
          if (opts.strict) {
            cli.io.stderr(`swarm-policy: no tests ran: ${printable(why)}\n`);
            return 1;
          }
          cli.io.stderr(`swarm-policy: warning: no tests ran: ${printable(why)} (--strict fails the run)\n`);
        }
        return run.failed > 0 || belowThreshold(run, threshold) ? 1 : 0;
      }),
    );
}
