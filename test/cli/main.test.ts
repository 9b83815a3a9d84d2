import { Readable } from "node:stream";
import t from "tap";
import { readFileSync } from "node:fs";
import { buildProgram, handleError } from "../../src/cli/main.js";
import { CliContext, CliError, type CliIO } from "../../src/cli/context.js";
import type { Command } from "commander";
import { run, POLICIES } from "./run.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

t.test("--version prints the package version", async (t) => {
  const r = await run(["--version"], { cwd: t.testdir() });
  t.equal(r.code, 0);
  t.equal(r.stdout, `${pkg.version}\n`);
});

t.test("--help lists the verbs, with an example", async (t) => {
  const r = await run(["--help"], { cwd: t.testdir() });
  t.equal(r.code, 0);
  t.match(r.stdout, /^Usage: swarm-policy /);
  for (const verb of ["check", "lint", "fmt"]) t.match(r.stdout, new RegExp(`\\n  ${verb} `), verb);
  t.match(r.stdout, /Example:\n  \$ swarm-policy /);
  t.equal(r.stderr, "");
});

t.test("every verb has --help with an example", async (t) => {
  for (const verb of ["check", "lint", "fmt"]) {
    const r = await run([verb, "--help"], { cwd: t.testdir() });
    t.equal(r.code, 0, verb);
    t.match(r.stdout, new RegExp(`^Usage: swarm-policy ${verb} `), verb);
    t.match(r.stdout, new RegExp(`Examples:\\n  \\$ swarm-policy ${verb} `), verb);
  }
});

/** The command tree as the CLI builds it, over an IO that discards output. */
function quietProgram(cwd: string): Promise<Command> {
  const io: CliIO = {
    stdout: () => undefined,
    stderr: () => undefined,
    readStdin: async () => "",
    stdinStream: () => Readable.from([""]),
    cwd,
    env: {},
    stdoutIsTTY: false,
    stderrIsTTY: false,
  };
  return buildProgram(new CliContext(io, pkg.version));
}

t.test("every command is listed on one line in its parent's --help (no line break in a summary)", async (t) => {
  const program = await quietProgram(t.testdir());
  const walk = (command: Command, name: string): void => {
    for (const sub of command.commands) {
      const full = `${name} ${sub.name()}`.trim();
      // commander lists a subcommand by its summary, else its description.
      t.notMatch(sub.summary() || sub.description(), /\n/, full);
      walk(sub, full);
    }
  };
  walk(program, "");
});

t.test("every command and subcommand answers --help, -h and `help COMMAND...` on stdout, exit 0", async (t) => {
  const cwd = t.testdir();
  const program = await quietProgram(cwd);
  const paths: string[][] = [];
  const walk = (command: Command, path: string[]): void => {
    for (const sub of command.commands) {
      if (sub.name() === "help") continue;
      paths.push([...path, sub.name()]);
      walk(sub, [...path, sub.name()]);
    }
  };
  walk(program, []);
  t.ok(paths.length > 20, `${paths.length} commands`);
  for (const words of paths) {
    for (const args of [[...words, "--help"], [...words, "-h"], ["help", ...words]]) {
      const r = await run(args, { cwd });
      t.equal(r.code, 0, args.join(" "));
      t.match(r.stdout, new RegExp(`^Usage: swarm-policy ${words.join(" ")} `), args.join(" "));
      t.equal(r.stderr, "", args.join(" "));
    }
  }
});

t.test("`help` of a command that does not exist is a one-line usage error", async (t) => {
  for (const [args, shown] of [
    [["help", "frobnicate"], "frobnicate"],
    [["help", "mesh", "frobnicate"], "mesh frobnicate"],
  ] as const) {
    const r = await run([...args], { cwd: t.testdir() });
    t.equal(r.code, 2, args.join(" "));
    t.equal(r.stderr, `swarm-policy: unknown command '${shown}' (add --help for usage)\n`, args.join(" "));
    t.equal(r.stdout, "");
  }
});

t.test("bad usage is exit 2 with a message on stderr", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICIES.clean });
  const cases: [string[], RegExp][] = [
    [[], /Usage: swarm-policy/],
    [["frobnicate"], /unknown command 'frobnicate'/],
    [["check"], /missing required argument 'paths'/],
    [["check", "--bogus", "a.policy"], /unknown option '--bogus'/],
    [["check", "--format", "xml", "a.policy"], /argument 'xml' is invalid.*text, json, sarif/],
    [["fmt", "--check", "--write", "a.policy"], /option '--check' cannot be used with option '--write'/],
  ];
  for (const [args, message] of cases) {
    const r = await run(args, { cwd });
    t.equal(r.code, 2, args.join(" ") || "(no arguments)");
    t.match(r.stderr, message, args.join(" "));
    t.equal(r.stdout, "", "nothing on stdout");
  }
});

