/**
 * `swarm-policy check PATH... [--format text|json|sarif]`: syntax, names,
 * types and schemas, without lint. Exit 1 when there are errors.
 */
import type { Command } from "commander";
import { analyze, hasErrors } from "../../index.js";
import type { CliContext } from "../context.js";
import { formatOption, writeDiagnostics, type ReportFormat } from "../report.js";
import { readPolicySources } from "../sources.js";

export function register(program: Command, cli: CliContext): void {
  program
    .command("check")
    .summary("check policies for syntax, name, type and schema errors")
    .description(
      "Check policy files for syntax, name, type and schema errors (no lint warnings).\n" +
        "Exits 1 when any error is found, 2 when a path cannot be read.",
    )
    .argument("<paths...>", "policy files, or directories searched recursively for *.policy")
    .addOption(formatOption())
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  $ swarm-policy check policies/\n" +
        "  $ swarm-policy check --format sarif policies/ > swarm-policy.sarif\n",
    )
    .action(
      cli.action(async (paths: string[], opts: { format: ReportFormat }) => {
        const sources = await readPolicySources(cli, paths);
        const result = analyze(sources, { lint: false });
        writeDiagnostics(cli, result.diagnostics, result.sources, opts.format);
        return hasErrors(result.diagnostics) ? 1 : 0;
      }),
    );
}
