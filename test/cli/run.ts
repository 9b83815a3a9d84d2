/**
 * Runs the CLI in-process with captured streams, an explicit working
 * directory and environment (so the caller's FORCE_COLOR and the like never
 * leak in). Not a test file itself.
 */
import { Readable } from "node:stream";
import { main } from "../../src/cli/main.js";
import type { CliIO } from "../../src/cli/context.js";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  stdoutIsTTY?: boolean;
  stderrIsTTY?: boolean;
  stdin?: string;
}

export async function run(args: string[], options: RunOptions): Promise<RunResult> {
  let stdout = "";
  let stderr = "";
  const io: CliIO = {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    readStdin: async () => options.stdin ?? "",
    stdinStream: () => Readable.from([options.stdin ?? ""]),
    cwd: options.cwd,
    env: options.env ?? {},
    stdoutIsTTY: options.stdoutIsTTY ?? false,
    stderrIsTTY: options.stderrIsTTY ?? false,
  };
  const code = await main(["node", "swarm-policy", ...args], io);
  return { code, stdout, stderr };
}

/** Small policies for CLI tests: what each one must produce is stated beside it. */
export const POLICIES = {
  /** No diagnostics at all, lint included. */
  clean: 'package demo\n\nallow "read-docs" {\n  when action == "read" and resource.type == "doc"\n}\n',
  /** One SP2001 at 2:8-2:16 (`pricipal`), hinting `principal`. */
  unknownName: 'allow "ops" {\n  when pricipal.roles contains "ops"\n}\n',
  /** Lint only: SP3001, an allow rule without `when`. */
  lintWarning: 'allow "open" {\n  require mfa\n}\n',
  /** A syntax error: the expression after `==` is missing. */
  syntaxError: 'allow "broken" {\n  when action ==\n}\n',
  /** Valid, but not in the canonical layout. */
  unformatted: 'allow   "read-docs"{\nwhen action=="read"   and resource.type=="doc"\n}\n',
} as const;
