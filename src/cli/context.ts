/**
 * What every verb gets: the process's streams, working directory and
 * environment behind a small interface (so tests run `main` in-process with
 * their own), and the error type that means "bad usage or unreadable input".
 *
 * A verb is one file in src/cli/commands/ exporting `register(program, cli)`;
 * main.ts finds and registers every such file, so adding a verb touches
 * nothing else. Register with `program.command(...)` (it inherits the
 * program's output routing and error handling) and wrap the handler with
 * `cli.action(...)`; the handler returns the exit code.
 */
import path from "node:path";
import type { Command } from "commander";
import { utf8Problem } from "../index.js";

export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** All of standard input, for `--input -` and the like. */
  readStdin(): Promise<string>;
  /** Standard input as a stream, for verbs that must not hold it all (`detect --events -`). */
  stdinStream(): NodeJS.ReadableStream;
  /**
   * Resolves when stdout can take more output: true, or false once its reader is gone (EPIPE).
   * A verb that writes while it reads an unbounded stream (`detect`) waits on it, so a slow
   * reader holds the input back instead of output piling up in memory. Absent: always ready.
   */
  stdoutReady?(): Promise<boolean>;
  /** Relative paths on the command line are relative to this directory. */
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
}

/**
 * Bad usage or unreadable input: reported as `swarm-policy: <message>`, one
 * line per line of the message, never with a stack trace. Exit code 2
 * unless said otherwise.
 */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

/** A verb's handler: commander's action arguments in, exit code out. */
export type VerbHandler = (...args: any[]) => number | Promise<number>;

export class CliContext {
  readonly io: CliIO;
  /** The package's version (tool.driver.version in SARIF, `--version`). */
  readonly version: string;
  /** The exit code so far: the highest any handler returned. */
  exitCode = 0;

  constructor(io: CliIO, version: string) {
    this.io = io;
    this.version = version;
  }

  /** A command-line path, absolute, taken relative to the working directory. */
  resolve(p: string): string {
    return path.resolve(this.io.cwd, p);
  }

  /** Wrap a verb's handler for commander's `.action()`, keeping its exit code. */
  action(handler: VerbHandler): (...args: unknown[]) => Promise<void> {
    return async (...args: unknown[]) => {
      const code = await handler(...args);
      this.exitCode = Math.max(this.exitCode, code);
    };
  }
}

/** What a file in src/cli/commands/ exports. */
export interface VerbModule {
  register(program: Command, cli: CliContext): void;
}

/**
 * The real process's IO. When the reader of stdout or stderr goes away
 * (`swarm-policy check -f json . | head`, `... 2>&1 | head`), the rest of
 * that stream's output is dropped quietly instead of crashing with EPIPE
 * (an uncaught error would also turn the verb's exit code into 1).
 */
export function processIO(): CliIO {
  let stdoutClosed = false;
  let stderrClosed = false;
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
    stdoutClosed = true;
  });
  process.stderr.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
    stderrClosed = true;
  });
  return {
    stdout: (text) => void (stdoutClosed || process.stdout.write(text)),
    stderr: (text) => void (stderrClosed || process.stderr.write(text)),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      const bytes = Buffer.concat(chunks);
      // Inputs are UTF-8: decoded with U+FFFD, a Latin-1 "josé" would be a name no rule names.
      const bad = utf8Problem(bytes);
      if (bad !== undefined) throw new Error(bad);
      return bytes.toString("utf8");
    },
    stdinStream: () => process.stdin,
    stdoutReady: () => {
      const out = process.stdout;
      if (stdoutClosed || !out.writableNeedDrain) return Promise.resolve(!stdoutClosed);
      return new Promise<boolean>((resolve) => {
        const settle = () => {
          out.off("drain", settle).off("error", settle).off("close", settle);
          resolve(!stdoutClosed);
        };
        out.on("drain", settle).on("error", settle).on("close", settle);
      });
    },
    cwd: process.cwd(),
    env: process.env,
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
  };
}
