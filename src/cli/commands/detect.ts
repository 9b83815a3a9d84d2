/**
 * `swarm-policy detect PATH... --events FILE|- [--lateness D]`: run the
 * `detect` rules over a JSONL event stream. Alerts go to stdout, one JSON
 * object per line, as they fire; a summary (events, alerts per rule with
 * their non-zero missing-field / evicted-group / error counts, skipped
 * lines) goes to stderr at the end, and a progress line on a terminal.
 *
 * The file is read line by line (json-lines.ts), so memory stays bounded by
 * the detector's windows, not by the size of the input. A line that is not
 * JSON, or longer than MAX_LINE_BYTES, is reported with its number and
 * skipped; the stream goes on. Writing alerts waits for a slow reader of
 * stdout, and a reader that is gone ends the run (unless --risk-out needs the
 * rest of the stream). Exit 0 when the stream
 * was read (alerts or not), 1 when the policies have errors, 2 when the
 * events cannot be read.
 */
import type { Command } from "commander";
import { createReadStream } from "node:fs";
import { loadEngineOrReport } from "../engine.js";
import { readRiskOption, writeRiskSnapshot } from "../risk-file.js";
import { MemoryRiskStore } from "../../evaluator/stores.js";
import { CliError, type CliContext } from "../context.js";
import { fsReason } from "../fs-reason.js";
import { checkOutputFile } from "../output-path.js";
import { parseDurationOption } from "../duration-option.js";
import { readPolicySources } from "../sources.js";
import { jsonLines, NotUtf8Line } from "../json-lines.js";
import type { Alert, DetectorStats } from "../../index.js";
import { pruneEvents } from "../../runtime/siem/nesting.js";
import { notJsonReason } from "../../diagnostics/json-syntax.js";
import { printable } from "../printable.js";

const PROGRESS_EVERY = 50_000;
const MAX_REPORTED = 20;
/** A longer line is skipped as malformed, and never held whole. */
export const MAX_LINE_BYTES = 16 * 2 ** 20;

function parseLateness(raw: string | undefined): number {
  return raw === undefined ? 0 : parseDurationOption("--lateness", raw, { positive: false });
}

/**
 * The stderr summary: totals, then one line per rule that alerted or has a
 * non-zero missingField / evictedGroups / errors count (by rule name, as
 * alerts name rules), then the first problems.
 */
/** An alert as a JSONL line; an event too deep for JSON.stringify is written to 256 levels (nesting.ts), at no cost to the others. */
function alertLine(a: Alert): string {
  try {
    return JSON.stringify(a) + "\n";
  } catch {
    return JSON.stringify({ ...a, events: pruneEvents(a.events) }) + "\n";
  }
}

export function summaryText(stats: DetectorStats, alertsByRule: ReadonlyMap<string, number>, badLines: number, reported: readonly string[]): string {
  // Events are those read (late ones included); a malformed one is a skipped line, so the two add up to the non-blank lines.
  const lines = [`${stats.events - stats.malformed} events, ${stats.alerts} alerts, ${badLines} lines skipped, ${stats.late} late`];
  const perRule = new Map<string, { alerts: number; missingField: number; evictedGroups: number; errors: number }>();
  const of = (name: string) => {
    let r = perRule.get(name);
    if (r === undefined) perRule.set(name, (r = { alerts: 0, missingField: 0, evictedGroups: 0, errors: 0 }));
    return r;
  };
  for (const [name, n] of alertsByRule) of(name).alerts += n;
  for (const [id, r] of Object.entries(stats.rules)) {
    if (r.missingField === 0 && r.evictedGroups === 0 && r.errors === 0) continue;
    const c = of(id.slice(id.indexOf("/") + 1));
    c.missingField += r.missingField;
    c.evictedGroups += r.evictedGroups;
    c.errors += r.errors;
  }
  for (const [name, r] of [...perRule].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const extra: string[] = [];
    if (r.missingField > 0) extra.push(`missing field: ${r.missingField}`);
    if (r.evictedGroups > 0) extra.push(`evicted groups: ${r.evictedGroups}`);
    if (r.errors > 0) extra.push(`errors: ${r.errors}`);
    lines.push(`  ${name}: ${r.alerts}${extra.length > 0 ? ` (${extra.join(", ")})` : ""}`);
  }
  for (const r of reported) lines.push(`  ${r}`);
  const unreported = badLines + stats.late - reported.length;
  if (unreported > 0) lines.push(`  ... and ${unreported} more`);
  // Rule names and problems come from policies and events: no escape sequence reaches the terminal.
  return lines.map(printable).join("\n");
}

