/**
 * Hostile Sigma input: a problem's reason is one line (ImportProblem's
 * promise) whatever the YAML quotes into it; and a fuzz over the real
 * corpus, mutated as text (lines deleted, duplicated, swapped, re-indented,
 * cut; YAML syntax, alias bombs, `__proto__` keys, modifiers, regexes, deep
 * brackets and huge strings spliced in) and as structure (values and keys
 * of the parsed rules replaced). Either the input is refused as a whole
 * (ImportInputError, one line) or the policy text parses and checks and
 * every problem is one line; never another exception, never a hang.
 *
 * FUZZ_CASES (default 800 of each) and FUZZ_SEED (default fixed, printed).
 */
import t from "tap";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { ImportInputError, SIGMA_PIPELINES, SourceText, analyze, convertSigma } from "../../../src/index.js";
import { prng } from "../../support/prng.js";
import { mutateAt, treePaths } from "../../support/mutate-tree.js";
import { corpusFiles } from "./corpus-files.js";
import { convert } from "./helpers.js";

const CASES = Number(process.env.FUZZ_CASES ?? 800);
const SEED = Number(process.env.FUZZ_SEED ?? 0x516a);

t.test("a logsource value with line breaks does not break the reason's line", async (t) => {
  const yaml = `title: Odd logsource\nlogsource:\n  product: "windows\\nrule forged: cannot convert: x"\n  category: "a\\u2028b\\u0000"\ndetection:\n  sel:\n    Image: x\n  condition: sel\n`;
  const r = convert(yaml, SIGMA_PIPELINES.sysmon);
  t.equal(r.problems.length, 1);
  t.notMatch(r.problems[0]!.reason, /[\n\r\u2028\u2029\u0000]/);
  t.match(r.problems[0]!.reason, /product=windows\\u000arule forged/);
});

t.test("bidi controls in a title are written as escapes in the generated comment", async (t) => {
  // Raw, U+202E reorders the rest of the comment line wherever the generated policy is reviewed
  // (Trojan Source); the rule's name is a string, which the formatter escapes.
  const yaml = `title: "evil \\u202eexe.txt \\u2066x\\u2069"\nlogsource:\n  product: test\ndetection:\n  sel:\n    Image: x\n  condition: sel\n`;
  const r = convert(yaml);
  t.equal(r.problems.length, 0, JSON.stringify(r.problems));
  t.notMatch(r.policy, /[\u202a-\u202e\u2066-\u2069]/, "no raw bidi control in the policy text");
  t.match(r.policy, "# Sigma: evil \\u202eexe.txt \\u2066x\\u2069 (rule.yml)\n");
});

t.test("a collection as a map key is the rule's problem, without a Node warning on stderr", async (t) => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on("warning", onWarning);
  t.teardown(() => process.off("warning", onWarning));
  const r = convert(`title: Map key\nlogsource:\n  product: windows\ndetection:\n  sel:\n    ? [a, b]\n    : x\n  condition: sel\n`);
  await new Promise((resolve) => setImmediate(resolve)); // process warnings are emitted on the next tick
  t.equal(r.converted, 0);
  t.match(r.problems[0]!.reason, /field `\[ a, b \]` cannot be read by name/);
  t.same(warnings, []);
});

const PIPELINES = [undefined, SIGMA_PIPELINES.sysmon, SIGMA_PIPELINES.ecs];
const BOMB = "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n";
const SPLICES = [
  "\n---\n", "\n...\n", "- a\n", "&a [x, x, x]", "*a", "[*a, *a, *a, *a]", "__proto__: {x: 1}\n", "constructor: {prototype: 1}\n",
  "'", '"', "{", "[", "|", ">", "? ", ": ", "!!binary aGVsbG8=", "!!js/function 'x'", "<<: *a\n", "\t", "\ud800", "\u0000", "%YAML 1.1\n", "~", "1e400",
  "|re", "|contains|all", "|base64offset|contains", "|cidr", "|windash", "|exists", "|expand", "|fieldref", "|lt", "|utf16le|base64", "|re|i|m|s", "*?*\\", "(?<x>", "[[[[",
  "condition: 1 of them\n", "condition: all of selection* and not 1 of filter*\n", `condition: ${"(".repeat(3000)}a${")".repeat(3000)}\n`, "x".repeat(200_000), "timeframe: 99999999d\n",
];
const VALUES: (() => unknown)[] = [
  () => null, () => 0, () => -1, () => 1e308, () => 1.5, () => true, () => "", () => "*", () => "?", () => "\\", () => "*\\*?", () => "x".repeat(100_000),
  () => [], () => [[]], () => ({}), () => ({ a: { b: 1 } }), () => ["a", 1, null, true], () => "__proto__", () => "constructor", () => "\u0000\n\"#",
  () => "selection and not filter", () => "1 of them", () => "all of them", () => "1 of sel*", () => "selection | count() by x > 5", () => "not", () => "(", () => "a or b and c",
  () => "(?i)a.*b", () => "[", () => "(a|b)+$", () => "(?<n>x)\\k<n>", () => "((a+)+)+b", () => "10.0.0.0/8", () => "::/0", () => "999.1.1.1/33",
  () => "5m", () => "0s", () => "-1d", () => "99999999999d",
  () => ({ type: "event_count", rules: ["x"], "group-by": ["a"], timespan: "5m", condition: { gte: 3 } }),
  () => ({ type: "value_count", rules: [], timespan: "1h", condition: { field: "u", gt: 1e308 } }),
];
const KEYS = ["Image|endswith", "CommandLine|contains|all", "x|re", "x|re|i", "x|cidr", "x|base64offset|contains", "x|windash|contains", "x|exists", "x|fieldref", "x|lt", "x|utf16le|base64", "x|contains|cased", "x|startswith|endswith", "x|bogus", "__proto__", "constructor", "", "a.b.c", "|", "x|"];


