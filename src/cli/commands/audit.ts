/**
 * `swarm-policy audit PATH... --inventory FILE [--format text|json|html]`:
 * verify an inventory of data objects against the encryption rules and
 * print a compliance report (docs/audit.md).
 *
 * Exit 0 when every record is valid and compliant; 1 when anything is
 * non-compliant or invalid, the inventory is empty, or the policies have
 * errors; 2 when the inventory cannot be read (missing, not an inventory, a
 * JSON array cut short) or the policies hold no encryption rule.
 */
import { Option, type Command } from "commander";
import {
  auditInventory,
  encryptionRuleTags,
  InventoryError,
  openInventory,
  readInventory,
  renderAuditHtml,
  renderAuditText,
  type ScannedRecord,
} from "../../index.js";
import { loadEngineOrReport } from "../engine.js";
import { CliError, type CliContext } from "../context.js";
import { parseTimeOption } from "../time-option.js";
import { parseWholeNumberOption } from "../number-option.js";
import { readPolicySources } from "../sources.js";

const FORMATS = ["text", "json", "html"] as const;

interface AuditCliOptions {
  inventory: string;
  format: (typeof FORMATS)[number];
  maxDetails: string;
  includeCompliant: boolean;
  now?: string;
}

function parseNow(raw: string | undefined): number | undefined {
  return raw === undefined ? undefined : parseTimeOption("--now", raw);
}

function parseMaxDetails(raw: string): number {
  return parseWholeNumberOption("--max-details", raw, 0, 9_999_999);
}

export function register(program: Command, cli: CliContext): void {
  program
    .command("audit")
    .summary("verify an inventory of data objects against the encryption rules")
    .description(
      "Verify an inventory of data objects (JSON Lines, or a JSON array) against the encryption rules\n" +
        "and report compliance per object, per rule and per compliance tag (HIPAA, GDPR, ISO 27001 ...).\n" +
        "Each record is a data object's attributes plus its actual state under `encryption`:\n" +
        '  {"id":"ds-1","classification":"phi","tenant_id":"t-1","encryption":{"cipher":"aes-256-gcm",\n' +
        '   "key_created_at":"2026-01-05T00:00:00Z","tee":true,"aad":["tenant_id","record_id"]}}\n' +
        "Exits 0 when every record is valid and compliant; 1 when any is non-compliant or invalid, the\n" +
        "inventory is empty, or the policies have errors; 2 when the inventory cannot be read.",
    )
    .argument("<paths...>", "policy files, or directories searched recursively for *.policy")
    .requiredOption("-i, --inventory <file>", "inventory file (.jsonl or .json), or - for standard input")
    .addOption(new Option("-f, --format <format>", "report format").choices(FORMATS).default("text"))
    .option("--max-details <n>", "most non-compliant objects (and invalid records) listed one by one", "1000")
    .option("--include-compliant", "list compliant objects too (within --max-details)", false)
    .option("--now <time>", "measure key ages at this RFC 3339 time instead of now (reproducible reports)")
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  $ swarm-policy audit policies/ --inventory objects.jsonl\n" +
        "  $ swarm-policy audit policies/ --inventory objects.jsonl --format html > audit.html\n" +
        "  $ swarm-policy audit policies/ --inventory - --format json < objects.jsonl | jq .totals\n",
    )
    .action(
      cli.action(async (paths: string[], opts: AuditCliOptions) => {
        const now = parseNow(opts.now);
        const maxDetails = parseMaxDetails(opts.maxDetails);
        const label = opts.inventory === "-" ? "(stdin)" : opts.inventory;
        let records: AsyncIterable<ScannedRecord>;
        try {
          records =
            opts.inventory === "-"
              ? readInventory(cli.io.stdinStream() as AsyncIterable<Uint8Array | string>, { label })
              : await openInventory(cli.resolve(opts.inventory), { label });
        } catch (err) {
          if (err instanceof InventoryError) throw new CliError(err.message);
          throw err;
        }
        const sources = await readPolicySources(cli, paths);
        const engine = loadEngineOrReport(cli, sources);
        if (engine === null) return 1;
        if (encryptionRuleTags(engine).size === 0) throw new CliError(`no encryption rules in ${paths.join(", ")}: there is nothing to audit against`);

        const progress = cli.io.stderrIsTTY;
        const started = Date.now();
        let report;
        try {
          report = await auditInventory(engine, records, {
            now,
            maxDetails,
            includeCompliant: opts.includeCompliant,
            inventory: label,
            onProgress: progress
              ? (n) => cli.io.stderr(`\r${n} records, ${Math.round(n / Math.max(0.001, (Date.now() - started) / 1000))} records/s`)
              : undefined,
          });
        } catch (err) {
          if (progress) cli.io.stderr("\r\x1b[K");
          if (err instanceof InventoryError) throw new CliError(err.message);
          throw err;
        }
        if (progress) cli.io.stderr("\r\x1b[K");

        switch (opts.format) {
          case "json":
            cli.io.stdout(JSON.stringify(report, null, 2) + "\n");
            break;
          case "html":
            cli.io.stdout(renderAuditHtml(report));
            break;
          case "text":
            cli.io.stdout(renderAuditText(report));
            break;
        }
        if (report.totals.records === 0) cli.io.stderr(`swarm-policy: inventory ${label} holds no records\n`);
        // Compliant because nothing applied is no audit: most likely the inventory spells values differently ("PHI").
        const valid = report.totals.records - report.totals.invalid;
        if (valid > 0 && report.rules.every((r) => r.objects === 0)) {
          cli.io.stderr(
            `swarm-policy: warning: no encryption rule applied to any of the ${valid} valid record${valid === 1 ? "" : "s"} of ${label}: ` +
              `nothing was checked; do its attributes hold the values the policies test?\n`,
          );
        }
        return report.compliant ? 0 : 1;
      }),
    );
}
