/**
 * The real, unmodified Sigma rules of ../shared/corpora/sigma/rules (725
 * rules from SigmaHQ/sigma): how many convert with each pipeline, and why
 * the rest do not, grouped, against the golden summary in
 * fixtures/corpus-summary.json (rewrite it with SIGMA_UPDATE_SUMMARY=1 after
 * a deliberate change, and read the diff). Every rule is either converted
 * or reported; the converted policy passes `swarm-policy check` without
 * errors or warnings, and `swarm-policy fmt --check` (it is already in
 * canonical layout), run through the real CLI.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import t from "tap";
import { convertSigma, SIGMA_PIPELINES, type ImportResult } from "../../../src/index.js";
import { run } from "../../cli/run.js";
import { corpusFiles } from "./corpus-files.js";

const SUMMARY = path.join(import.meta.dirname, "fixtures", "corpus-summary.json");
const PIPELINES = { none: undefined, ecs: SIGMA_PIPELINES.ecs, sysmon: SIGMA_PIPELINES.sysmon };

/** A problem's reason with rule-specific names (in backticks) left out, to group by; log sources stay. */
function reasonGroup(reason: string): string {
  return reason
    .replace(/^search identifier `[^`]*`: /, "")
    .replace(/`[^`]*`/g, "`…`");
}

function summarize(r: ImportResult): { converted: number; problems: Record<string, number> } {
  const problems: Record<string, number> = {};
  for (const p of r.problems) problems[reasonGroup(p.reason)] = (problems[reasonGroup(p.reason)] ?? 0) + 1;
  const sorted = Object.fromEntries(Object.entries(problems).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
  return { converted: r.converted, problems: sorted };
}

const files = corpusFiles();
const results = Object.fromEntries(Object.entries(PIPELINES).map(([name, pipeline]) => [name, convertSigma(files, { pipeline })])) as Record<
  keyof typeof PIPELINES,
  ImportResult
>;

t.test("conversion counts and grouped reasons match the golden summary", async (t) => {
  const summary = { rules: files.length, pipelines: Object.fromEntries(Object.entries(results).map(([k, r]) => [k, summarize(r)])) };
  if (process.env["SIGMA_UPDATE_SUMMARY"] === "1") writeFileSync(SUMMARY, JSON.stringify(summary, null, 2) + "\n");
  t.same(summary, JSON.parse(readFileSync(SUMMARY, "utf8")));
  t.equal(files.length, 725, "the corpus");
  t.equal(results.none.converted, 616, "no pipeline: fields as named, keyword rules need a keyword field");
  t.equal(results.ecs.converted, 724, "ecs");
  t.equal(results.sysmon.converted, 135, "sysmon (only Linux process, file and network rules are Sysmon sources here)");
});

t.test("every rule is either converted or reported, once", async (t) => {
  for (const [name, r] of Object.entries(results)) {
    t.equal(r.converted + r.problems.length, files.length, name);
    t.equal((r.policy.match(/^detect "/gm) ?? []).length, r.converted, `${name}: one detect block per converted rule`);
    const reported = new Set(r.problems.map((p) => p.rule));
    t.equal(reported.size, r.problems.length, `${name}: no rule reported twice`);
    t.notOk(r.problems.some((p) => p.reason.startsWith("internal error")), `${name}: no internal errors`);
  }
});

t.test("authors, references and sources are kept in each rule's comment", async (t) => {
  const r = results.ecs;
  t.equal((r.policy.match(/^# Sigma: .* \(rules\/.*\.yml\)$/gm) ?? []).length, 724);
  t.equal((r.policy.match(/^# author: /gm) ?? []).length, files.filter((f) => /^author:/m.test(f.text)).length - 1, "every converted rule with an author");
  t.match(r.policy, /# Sigma rules are shared under the Detection Rule License \(DRL\) 1\.1/);
});

t.test("each converted policy passes `swarm-policy check` and `fmt --check` (real CLI)", async (t) => {
  const dir = t.testdir(Object.fromEntries(Object.entries(results).map(([k, r]) => [`${k}.policy`, r.policy])));
  for (const name of Object.keys(results)) {
    const check = await run(["check", `${name}.policy`, "--format", "json"], { cwd: dir });
    t.equal(check.code, 0, `check ${name}.policy`);
    const report = JSON.parse(check.stdout) as { errors: number; warnings: number };
    t.same([report.errors, report.warnings], [0, 0], `${name}: no errors, no warnings`);
    const fmt = await run(["fmt", "--check", `${name}.policy`], { cwd: dir });
    t.equal(fmt.code, 0, `fmt --check ${name}.policy: ${fmt.stdout}${fmt.stderr}`);
  }
});

t.test("the import verb on the corpus: policy on stdout, one stderr line per unconverted rule, exit 1", async (t) => {
  const root = path.resolve(import.meta.dirname, "../../..", "../shared/corpora/sigma");
  const r = await run(["import", "sigma", "--pipeline", "ecs", ...files.map((f) => f.name)], { cwd: root });
  t.equal(r.code, 1);
  t.equal(r.stdout, results.ecs.policy);
  t.equal(
    r.stderr,
    "rule HackTool - CobaltStrike Malleable Profile Patterns - Proxy (rules/web/proxy_generic/proxy_hktl_cobalt_strike_malleable_c2_requests.yml): " +
      "cannot convert: search identifier `selection_amazon_1`: field `cs-cookie` cannot be read by name in a detect rule (it is not an identifier); map it with a pipeline\n",
  );
});