t.test(`sigma import survives ${CASES} text and ${CASES} structural mutants of the corpus (seed ${SEED})`, async (t) => {
  const corpus = corpusFiles();
  t.ok(corpus.length > 100, `${corpus.length} corpus rules`);
  const rnd = prng(SEED);
  const pick = (n: number) => Math.floor(rnd() * n);
  const choose = <T>(xs: readonly T[]): T => xs[pick(xs.length)]!;

  const textMutant = (text: string): string => {
    const lines = text.split("\n");
    for (let r = 1 + pick(2); r > 0; r--) {
      const i = pick(lines.length);
      switch (pick(7)) {
        case 0:
          lines.splice(i, 1);
          break;
        case 1:
          lines.splice(i, 0, lines[pick(lines.length)]!);
          break;
        case 2: {
          const l = lines[i] ?? "";
          const at = pick(l.length + 1);
          lines[i] = l.slice(0, at) + choose(SPLICES) + l.slice(at);
          break;
        }
        case 3:
          lines.length = i;
          break;
        case 4:
          if (pick(4) === 0) lines.splice(i, 0, BOMB);
          break;
        case 5:
          lines[i] = (lines[i] ?? "").replace(/^\s*/, (m) => (m.length >= 2 ? m.slice(2) : `${m}  `));
          break;
        default: {
          const j = pick(lines.length);
          [lines[i], lines[j]] = [lines[j]!, lines[i]!];
        }
      }
    }
    return lines.join("\n");
  };
  const structuralMutant = (text: string): string | null => {
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch {
      return null;
    }
    for (let r = 1 + pick(3); r > 0; r--) {
      const p = choose(treePaths(doc));
      if (p.length === 0) continue;
      mutateAt(doc, p, () => (pick(3) === 0 ? choose(KEYS) : null), () => choose(VALUES)());
    }
    return stringifyYaml(doc, { aliasDuplicateObjects: false });
  };

  let failures = 0;
  let converted = 0;
  const fail = (msg: string) => {
    failures++;
    t.fail(msg);
  };
  for (let n = 0; n < 2 * CASES && failures < 5; n++) {
    const base = choose(corpus);
    const structural = n % 2 === 1;
    const text = structural ? structuralMutant(base.text) : textMutant(base.text);
    if (text === null) continue;
    const where = `case ${n} (seed ${SEED}, ${structural ? "structural" : "text"}) from ${base.name}`;
    try {
      const r = convertSigma([{ name: "m.yml", text }], { pipeline: choose(PIPELINES) });
      converted += r.converted;
      const errors = analyze([new SourceText("import.policy", r.policy)], { lint: false }).diagnostics.filter((d) => d.severity === "error");
      if (errors.length > 0) fail(`${where}: the policy does not check: ${errors[0]!.code} ${errors[0]!.message}`);
      for (const p of r.problems) if (/[\n\r\u2028\u2029]/.test(p.reason)) fail(`${where}: a reason of several lines: ${JSON.stringify(p.reason.slice(0, 200))}`);
    } catch (err) {
      if (!(err instanceof ImportInputError)) fail(`${where}: threw ${(err as Error)?.stack ?? String(err)}`);
      else if (/\n/.test(err.message)) fail(`${where}: an input error of several lines: ${JSON.stringify(err.message.slice(0, 200))}`);
    }
  }
  t.ok(converted > CASES / 4, `${converted} mutants converted (the fuzz reaches the converter)`);
  t.equal(failures, 0, `no failures in ${2 * CASES} cases`);
});

