/**
 * The command-line program: builds the commander program from every verb in
 * src/cli/commands/, runs it, and turns every way out into an exit code
 * (0 success; 1 policy errors, failed tests, drift; 2 bad usage, unreadable
 * input or an internal error). `main` never exits the process and never
 * throws, so tests call it in-process; bin.ts sets process.exitCode from it.
 */
import { readdirSync, readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { OutputIsSymlinkError, OutputNotRegularFileError, shouldColor } from "../index.js";
import { CliContext, CliError, processIO, type CliIO, type VerbModule } from "./context.js";
import { printable } from "./printable.js";
import { refuseMistakenOptionValues } from "./option-values.js";

const COMMANDS_DIR = new URL("./commands/", import.meta.url);

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/** Every verb module: one file per verb (.ts when run from source, .js when built). */
async function loadVerbs(): Promise<VerbModule[]> {
  const files = readdirSync(COMMANDS_DIR)
    .filter((f) => /\.(js|ts)$/.test(f) && !f.endsWith(".d.ts"))
    .sort();
  const verbs: VerbModule[] = [];
  for (const f of files) {
    const mod = (await import(new URL(f, COMMANDS_DIR).href)) as Partial<VerbModule>;
    if (typeof mod.register !== "function") throw new Error(`src/cli/commands/${f} does not export register()`);
    verbs.push(mod as VerbModule);
  }
  return verbs;
}

/**
 * Commander's usage error ("error: unknown option '--x'", perhaps with a
 * "(Did you mean ...?)" line) as one line in the shape of every other error,
 * `swarm-policy: ...`. It echoes arguments back, so control characters are
 * escaped: an argument must not reach the terminal as an escape sequence.
 */
function usageErrorLine(message: string): string {
  const text = message.replace(/^error: /, "").trim().split("\n").map((line) => line.trim()).filter(Boolean).join(" ");
  return `swarm-policy: ${printable(text)} (add --help for usage)\n`;
}

/** The program with its verbs registered, writing through `cli.io`. */
export async function buildProgram(cli: CliContext): Promise<Command> {
  const { io } = cli;
  const program = new Command("swarm-policy")
    .description("Policy-as-code for zero-trust access, encryption, WireGuard mesh admission and SIEM detection.")
    .version(cli.version, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      outputError: (s, write) => write(usageErrorLine(s)),
      getOutHelpWidth: () => 100,
      getErrHelpWidth: () => 100,
      getOutHasColors: () => shouldColor(io.stdoutIsTTY, io.env),
      getErrHasColors: () => shouldColor(io.stderrIsTTY, io.env),
    })
    .addHelpText("after", "\nExample:\n  $ swarm-policy lint --strict policies/\n");
  for (const verb of await loadVerbs()) verb.register(program, cli);
  program.hook("preAction", (_program, actionCommand) => refuseMistakenOptionValues(actionCommand));
  return program;
}


/**
 * `help A B` (and `A help B`) as `A B --help`. Commander's help command takes
 * one name: `help mesh plan` showed the help of `mesh`, and `help frobnicate`
 * printed the whole usage on stderr instead of naming the unknown command.
 * Arguments of a verb without subcommands (`check help`, a path) are left alone.
 */
function helpAsOption(program: Command, args: readonly string[]): string[] {
  const find = (cmd: Command, name: string) => cmd.commands.find((c) => c.name() === name || c.aliases().includes(name));
  let cmd = program;
  let at = 0;
  for (; at < args.length && args[at] !== "help"; at++) {
    const sub = find(cmd, args[at]!);
    if (sub === undefined) return [...args];
    cmd = sub;
  }
  if (at >= args.length || cmd.commands.length === 0) return [...args];
  const words = args.slice(at + 1).filter((w) => w !== "help"); // `help help`: the help of the command itself
  if (words.some((w) => w.startsWith("-"))) return [...args];
  for (const w of words) {
    const sub = find(cmd, w);
    if (sub === undefined) throw new CliError(`unknown command '${[...args.slice(0, at), ...words].join(" ")}' (add --help for usage)`);
    cmd = sub;
  }
  return [...args.slice(0, at), ...words, "--help"];
}

/**
 * The one place errors become exit codes. Commander has already printed
 * its own usage errors; ours are printed here, without stack traces (set
 * SWARM_POLICY_DEBUG to see one for an internal error).
 */
export function handleError(err: unknown, io: CliIO): number {
  if (err instanceof CommanderError) {
    // --help and --version end parsing "successfully"; every other commander error is bad usage.
    return err.exitCode === 0 ? 0 : 2;
  }
  // An output path that is a planted symlink or a special file: refused before anything was written (bad usage).
  if (err instanceof OutputIsSymlinkError || err instanceof OutputNotRegularFileError) err = new CliError(err.message, 2);
  if (err instanceof CliError) {
    for (const line of err.message.split("\n")) io.stderr(`swarm-policy: ${printable(line)}\n`);
    return err.exitCode;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  io.stderr(`swarm-policy: internal error: ${printable(e.message)}\n`);
  if (io.env.SWARM_POLICY_DEBUG && e.stack) io.stderr(`${e.stack}\n`);
  return 2;
}

/**
 * Run the CLI. `argv` is process.argv-shaped: node, script, then arguments.
 * Resolves to the exit code.
 */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  try {
    const cli = new CliContext(io, packageVersion());
    const program = await buildProgram(cli);
    await program.parseAsync([...argv.slice(0, 2), ...helpAsOption(program, argv.slice(2))], { from: "node" });
    return cli.exitCode;
  } catch (err) {
    return handleError(err, io);
  }
}
