/**
 * `swarm-policy lint PATH... [--format text|json|sarif] [--strict]`: check
 * plus the lint rules. Exit 1 on errors, or on warnings with --strict.
 */
import type { Command } from "commander";
import { analyze, countSeverities } from "../../index.js";
import type { CliContext } from "../context.js";
import { formatOption, writeDiagnostics, type ReportFormat } from "../report.js";
import { readPolicySources } from "../sources.js";

export function register(program: Command, cli: CliContext): void {
  program
    .command("lint")
    .summary("check policies and run the lint rules")
    .description(
      "Check policy files and run the lint rules (SP3xxx warnings).\n" +
        "Exits 1 when any error is found, or any warning with --strict; 2 when a path cannot be read.\n" +
        "Silence one warning with `# lint:ignore SP3xxx` on the line above it.",
    )
    .argument("<paths...>", "policy files, or directories searched recursively for *.policy")
    .addOption(formatOption())
    .option("--strict", "exit 1 on warnings too", false)
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  $ swarm-policy lint --strict policies/\n" +
        "  $ swarm-policy lint --format json policies/access.policy\n",
    )
    .action(
      cli.action(async (paths: string[], opts: { format: ReportFormat; strict: boolean }) => {
        const sources = await readPolicySources(cli, paths);
        const result = analyze(sources, { lint: true });
        writeDiagnostics(cli, result.diagnostics, result.sources, opts.format);
        const { errors, warnings } = countSeverities(result.diagnostics);
        return errors > 0 || (opts.strict && warnings > 0) ? 1 : 0;
      }),
    );
}
