/**
 * The examples of docs/cli.md and README.md, run as written, so the
 * documentation cannot drift from what the commands print.
 *
 * A session is the `$ swarm-policy ...` lines of a fenced block in
 * docs/cli.md with the lines under each (stdout, then stderr). In the
 * documented output a line `...` stands for any number of lines and `...`
 * inside a line for any text; everything else must match exactly. `$ echo $?`
 * checks the exit code of the command above it.
 *
 * Run here (each in a fresh directory holding a copy of policies/):
 * - on the repository's policies/, as written: `test --coverage`, `eval`
 *   (encryption), `detect`, `mesh plan`;
 * - with the fixture the illustrative example implies: `check` (a typo on
 *   line 7 of policies/access.policy), `fmt` (an unformatted
 *   policies/access.policy), and the text output format block (policies/dup.policy
 *   and policies/open.policy, produced by `lint policies/`);
 * - README.md: the 30-second tour policy checks, passes its test and is
 *   formatted; the first command's `lint --strict` and `test` pass.
 *
 * Not run here: `encrypt` / `decrypt` (test/cli/commands/encrypt.test.ts runs
 * that session), `serve` (a long-running server), `audit`, `keys list` and
 * `mfa` (they print the time and secrets of the moment), `import` (files
 * named but not given).
 */
import t, { type Test } from "tap";
import path from "node:path";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { run } from "../cli/run.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const cliDoc = readFileSync(path.join(repoRoot, "docs/cli.md"), "utf8");
const readme = readFileSync(path.join(repoRoot, "README.md"), "utf8");

interface Step {
  /** The command line as documented, without the `$ `. */
  line: string;
  output: string[];
}

/** Every fenced block of `markdown`, as lines. */
function fencedBlocks(markdown: string): string[][] {
  const blocks: string[][] = [];
  let block: string[] | null = null;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) {
      if (block) blocks.push(block);
      block = block ? null : [];
    } else block?.push(line);
  }
  return blocks;
}

/** The session of the block holding the command `first`. */
function session(first: string): Step[] {
  const block = fencedBlocks(cliDoc).find((b) => b.includes(`$ ${first}`));
  if (!block) throw new Error(`docs/cli.md has no example \`$ ${first}\` any more: update test/docs/cli-examples.test.ts`);
  const steps: Step[] = [];
  for (const line of block) {
    if (line.startsWith("$ ")) steps.push({ line: line.slice(2), output: [] });
    else if (steps.length > 0) steps[steps.length - 1]!.output.push(line);
  }
  return steps;
}

/** Shell words: plain, or in single or double quotes (no escapes: the examples use none). */
function words(command: string): string[] {
  return [...command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

/** Documented `expected` lines against `actual`: a line `...` is any number of lines, `...` in a line any text. */
export function matches(expected: string[], actual: string[]): boolean {
  const line = (pattern: string, text: string) =>
    new RegExp(`^${pattern.split("...").map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`).test(text);
  const memo = new Map<string, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = `${i},${j}`;
    if (memo.has(key)) return memo.get(key)!;
    let ok: boolean;
    if (i === expected.length) ok = j === actual.length;
    else if (expected[i] === "...") ok = go(i + 1, j) || (j < actual.length && go(i, j + 1));
    else ok = j < actual.length && line(expected[i]!, actual[j]!) && go(i + 1, j + 1);
    memo.set(key, ok);
    return ok;
  };
  return go(0, 0);
}

const outputLines = (text: string) => (text === "" ? [] : text.replace(/\n$/, "").split("\n"));

/**
 * Run a documented session in `cwd`: `echo 'X' | swarm-policy ...` feeds X on
 * stdin, `... && echo X` prints X when the command succeeds, `echo $?` checks
 * the exit code; every other command must exit 0.
 */
async function runSession(t: Test, steps: Step[], cwd: string): Promise<void> {
  let last: number | null = null;
  for (const [n, step] of steps.entries()) {
    if (step.line === "echo $?") {
      t.equal(String(last), step.output.join("\n").trim(), `exit code of \`${steps[n - 1]!.line}\``);
      continue;
    }
    const piped = /^echo '([^']*)' \| (.*)$/.exec(step.line);
    const [command, andEcho] = (piped ? piped[2]! : step.line).split(" && echo ");
    const argv = words(command!);
    t.equal(argv.shift(), "swarm-policy", step.line);
    const r = await run(argv, { cwd, stdin: piped ? `${piped[1]}\n` : undefined });
    last = r.code;
    const actual = outputLines(r.stdout + r.stderr);
    if (andEcho !== undefined && r.code === 0) actual.push(andEcho);
    const checksExit = steps[n + 1]?.line === "echo $?";
    if (!checksExit && andEcho === undefined) t.equal(r.code, 0, `\`${step.line}\` exits 0: ${r.stderr}`);
    t.ok(matches(step.output, actual), `\`${step.line}\` prints what docs/cli.md shows`, { expected: step.output.join("\n"), actual: actual.join("\n") });
  }
}