export function register(program: Command, cli: CliContext): void {
  program
    .command("detect")
    .summary("run detect rules over a JSONL event stream; alerts as JSONL")
    .description(
      "Run the `detect` rules over events, one JSON object per line (JSONL).\n" +
        "Alerts are written to stdout as JSONL while the stream is read; a summary goes to stderr.\n" +
        "Lines that are not JSON, or events without a valid @timestamp, are reported and skipped.\n" +
        "Exits 0 when the stream was read, 1 when the policies have errors, 2 when the events cannot be read.",
    )
    .argument("<paths...>", "policy files, or directories searched recursively for *.policy")
    .requiredOption("-e, --events <file>", "JSONL events file, or - for standard input")
    .option("--lateness <duration>", "how far behind the newest event time an event may arrive and still be grouped", "0s")
    .option("--risk <file>", "start from this risk snapshot (what risk() and quarantined() read; --risk-out then writes it with this run's raises)")
    .option("--risk-out <file>", "when the stream ends, write what `then risk` / `then quarantine` raised (a snapshot for --risk)")
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  $ swarm-policy detect policies/ --events auth.jsonl > alerts.jsonl\n" +
        "  $ tail -f events.jsonl | swarm-policy detect policies/ --events - --lateness 30s\n",
    )
    .action(
      cli.action(async (paths: string[], opts: { events: string; lateness?: string; risk?: string; riskOut?: string }) => {
        const allowedLatenessMs = parseLateness(opts.lateness);
        if (opts.riskOut !== undefined) await checkOutputFile(cli, opts.riskOut);
        const sources = await readPolicySources(cli, paths);
        const engine = loadEngineOrReport(cli, sources);
        if (engine === null) return 1;
        let line = 0;
        let badLines = 0;
        const reported: string[] = [];
        const note = (text: string) => {
          if (reported.length < MAX_REPORTED) reported.push(text);
        };
        const store = (await readRiskOption(cli, opts.risk)) ?? new MemoryRiskStore();
        const detector = engine.detector({
          risk: store,
          allowedLatenessMs,
          onProblem: (p) => {
            if (p.kind === "malformed") badLines++;
            note(`line ${line}: ${p.kind === "late" ? "late event: " : ""}${p.message}`);
          },
        });

        const input: NodeJS.ReadableStream = opts.events === "-" ? cli.io.stdinStream() : createReadStream(cli.resolve(opts.events));
        const opened = new Promise<void>((resolve, reject) => {
          input.once("error", reject);
          if (opts.events === "-") resolve();
          else (input as ReturnType<typeof createReadStream>).once("open", () => resolve());
        });
        try {
          await opened;
        } catch (err) {
          throw new CliError(`cannot read events ${opts.events}: ${fsReason(err)}`);
        }

        const progress = cli.io.stderrIsTTY;
        const started = performance.now();
        const alertsByRule = new Map<string, number>();
        const emit = (alerts: ReturnType<typeof detector.push>) => {
          for (const a of alerts) {
            alertsByRule.set(a.rule, (alertsByRule.get(a.rule) ?? 0) + 1);
            cli.io.stdout(alertLine(a));
          }
        };
        // Whether to read on after writing alerts: wait while stdout is full (a slow reader holds
        // the input back; alerts never pile up in memory), and stop once its reader is gone
        // (`| head -1`, which would otherwise wait forever on `tail -f`), unless --risk-out
        // still needs the whole stream.
        let stdoutGone = false;
        const readOn = async (): Promise<boolean> => {
          if (stdoutGone || cli.io.stdoutReady === undefined) return true;
          stdoutGone = !(await cli.io.stdoutReady());
          return !stdoutGone || opts.riskOut !== undefined;
        };
        const lines = jsonLines(input as AsyncIterable<Buffer | string>, MAX_LINE_BYTES);
        for (;;) {
          let next: IteratorResult<string | null | NotUtf8Line>;
          try {
            next = await lines.next();
          } catch (err) {
            throw new CliError(`cannot read events ${opts.events}: ${fsReason(err)}`);
          }
          if (next.done === true) break;
          const text = next.value;
          line++;
          if (text === null) {
            badLines++;
            note(`line ${line}: longer than ${MAX_LINE_BYTES} bytes`);
            continue;
          }
          if (text instanceof NotUtf8Line) {
            badLines++;
            note(`line ${line}: ${text.message}`);
            continue;
          }
          if (text.trim() === "") continue;
          let event: unknown;
          try {
            event = JSON.parse(text);
          } catch (err) {
            badLines++;
            // Where it broke, not JSON.parse's message: that quotes the line, and a log line is anyone's text.
            note(`line ${line}: not JSON: ${notJsonReason(text, err)}`);
            continue;
          }
          const alerts = detector.push(event);
          emit(alerts);
          if (alerts.length > 0 && !(await readOn())) {
            await lines.return(null); // ends the read of the input (closes the file, or stdin)
            break;
          }
          if (progress && line % PROGRESS_EVERY === 0) {
            const rate = Math.round(line / Math.max(0.001, (performance.now() - started) / 1000));
            cli.io.stderr(`\r${line} lines, ${detector.stats().alerts} alerts, ${rate} events/s`);
          }
        }
        emit(detector.flush());
        if (progress) cli.io.stderr("\r\x1b[K");
        if (stdoutGone && opts.riskOut === undefined) cli.io.stderr("stopped reading events: standard output was closed\n");

        cli.io.stderr(summaryText(detector.stats(), alertsByRule, badLines, reported) + "\n");
        if (opts.riskOut !== undefined) await writeRiskSnapshot(cli, opts.riskOut, store);
        return 0;
      }),
    );
}