t.test("a usage error is one `swarm-policy:` line, with control characters escaped (docs/cli.md)", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICIES.clean });
  const cases: [string[], string][] = [
    [["check", "--bogus", "a.policy"], "swarm-policy: unknown option '--bogus' (add --help for usage)\n"],
    [["frobnicate"], "swarm-policy: unknown command 'frobnicate' (add --help for usage)\n"],
    [["mfa", "verify", "alice"], "swarm-policy: missing required argument 'code' (add --help for usage)\n"],
    // An argument echoed back must not reach the terminal as an escape sequence.
    [["check", "--x\u001b[2J", "a.policy"], "swarm-policy: unknown option '--x\\u001b[2J' (add --help for usage)\n"],
    [["bo\u001b]0;pwned\u0007gus"], "swarm-policy: unknown command 'bo\\u001b]0;pwned\\u0007gus' (add --help for usage)\n"],
  ];
  for (const [args, stderr] of cases) {
    const r = await run(args, { cwd });
    t.equal(r.code, 2, args.join(" "));
    t.equal(r.stderr, stderr, args.join(" "));
  }
  // Commander's suggestion stays on the same line.
  const r = await run(["check", "--formt", "json", "a.policy"], { cwd });
  t.equal(r.code, 2);
  t.match(r.stderr, /^swarm-policy: unknown option '--formt' \(Did you mean --format\?\) \(add --help for usage\)\n$/);
});

t.test("a missing path is exit 2 with a clear message, no stack trace", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICIES.clean });
  for (const verb of ["check", "lint", "fmt"]) {
    const r = await run([verb, "a.policy", "nope.policy"], { cwd });
    t.equal(r.code, 2, verb);
    t.equal(r.stderr, "swarm-policy: cannot read nope.policy: no such file or directory\n", verb);
    t.equal(r.stdout, "", `${verb}: no partial report`);
  }
});

t.test("a file name with control characters (from a checked-out repository) is escaped in error lines", async (t) => {
  const cwd = t.testdir({ pol: { "a.policy": POLICIES.clean, "x\x1b[2J.policy": t.fixture("symlink", "missing") } });
  const r = await run(["check", "pol"], { cwd });
  t.equal(r.code, 2);
  t.equal(r.stderr, "swarm-policy: cannot read pol/x\\u001b[2J.policy: no such file or directory\n");
});

t.test("bidirectional controls in a file name are escaped in error lines, as in diagnostics (Trojan Source)", async (t) => {
  const cwd = t.testdir({ pol: { "a.policy": POLICIES.clean, "x\u202eycilop.policy": t.fixture("symlink", "missing") } });
  const r = await run(["check", "pol"], { cwd });
  t.equal(r.code, 2);
  t.equal(r.stderr, "swarm-policy: cannot read pol/x\\u202eycilop.policy: no such file or directory\n");
  const arg = await run(["check", "\u2066nope\u2069.policy"], { cwd });
  t.equal(arg.stderr, "swarm-policy: cannot read \\u2066nope\\u2069.policy: no such file or directory\n");
});

t.test("a directory without policy files is exit 2", async (t) => {
  const cwd = t.testdir({ empty: {}, notes: { "readme.txt": "hi" } });
  const r = await run(["check", "empty", "notes"], { cwd });
  t.equal(r.code, 2);
  t.equal(r.stderr, "swarm-policy: no .policy files found in empty, notes\n");
});

t.test("handleError: usage errors and internal errors, never a stack unless asked", async (t) => {
  const capture = (env: Record<string, string> = {}) => {
    const io = { err: "" } as { err: string };
    const cliIO: CliIO = {
      stdout: () => {},
      stderr: (s) => void (io.err += s),
      readStdin: async () => "",
      stdinStream: () => Readable.from([""]),
      cwd: "/",
      env,
      stdoutIsTTY: false,
      stderrIsTTY: false,
    };
    return { io, cliIO };
  };
  const a = capture();
  t.equal(handleError(new CliError("first\nsecond"), a.cliIO), 2);
  t.equal(a.io.err, "swarm-policy: first\nswarm-policy: second\n", "each line prefixed");
  const b = capture();
  t.equal(handleError(new CliError("drift", 1), b.cliIO), 1, "a CliError may carry another code");
  const c = capture();
  t.equal(handleError(new TypeError("boom"), c.cliIO), 2);
  t.equal(c.io.err, "swarm-policy: internal error: boom\n");
  const d = capture({ SWARM_POLICY_DEBUG: "1" });
  handleError(new TypeError("boom"), d.cliIO);
  t.match(d.io.err, /internal error: boom\nTypeError: boom\n\s+at /, "stack with SWARM_POLICY_DEBUG");
});