/** A fresh directory holding a copy of the repository's policies/ (or only of its schemas). */
function workspace(t: Test, what: "policies" | "schemas" = "policies"): string {
  const cwd = t.testdir();
  const from = what === "policies" ? "policies" : "policies/schemas";
  cpSync(path.join(repoRoot, from), path.join(cwd, from), { recursive: true });
  return cwd;
}

t.test("matches: `...` lines and `...` in a line", async (t) => {
  t.ok(matches(["a", "...", "d"], ["a", "b", "c", "d"]));
  t.ok(matches(["a", "...", "d"], ["a", "d"]));
  t.ok(matches(['{"v":"...","n":1}'], ['{"v":"abc","n":1}']));
  t.notOk(matches(["a", "d"], ["a", "b", "d"]));
  t.notOk(matches(["a.c"], ["abc"]), "a dot is a dot");
  t.notOk(matches(["a"], ["a", "b"]), "nothing unshown after the last line");
});

t.test("`check`: the error example, with the file it implies", async (t) => {
  const cwd = workspace(t, "schemas");
  writeFileSync(
    path.join(cwd, "policies/access.policy"),
    'package swarm.access\n\n# Operators restart nodes.\nallow "ops-restart" {\n  when action == "node.restart"\n  when resource.type == "node"\n  when pricipal.roles contains "ops"\n}\n',
  );
  await runSession(t, session("swarm-policy check policies/"), cwd);
});

t.test("the `text` output format block is what `lint` prints for the files it names", async (t) => {
  const cwd = workspace(t, "schemas");
  writeFileSync(path.join(cwd, "policies/dup.policy"), 'const a = 1\nconst a = 2\n\ndeny "d" {\n  when principal.level == a\n}\n');
  writeFileSync(path.join(cwd, "policies/open.policy"), 'allow "open" {\n}\n');
  const block = fencedBlocks(cliDoc).find((b) => b[0] === "error[SP2005]: duplicate const `a`");
  t.ok(block, "docs/cli.md still has the block");
  const r = await run(["lint", "policies/"], { cwd });
  t.equal(r.code, 1, "an error: exit 1");
  t.same(outputLines(r.stdout), block);
});

t.test("`fmt`: the --check / --write session, on an unformatted policies/access.policy", async (t) => {
  const cwd = workspace(t);
  writeFileSync(path.join(cwd, "policies/access.policy"), 'package swarm.access\nallow "x" {when principal.id=="a"}\n');
  await runSession(t, session("swarm-policy fmt --check policies/"), cwd);
});

t.test("`test --coverage`, `eval`, `detect` and `mesh plan` on the repository's policies/", async (t) => {
  for (const first of [
    "swarm-policy test --coverage --threshold 90 policies/",
    "swarm-policy eval policies/ --input request.json",
    "swarm-policy detect policies/ --events policies/fixtures/bruteforce.jsonl",
    "swarm-policy mesh plan policies/ --nodes policies/fixtures/mesh-nodes.json --out mesh/ --time 2026-03-10T00:00:00Z",
  ]) {
    let steps = session(first);
    // `request.json` is the reader's own request: only the stdin example is run.
    if (first.includes("request.json")) steps = steps.slice(1);
    await t.test(first, async (t) => runSession(t, steps, workspace(t)));
  }
});

t.test("README.md: the tour policy checks, passes its test and is formatted; `lint --strict policies/` passes", async (t) => {
  const tour = fencedBlocks(readme).find((b) => b[0] === "package swarm.access");
  if (!tour) throw new Error("README.md has no tour policy any more: update test/docs/cli-examples.test.ts");
  const cwd = workspace(t);
  // Laid out as the bundled set is, so its schema path "../schemas/access.schema.json" resolves.
  cpSync(path.join(repoRoot, "policies/schemas"), path.join(cwd, "tour/schemas"), { recursive: true });
  mkdirSync(path.join(cwd, "tour/access"));
  writeFileSync(path.join(cwd, "tour/access/tour.policy"), `${tour.join("\n")}\n`);
  for (const verb of ["check", "test"]) {
    const r = await run([verb, "tour/"], { cwd });
    t.equal(r.code, 0, `${verb}: ${r.stdout}${r.stderr}`);
  }
  const fmt = await run(["fmt", "--check", "tour/"], { cwd });
  t.equal(fmt.code, 0, `in canonical layout: ${fmt.stdout}`);
  // The README's first command (its `test` half is the coverage session above).
  const lint = await run(["lint", "--strict", "policies/"], { cwd });
  t.equal(lint.code, 0, lint.stdout);
});
