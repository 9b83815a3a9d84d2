/**
 * `swarm-policy eval PATH... --input FILE|- [--kind access|encryption|mesh]
 * [--explain]`: the decision JSON for one input (an object), or a JSON array
 * of decisions for a list of inputs (evaluated as one batch).
 *
 * Exit 0 with a decision, whatever it is; 1 when the policies have errors
 * (the decision is still printed: it fails closed); 2 when the input cannot
 * be read or is not JSON.
 */
import { Option, type Command } from "commander";
import { readFile } from "node:fs/promises";
import { Engine, hasErrors, utf8Problem } from "../../index.js";
import { reportPolicyErrors } from "../engine.js";
import { CliError, type CliContext } from "../context.js";
import { fsReason } from "../fs-reason.js";
import { jsonWithDisplayPaths } from "../json-spans.js";
import { readPolicySources } from "../sources.js";
import { RISK_OPTION_HELP, readRiskOption } from "../risk-file.js";
import { notJsonReason } from "../../diagnostics/json-syntax.js";

interface EvalOptions {
  input: string;
  kind?: "access" | "encryption" | "mesh";
  explain: boolean;
  risk?: string;
}

async function readInput(cli: CliContext, where: string): Promise<unknown> {
  let text: string;
  try {
    if (where === "-") text = await cli.io.readStdin();
    else {
      // The input decides: decoded with U+FFFD, a Latin-1 "josé" would not be the josé a deny rule names.
      const bytes = await readFile(cli.resolve(where));
      const bad = utf8Problem(bytes);
      if (bad !== undefined) throw new Error(bad);
      text = bytes.toString("utf8");
    }
  } catch (err) {
    throw new CliError(`cannot read input ${where}: ${fsReason(err)}`);
  }
  // A leading byte-order mark is dropped, as for policy files and event streams.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`input ${where === "-" ? "(stdin)" : where} is not valid JSON: ${notJsonReason(text, err)}`);
  }
}

function withKind(input: unknown, kind: string | undefined): unknown {
  if (kind === undefined || typeof input !== "object" || input === null || Array.isArray(input)) return input;
  return { ...input, kind };
}

export function register(program: Command, cli: CliContext): void {
  program
    .command("eval")
    .summary("evaluate one input (or a list) and print the decision JSON")
    .description(
      "Evaluate an input against the policies and print the decision as JSON.\n" +
        "The input is a JSON object ({ principal, action, resource, context, time? } for access),\n" +
        "or an array of them (evaluated as a batch, printed as an array).\n" +
        "Exits 0 with a decision, 1 when the policies have errors (the decision fails closed),\n" +
        "2 when the input cannot be read or is not JSON.",
    )
    .argument("<paths...>", "policy files, or directories searched recursively for *.policy")
    .requiredOption("-i, --input <file>", "input JSON file, or - for standard input")
    .addOption(new Option("-k, --kind <kind>", "input kind, overriding the input's own `kind`").choices(["access", "encryption", "mesh"]))
    .option("--explain", "add every rule considered and every clause's value, with spans", false)
    .option("--risk <file>", RISK_OPTION_HELP)
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  $ swarm-policy eval policies/ --input request.json\n" +
        "  $ echo '{\"data\":{\"classification\":\"phi\"}}' | swarm-policy eval policies/ --kind encryption --input -\n",
    )
    .action(
      cli.action(async (paths: string[], opts: EvalOptions) => {
        const raw = await readInput(cli, opts.input);
        const sources = await readPolicySources(cli, paths);
        const risk = await readRiskOption(cli, opts.risk);
        const engine = new Engine(sources, [], risk !== undefined ? { risk } : {});
        const broken = hasErrors(engine.diagnostics);
        if (broken) reportPolicyErrors(cli, engine, sources);
        const options = { explain: opts.explain };
        const out = Array.isArray(raw)
          ? engine.evaluateBatch(raw.map((x) => withKind(x, opts.kind)), options)
          : engine.evaluate(withKind(raw, opts.kind), options);
        cli.io.stdout(jsonWithDisplayPaths(cli, sources, out));
        return broken ? 1 : 0;
      }),
    );
}