t.test("a pipeline condition the checker refuses is bad input, not a policy that fails to check", async (t) => {
  const { loadSigmaPipeline } = await import("../../../src/index.js");
  for (const condition of ['"\\u0000"', "1 + 1", '"exec" and true', "kind.x contains_all 3"]) {
    const text = `name: odd\nlogsources:\n  - product: linux\n    condition: '${condition}'\n`;
    t.throws(() => loadSigmaPipeline({ name: "p.yml", text }), { name: "ImportInputError", message: /^pipeline p\.yml: `logsources\[0\]\.condition` is not a condition: / }, condition);
  }
  const ok = loadSigmaPipeline({ name: "p.yml", text: `name: ok\nlogsources:\n  - product: linux\n    condition: '(kind ?? false) == "exec"'\n` });
  t.equal(ok.name, "ok");
});

/**
 * Fuzz: pipelines with their keys and values replaced (field targets that
 * are no paths, `__proto__` keys, conditions that are strings, sums, line
 * breaks closing the rule, brackets 2,000 deep), each loaded and, when it
 * loads, used on corpus rules: an ImportInputError, or policy text that
 * checks with no rule of the pipeline's making. FUZZ_CASES / 2 pipelines.
 */
t.test(`sigma pipelines: ${Math.ceil(CASES / 2)} mutated pipelines (seed ${SEED})`, async (t) => {
  const { loadSigmaPipeline } = await import("../../../src/index.js");
  const corpus = corpusFiles();
  const rnd = prng(SEED + 1);
  const pick = (n: number) => Math.floor(rnd() * n);
  const choose = <T>(xs: readonly T[]): T => xs[pick(xs.length)]!;
  const base = () => ({
    name: "my-pipeline",
    keywords: "raw",
    "unmapped-logsource": "reject",
    fields: { Image: ["proc.path", "proc.image"], CommandLine: "proc.cmd", User: "user.name" },
    logsources: [
      { product: "windows", category: "process_creation", condition: '(kind ?? false) == "exec"', fields: { CommandLine: "proc.cmd" } },
      { product: "linux", condition: "true" },
    ],
  });
  const values: (() => unknown)[] = [
    () => null, () => 1, () => "", () => "a b", () => "__proto__", () => "constructor", () => "x.__proto__.y", () => "a..b", () => "a.", () => "0abc", () => ["a", "b"], () => [], () => ({}),
    () => "keep", () => "reject", () => "bogus", () => "true", () => "1 +", () => "1 + 1", () => '"x"', () => "x # comment", () => ")", () => "true) or (true", () => "a == 1",
    () => 'deny "x" { when true }', () => 'x\ny', () => '}\ndetect "evil" {\n  where true\n}', () => `${"(".repeat(2000)}true${")".repeat(2000)}`, () => "x".repeat(100_000), () => "\ud800",
  ];
  const keys = ["name", "keywords", "unmapped-logsource", "fields", "logsources", "condition", "product", "category", "service", "__proto__", "constructor", "bogus"];
  let failures = 0;
  let loaded = 0;
  const fail = (msg: string) => {
    failures++;
    t.fail(msg);
  };
  for (let n = 0; n < Math.ceil(CASES / 2) && failures < 5; n++) {
    const doc = base() as unknown;
    for (let r = 1 + pick(2); r > 0; r--) {
      const p = choose(treePaths(doc));
      if (p.length === 0) continue;
      mutateAt(doc, p, () => (pick(3) === 0 ? choose(keys) : null), () => choose(values)());
    }
    const text = stringifyYaml(doc);
    const where = `pipeline ${n} (seed ${SEED})`;
    let pipeline;
    try {
      pipeline = loadSigmaPipeline({ name: "p.yml", text });
      loaded++;
    } catch (err) {
      if (!(err instanceof ImportInputError)) fail(`${where}: loading threw ${(err as Error)?.stack ?? String(err)}`);
      continue;
    }
    for (let k = 0; k < 3; k++) {
      const rule = choose(corpus);
      try {
        const r = convertSigma([rule], { pipeline });
        const errors = analyze([new SourceText("import.policy", r.policy)], { lint: false }).diagnostics.filter((d) => d.severity === "error");
        if (errors.length > 0) fail(`${where} on ${rule.name}: the policy does not check: ${errors[0]!.message}\n${text}`);
        if (/^detect "evil"/m.test(r.policy)) fail(`${where}: the pipeline wrote a rule of its own\n${text}`);
      } catch (err) {
        if (!(err instanceof ImportInputError)) fail(`${where} on ${rule.name}: threw ${(err as Error)?.stack ?? String(err)}`);
      }
    }
  }
  t.ok(loaded > 0, `${loaded} mutated pipelines loaded`);
  t.equal(failures, 0, "no failures");
});
