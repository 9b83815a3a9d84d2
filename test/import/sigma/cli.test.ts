/**
 * `swarm-policy import sigma` through the CLI (in-process): output
 * conventions shared with `import json-rules-engine` (policy on stdout,
 * `rule NAME: cannot convert: WHY` on stderr with exit 1, exit 2 for bad
 * input), `--pipeline` by name or file, and the documented example of
 * docs/sigma.md converting to exactly what the page shows.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import t from "tap";
import { compile } from "../../../src/index.js";
import { run } from "../../cli/run.js";

const WHOAMI = `title: Whoami
id: 0b0b0b0b-1111-2222-3333-444444444444
logsource:
  product: windows
  category: process_creation
detection:
  sel:
    Image|endswith: '\\whoami.exe'
  condition: sel
`;
const DETECTION_OK = "logsource:\n  product: linux\ndetection:\n  sel:\n    A: x\n  condition: sel\n";
const KEYWORDS = `title: Keywords
logsource:
  product: linux
detection:
  kw:
    - evil
  condition: kw
`;

t.test("every rule converts: exit 0, nothing on stderr, a policy that compiles", async (t) => {
  const cwd = t.testdir({ "a.yml": WHOAMI });
  const r = await run(["import", "sigma", "a.yml"], { cwd });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stderr, "");
  t.match(r.stdout, /^# Imported from Sigma: a\.yml\n# Pipeline: none\n/);
  t.match(r.stdout, /detect "Whoami" \{/);
  t.same(compile(r.stdout, { file: "x.policy" }).diagnostics, []);
});

t.test("a rule that cannot be converted: named on stderr, exit 1, the others still printed", async (t) => {
  const cwd = t.testdir({ "a.yml": WHOAMI, "k.yml": KEYWORDS });
  const r = await run(["import", "sigma", "a.yml", "k.yml"], { cwd });
  t.equal(r.code, 1);
  t.equal(
    r.stderr,
    "rule Keywords (k.yml): cannot convert: search identifier `kw`: keyword search (values without a field) needs a pipeline that names the field to search, e.g. --pipeline ecs (message)\n",
  );
  t.match(r.stdout, /detect "Whoami" \{/);
  const ecs = await run(["import", "sigma", "--pipeline", "ecs", "a.yml", "k.yml"], { cwd });
  t.equal(ecs.code, 0, "with a keyword field it converts");
  t.match(ecs.stdout, /lower\(message\) like "\*evil\*"/);
});

t.test("--pipeline: a built-in name or a pipeline file", async (t) => {
  const cwd = t.testdir({
    "a.yml": WHOAMI,
    "p.yml": "name: mine\nfields:\n  Image: proc.exe\nlogsources:\n  - category: process_creation\n    condition: '(kind ?? false) == \"exec\"'\n",
  });
  const sysmon = await run(["import", "sigma", "--pipeline", "sysmon", "a.yml"], { cwd });
  t.equal(sysmon.code, 0);
  t.match(sysmon.stdout, /where \(EventID \?\? false\) in \[1, "1"\]/);
  const file = await run(["import", "sigma", "--pipeline", "p.yml", "a.yml"], { cwd });
  t.equal(file.code, 0, file.stderr);
  t.match(file.stdout, /# Pipeline: mine\n/);
  t.match(file.stdout, /where \(kind \?\? false\) == "exec"\n {4}and type\(proc\.exe \?\? false\) == "string"/);
});

t.test("bad input exits 2 with one line", async (t) => {
  const cwd = t.testdir({
    "a.yml": WHOAMI,
    "bad.yml": "title: x\ndetection: [\n",
    "other.yml": "just: a map\n",
    "empty.yml": "",
    "badpipe.yml": "logsources: 5\n",
    "rules.json": "[]",
  });
  const cases: [string[], RegExp][] = [
    [["import", "sigma", "bad.yml"], /^swarm-policy: bad\.yml:3:1: invalid YAML: /],
    [["import", "sigma", "other.yml"], /^swarm-policy: other\.yml: document 1 is not a Sigma rule \(no `detection` or `correlation`\)\n$/],
    [["import", "sigma", "empty.yml"], /^swarm-policy: empty\.yml: no YAML documents\n$/],
    [["import", "sigma", "missing.yml"], /^swarm-policy: cannot read missing\.yml: no such file or directory\n$/],
    [["import", "sigma", "--pipeline", "nope", "a.yml"], /^swarm-policy: pipeline `nope` is neither built in \(sysmon, ecs\) nor a readable file\n$/],
    [["import", "sigma", "--pipeline", "badpipe.yml", "a.yml"], /^swarm-policy: pipeline badpipe\.yml: `logsources` is not a list\n$/],
    [["import", "json-rules-engine", "--pipeline", "ecs", "rules.json"], /^swarm-policy: --pipeline is for `import sigma` only\n$/],
  ];
  for (const [args, stderr] of cases) {
    const r = await run(args, { cwd });
    t.equal(r.code, 2, args.join(" "));
    t.match(r.stderr, stderr, args.join(" "));
    t.equal(r.stdout, "");
  }
});

t.test("--help names the formats, the pipelines and an example", async (t) => {
  const r = await run(["import", "--help"], { cwd: t.testdir({}) });
  t.equal(r.code, 0);
  t.match(r.stdout, /json-rules-engine, sigma/);
  t.match(r.stdout, /--pipeline <name\|file>/);
  t.match(r.stdout, /sysmon, ecs/);
  t.match(r.stdout, /\$ swarm-policy import sigma --pipeline sysmon/);
});

t.test("docs/sigma.md: its example converts to exactly the text it shows", async (t) => {
  const doc = readFileSync(path.resolve(import.meta.dirname, "../../../docs/sigma.md"), "utf8");
  const yaml = /```yaml\n(title: Whoami Execution[\s\S]*?)```/.exec(doc)![1]!;
  const policy = /becomes, with `--pipeline sysmon`,\n\n```\n([\s\S]*?)```/.exec(doc)![1]!;
  const cwd = t.testdir({ rules: { "whoami.yml": yaml } });
  const r = await run(["import", "sigma", "--pipeline", "sysmon", "rules/whoami.yml"], { cwd });
  t.equal(r.code, 0);
  t.equal(r.stdout.slice(r.stdout.indexOf("# Sigma: ")), policy);
});

t.test("YAML nested too deeply for the parser (block maps 3,000 levels down) is bad input, not an internal error", async (t) => {
  const levels = Array.from({ length: 3000 }, (_, i) => "  ".repeat(i + 2) + `k${i}:\n`).join("");
  const cwd = t.testdir({ "deep.yml": `title: x\nlogsource:\n  product: windows\ndetection:\n  selection:\n${levels}  condition: selection\n` });
  const r = await run(["import", "sigma", "deep.yml"], { cwd });
  t.equal(r.code, 2);
  t.equal(r.stderr, "swarm-policy: deep.yml: invalid YAML: nested too deeply to read\n");
  t.equal(r.stdout, "");
});

t.test("YAML that parses but cannot be built (an unknown alias, too many aliases) is bad input: exit 2, file and document named", async (t) => {
  const laughs = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
  for (const c of "bcdefg") laughs.push(`${c}: &${c} [${Array(10).fill("*" + String.fromCharCode(c.charCodeAt(0) - 1)).join(", ")}]`);
  const cwd = t.testdir({
    "a.yml": WHOAMI,
    "alias.yml": WHOAMI + "---\n" + WHOAMI.replace("sel:\n", "sel: *s\n  other:\n"),
    "laughs.yml": laughs.join("\n") + "\ndetection: {sel: {x: 1}, condition: sel}\n",
    "pipe.yml": "name: p\nfields: *f\n",
  });
  const cases: [string[], RegExp][] = [
    [["import", "sigma", "alias.yml"], /^swarm-policy: alias\.yml: document 2: invalid YAML: .*alias.*\n$/],
    [["import", "sigma", "laughs.yml"], /^swarm-policy: laughs\.yml: document 1: invalid YAML: .*alias.*\n$/],
    [["import", "sigma", "--pipeline", "pipe.yml", "a.yml"], /^swarm-policy: pipe\.yml: document 1: invalid YAML: .*alias.*\n$/],
  ];
  for (const [args, stderr] of cases) {
    const r = await run(args, { cwd });
    t.equal(r.code, 2, args.join(" "));
    t.match(r.stderr, stderr, args.join(" "));
    t.notMatch(r.stderr, /internal error/);
    t.equal(r.stdout, "");
  }
});

t.test("a rule's title and the reason reach stderr with control characters escaped, not as terminal escape sequences", async (t) => {
  // YAML's "\e" is ESC: a crafted rule file could clear the screen or retitle the terminal.
  const yaml = `title: "evil\\e[2J\\e]0;pwned\\u0007 \\u009b31m"\nlogsource:\n  product: linux\ndetection:\n  kw:\n    - x\n  condition: kw\n`;
  const cwd = t.testdir({ "e.yml": yaml });
  const r = await run(["import", "sigma", "e.yml"], { cwd });
  t.equal(r.code, 1);
  t.notMatch(r.stderr, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, "no control character but the final newline");
  t.match(r.stderr, /^rule evil\\u001b\[2J\\u001b\]0;pwned\\u0007 \\u009b31m \(e\.yml\): cannot convert: /);
  const ok = await run(["import", "sigma", "c1.yml"], { cwd: t.testdir({ "c1.yml": `title: "a\\u009b31m\\u0085b"\nauthor: "x\\u009b2J"\n${DETECTION_OK}` }) });
  t.equal(ok.code, 0, ok.stderr);
  t.notMatch(ok.stdout.split("\n").filter((l) => l.startsWith("#")).join("\n"), /[\u007f-\u009f]/, "nor C1 controls in the policy's comments");
});
