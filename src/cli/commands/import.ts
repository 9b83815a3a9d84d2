/**
 * `swarm-policy import json-rules-engine FILE...`: convert rule sets from
 * another engine into one `.policy` file on stdout. Every source rule that
 * cannot be converted is named on stderr (`rule NAME: cannot convert: WHY`)
 * and makes the exit code 1; unreadable or invalid JSON is exit 2.
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { convertJsonRulesEngine, displayPath, ImportInputError, type ImportResult } from "../../index.js";
import { CliError, type CliContext } from "../context.js";

interface SourceFile {
  name: string;
  text: string;
}

type Importer = (files: SourceFile[]) => ImportResult;

function importJsonRulesEngine(files: SourceFile[]): ImportResult {
  const sources = files.map((f) => {
    try {
      return { name: f.name, doc: JSON.parse(f.text) as unknown };
    } catch (err) {
      throw new CliError(`${f.name} is not valid JSON: ${(err as Error).message}`);
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

/** Source formats by name; `sigma` joins here when its importer lands. */
const IMPORTERS: Record<string, Importer> = {
  "json-rules-engine": importJsonRulesEngine,
};

export function register(program: Command, cli: CliContext): void {
  program
    .command("import")
    .summary("convert rules from another engine into a .policy file")
    .description(
      "Convert rules from another engine into one .policy file, printed on stdout.\n" +
        "Formats: " + Object.keys(IMPORTERS).join(", ") + ".\n" +
        "Each rule that cannot be converted is reported on stderr as `rule NAME: cannot convert: WHY`\n" +
        "and left out; the exit code is then 1. Unreadable or invalid input exits 2.",
    )
    .argument("<format>", "the source format: " + Object.keys(IMPORTERS).join(", "))
    .argument("<files...>", "rule files (JSON)")
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  $ swarm-policy import json-rules-engine rules.json > imported.policy\n" +
        "  $ swarm-policy import json-rules-engine rules.json 2> unconverted.txt\n",
    )
    .action(
      cli.action(async (fmt: string, files: string[]) => {
        const importer = IMPORTERS[fmt];
        if (importer === undefined) {
          throw new CliError(`unknown import format \`${fmt}\` (known: ${Object.keys(IMPORTERS).join(", ")})`);
        }
        const sources: SourceFile[] = [];
        for (const f of files) {
          const abs = cli.resolve(f);
          const name = displayPath(abs, { cwd: cli.io.cwd });
          try {
            sources.push({ name, text: await readFile(abs, "utf8") });
          } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            const why = code === "ENOENT" ? "no such file or directory" : code === "EISDIR" ? "is a directory" : (err as Error).message;
            throw new CliError(`cannot read ${name}: ${why}`);
          }
        }
        const result = importer(sources);
        cli.io.stdout(result.policy);
        for (const p of result.problems) cli.io.stderr(`rule ${p.rule}: cannot convert: ${p.reason}\n`);
        return result.problems.length > 0 ? 1 : 0;
      }),
    );
}
