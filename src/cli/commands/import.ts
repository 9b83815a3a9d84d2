/**
 * `swarm-policy import json-rules-engine|sigma FILE...`: convert rules from
 * another engine into one `.policy` file on stdout. Every source rule that
 * cannot be converted is named on stderr (`rule NAME: cannot convert: WHY`)
 * and makes the exit code 1; unreadable or invalid input is exit 2.
 * `--pipeline NAME|FILE` (sigma only) maps Sigma log sources and fields.
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import {
  convertJsonRulesEngine,
  convertSigma,
  displayPath,
  ImportInputError,
  loadSigmaPipeline,
  SIGMA_PIPELINES,
  type ImportResult,
  type SigmaPipeline,
} from "../../index.js";
import { CliError, type CliContext } from "../context.js";
import { fsReason } from "../fs-reason.js";
import { printable } from "../printable.js";
import { notJsonReason } from "../../diagnostics/json-syntax.js";

interface SourceFile {
  name: string;
  text: string;
}

interface ImportOptions {
  pipeline?: string;
}

type Importer = (files: SourceFile[], opts: ImportOptions, cli: CliContext) => Promise<ImportResult>;

async function importJsonRulesEngine(files: SourceFile[], opts: ImportOptions): Promise<ImportResult> {
  if (opts.pipeline !== undefined) throw new CliError("--pipeline is for `import sigma` only");
  const sources = files.map((f) => {
    try {
      return { name: f.name, doc: JSON.parse(f.text) as unknown };
    } catch (err) {
      throw new CliError(`${f.name} is not valid JSON: ${notJsonReason(f.text, err)}`);
    }
  });
  try {
    return convertJsonRulesEngine(sources);
  } catch (err) {
    if (err instanceof ImportInputError) {
      const which = sources.length === 1 ? `${sources[0]!.name}: ` : "";
      throw new CliError(`${which}not a json-rules-engine rule set: ${err.message}`);
    }
    throw err;
  }
}

/** A built-in pipeline by name, else a pipeline file. */
async function sigmaPipeline(spec: string, cli: CliContext): Promise<SigmaPipeline> {
  const builtin = Object.prototype.hasOwnProperty.call(SIGMA_PIPELINES, spec) ? SIGMA_PIPELINES[spec] : undefined;
  if (builtin !== undefined) return builtin;
  const { name, text } = await readSource(spec, cli, `pipeline \`${spec}\` is neither built in (${Object.keys(SIGMA_PIPELINES).join(", ")}) nor a readable file`);
  return loadSigmaPipeline({ name, text });
}

async function importSigma(files: SourceFile[], opts: ImportOptions, cli: CliContext): Promise<ImportResult> {
  try {
    const pipeline = opts.pipeline === undefined ? undefined : await sigmaPipeline(opts.pipeline, cli);
    return convertSigma(files, { pipeline });
  } catch (err) {
    if (err instanceof ImportInputError) throw new CliError(err.message);
    throw err;
  }
}

/** Source formats by name. */
const IMPORTERS: Record<string, Importer> = {
  "json-rules-engine": importJsonRulesEngine,
  sigma: importSigma,
};

async function readSource(file: string, cli: CliContext, enoent?: string): Promise<SourceFile> {
  const abs = cli.resolve(file);
  const name = displayPath(abs, { cwd: cli.io.cwd });
  try {
    return { name, text: await readFile(abs, "utf8") };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && enoent !== undefined) throw new CliError(enoent);
    throw new CliError(`cannot read ${name}: ${fsReason(err)}`);
  }
}

export function register(program: Command, cli: CliContext): void {
  program
    .command("import")
    .summary("convert rules from another engine into a .policy file")
    .description(
      "Convert rules from another engine into one .policy file, printed on stdout.\n" +
        "Formats: " + Object.keys(IMPORTERS).join(", ") + ".\n" +
        "Each rule that cannot be converted is reported on stderr as `rule NAME: cannot convert: WHY`\n" +
        "and left out; the exit code is then 1. Unreadable or invalid input exits 2.\n" +
        "Sigma: detection and correlation rules (YAML) become detect blocks; --pipeline maps\n" +
        "log sources and field names (built in: " + Object.keys(SIGMA_PIPELINES).join(", ") + "; or a pipeline YAML file, docs/sigma.md).",
    )
    .argument("<format>", "the source format: " + Object.keys(IMPORTERS).join(", "))
    .argument("<files...>", "rule files (JSON for json-rules-engine, YAML for sigma)")
    .option("--pipeline <name|file>", "sigma: a built-in pipeline (" + Object.keys(SIGMA_PIPELINES).join(", ") + ") or a pipeline YAML file")
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  $ swarm-policy import json-rules-engine rules.json > imported.policy\n" +
        "  $ swarm-policy import json-rules-engine rules.json 2> unconverted.txt\n" +
        "  $ swarm-policy import sigma --pipeline sysmon rules/windows/process_creation/*.yml > sigma.policy\n" +
        "  $ swarm-policy import sigma --pipeline my-pipeline.yml mr_brute_force.yml > correlations.policy\n",
    )
    .action(
      cli.action(async (fmt: string, files: string[], opts: ImportOptions) => {
        const importer = IMPORTERS[fmt];
        if (importer === undefined) {
          throw new CliError(`unknown import format \`${fmt}\` (known: ${Object.keys(IMPORTERS).join(", ")})`);
        }
        const sources: SourceFile[] = [];
        for (const f of files) sources.push(await readSource(f, cli));
        const result = await importer(sources, opts, cli);
        cli.io.stdout(result.policy);
        // Names and reasons quote the input files (titles, field names): escape what a terminal would obey.
        for (const p of result.problems) cli.io.stderr(`${printable(`rule ${p.rule}: cannot convert: ${p.reason}`)}\n`);
        return result.problems.length > 0 ? 1 : 0;
      }),
    );
}
