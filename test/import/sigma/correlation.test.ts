/**
 * Sigma correlation rules: the specification's own examples
 * (../shared/corpora/sigma/specification/tests/schema/correlation/, read in
 * place and unmodified) converted together with detection rules that carry
 * the ids and names they refer to (fixtures/), then run through the real
 * correlation engine: thresholds, distinct counts, windows, grouping, order.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import t from "tap";
import { convertSigma, SIGMA_PIPELINES, type ImportResult } from "../../../src/index.js";
import { convert, runEvents } from "./helpers.js";

const repoRoot = path.resolve(import.meta.dirname, "../../..");
const SPEC = path.resolve(repoRoot, "../shared/corpora/sigma/specification/tests/schema/correlation");
const FIXTURES = path.resolve(import.meta.dirname, "fixtures");

function specSources(): { name: string; text: string }[] {
  return [
    ...readdirSync(SPEC)
      .filter((f) => f.endsWith(".yml"))
      .sort()
      .map((f) => ({ name: f, text: readFileSync(path.join(SPEC, f), "utf8") })),
    { name: "correlation-base-rules.yml", text: readFileSync(path.join(FIXTURES, "correlation-base-rules.yml"), "utf8") },
  ];
}

/** One detect block of the result, alone (with the file header), by rule name. */
function only(r: ImportResult, name: string): string {
  const blocks = r.policy.split(/\n(?=# Sigma: )/);
  const block = blocks.find((b) => b.includes(`detect ${JSON.stringify(name)} {`));
  if (block === undefined) throw new Error(`no rule ${name} in\n${r.policy}`);
  return block;
}

const at = (min: number, sec = 0) => new Date(Date.parse("2026-03-10T09:00:00Z") + min * 60_000 + sec * 1000).toISOString();

t.test("the specification's examples: four types convert, the value_* types are reported", async (t) => {
  const r = convertSigma(specSources());
  t.equal(r.converted, 5, "event_count, event_count_ecs, temporal, temporal_ordered, value_count");
  t.same(
    r.problems.map((p) => p.reason),
    ["value_avg", "value_percentile", "value_sum"].map((type) => `correlation type \`${type}\` is not supported (event_count, value_count, temporal, temporal_ordered are)`),
  );
  t.notMatch(r.policy, /detect "Failed logon"/, "a referenced rule is not emitted on its own (no `generate: true`)");
  t.match(only(r, "Many failed logins"), /by ComputerName within 1h\n {2}having count >= 100\n/);
  t.match(only(r, "Many failed logins-2"), /by dns\.question\.name within 1h/);
  t.match(only(r, "Failed login"), /by ComputerName, WorkstationName within 1d\n {2}having distinct User >= 100\n/);
  t.match(only(r, "Recon"), /by ComputerName, User within 5m\n {2}all \{/);
  t.match(only(r, "Recon ordered"), /by ComputerName, User within 5m\n {2}sequence \{\n {4}recon_cmd_a: [^\n]*\n {4}recon_cmd_b: [^\n]*\n {4}recon_cmd_c: /);
});

t.test("event_count: 100 failed logons on one host within an hour", async (t) => {
  const policy = only(convertSigma(specSources()), "Many failed logins");
  const fail = (host: string, i: number) => ({ "@timestamp": at(0, i * 30), EventID: 4625, ComputerName: host });
  const ninetyNine = Array.from({ length: 99 }, (_, i) => fail("dc1", i));
  t.equal(runEvents(policy, ninetyNine).alerts.length, 0, "99 are not enough");
  t.equal(runEvents(policy, [...ninetyNine, fail("dc2", 99)]).alerts.length, 0, "another host's failure does not count");
  t.equal(runEvents(policy, [...ninetyNine, { "@timestamp": at(50), EventID: 4624, ComputerName: "dc1" }]).alerts.length, 0, "a success does not count");
  const hit = runEvents(policy, [...ninetyNine, fail("dc1", 99)]);
  t.equal(hit.alerts.length, 1, "the 100th fires");
  t.same(hit.alerts[0]!.group, { ComputerName: "dc1" });
  t.equal(hit.alerts[0]!.count, 100);
  const spread = Array.from({ length: 100 }, (_, i) => ({ "@timestamp": at(i), EventID: "4625", ComputerName: "dc1" }));
  t.equal(runEvents(policy, spread).alerts.length, 0, "100 spread over 99 minutes: never 100 within the hour");
});

t.test("value_count: 100 distinct users failing against one host pair within a day", async (t) => {
  const policy = only(convertSigma(specSources()), "Failed login");
  const ev = (user: string, i: number) => ({ "@timestamp": at(i), EventID: 4625, ComputerName: "srv", WorkstationName: "ws1", User: user });
  const users99 = Array.from({ length: 99 }, (_, i) => ev(`u${i}`, i));
  t.equal(runEvents(policy, [...users99, ev("u0", 100), ev("u1", 101)]).alerts.length, 0, "repeated users do not count twice");
  t.equal(runEvents(policy, [...users99, { ...ev("u99", 100), WorkstationName: "ws2" }]).alerts.length, 0, "another group");
  t.equal(runEvents(policy, [...users99, ev("u99", 100)]).alerts.length, 1, "the 100th distinct user fires");
});

t.test("temporal: three recon commands in any order, same host and user, within 5 minutes", async (t) => {
  const policy = only(convertSigma(specSources()), "Recon");
  const ev = (cmd: string, min: number, user = "bob") => ({ "@timestamp": at(min), CommandLine: cmd, ComputerName: "h1", User: user });
  t.equal(runEvents(policy, [ev("ipconfig /all", 0), ev("WHOAMI", 1), ev("net user x", 2)]).alerts.length, 1, "any order fires");
  t.equal(runEvents(policy, [ev("ipconfig", 0), ev("whoami", 1)]).alerts.length, 0, "two of three do not");
  t.equal(runEvents(policy, [ev("ipconfig", 0), ev("whoami", 1), ev("net user", 2, "eve")]).alerts.length, 0, "another user");
  t.equal(runEvents(policy, [ev("ipconfig", 0), ev("whoami", 1), ev("net user", 6)]).alerts.length, 0, "outside 5 minutes");
});

t.test("temporal_ordered: the same commands, in the listed order only", async (t) => {
  const policy = only(convertSigma(specSources()), "Recon ordered");
  const ev = (cmd: string, min: number) => ({ "@timestamp": at(min), CommandLine: cmd, ComputerName: "h1", User: "bob" });
  t.equal(runEvents(policy, [ev("whoami", 0), ev("net user", 1), ev("ipconfig", 2)]).alerts.length, 1, "in order fires");
  t.equal(runEvents(policy, [ev("ipconfig", 0), ev("net user", 1), ev("whoami", 2)]).alerts.length, 0, "reversed does not");
  t.equal(runEvents(policy, [ev("net user", 0), ev("whoami", 1), ev("ipconfig", 2)]).alerts.length, 0, "b before a does not");
});

t.test("a chained correlation (the specification's failed logins followed by a success)", async (t) => {
  const r = convertSigma([{ name: "chain.yml", text: readFileSync(path.join(FIXTURES, "failed-logins-then-success.yml"), "utf8") }]);
  t.same(r.problems, []);
  t.equal(r.converted, 1, "one detect block: the outer correlation");
  t.match(r.policy, /sequence \{\n {4}multiple_failed_login: \(EventID \?\? false\) in \[529, "529", 4625, "4625"\] count >= 10\n {4}successful_login: /);
  t.match(r.policy, /# author: Florian Roth \(Nextron Systems\)\n# references:\n# {3}https:\/\/reference\.com\n/, "authors and references kept");
  const ev = (id: number, min: number, user = "bob") => ({ "@timestamp": at(min), EventID: id, User: user });
  const tenFails = Array.from({ length: 10 }, (_, i) => ev(4625, i * 0.5));
  t.equal(runEvents(r.policy, [...tenFails, ev(4624, 6)]).alerts.length, 1, "ten failures then a success");
  t.equal(runEvents(r.policy, [...tenFails.slice(1), ev(4624, 6)]).alerts.length, 0, "nine are not enough");
  t.equal(runEvents(r.policy, [ev(4624, 0), ...tenFails.map((e, i) => ({ ...e, "@timestamp": at(1 + i * 0.5) }))]).alerts.length, 0, "success first");
  t.equal(runEvents(r.policy, [...tenFails, ev(4624, 6, "eve")]).alerts.length, 0, "another user's success");
});

t.test("the referenced rules go through the pipeline (sysmon: EventID 1 in each step)", async (t) => {
  const r = convertSigma(specSources(), { pipeline: SIGMA_PIPELINES.sysmon });
  const recon = only(r, "Recon");
  t.match(recon, /recon_cmd_a: \(EventID \?\? false\) in \[1, "1"\]/);
  const ev = (cmd: string, min: number, id = 1) => ({ "@timestamp": at(min), EventID: id, Channel: "Microsoft-Windows-Sysmon/Operational", CommandLine: cmd, ComputerName: "h", User: "u" });
  t.equal(runEvents(recon, [ev("whoami", 0), ev("net user", 1), ev("ipconfig", 2)]).alerts.length, 1);
  t.equal(runEvents(recon, [ev("whoami", 0), ev("net user", 1), ev("ipconfig", 2, 3)]).alerts.length, 0, "not a process creation");
  // The failed-logon rule is windows/security: not a Sysmon log source, so both counts that use it are reported.
  t.match(r.problems.map((p) => p.reason).join("\n"), /referenced rule `Failed logon`: logsource product=windows service=security is not covered by pipeline `sysmon`/);
});

const BASE = `title: Base
name: base
logsource:
  product: test
detection:
  sel:
    A: x
  condition: sel
`;

function corr(body: string, extra = ""): string {
  return `title: C\n${extra}correlation:\n${body}\n`;
}

t.test("what cannot be converted is reported, naming the reason", async (t) => {
  const cases: [string, string][] = [
    [corr("  type: event_count\n  rules: [base]\n  group-by: [H]\n  timespan: 1h\n  condition:\n    lt: 5"), "the event_count condition `lt` needs the count at the end of the window, and the engine decides as events arrive"],
    [corr("  type: event_count\n  rules: [base]\n  group-by: [H]\n  timespan: 1h\n  condition:\n    gt: 5\n    lte: 9"), "the event_count condition is a range (gt and lte); only one `gt` or `gte` is supported"],
    [corr("  type: event_count\n  rules: [base]\n  timespan: 1h\n  condition:\n    gte: 5"), "the correlation has no `group-by`; the engine needs grouping fields for a window"],
    [corr("  type: event_count\n  rules: [base]\n  group-by: [H]\n  timespan: 1M\n  condition:\n    gte: 5"), 'timespan "1M" is not a number followed by s, m, h or d'],
    [corr("  type: temporal\n  rules: [base]\n  group-by: [H]\n  timespan: 1h\n  aliases:\n    ip:\n      base: source.ip"), "field name `aliases` are not supported: `by` reads the same fields in every event"],
    [corr("  type: value_count\n  rules: [base]\n  group-by: [H]\n  timespan: 1h\n  condition:\n    gte: 5"), "a value_count condition needs one `field`"],
    [corr("  type: event_count\n  rules: [base]\n  group-by: [c-ip]\n  timespan: 1h\n  condition:\n    gte: 5"), "field `c-ip` cannot be read by name in a detect rule (it is not an identifier); map it with a pipeline"],
    [corr("  type: event_count\n  rules: [base]\n  group-by: [H]\n  timespan: 1h\n  condition:\n    gte: 1e21"), "the event_count condition's `gte` is beyond the counts the engine keeps exactly"],
    [corr("  type: event_count\n  rules: [base]\n  group-by: [H]\n  timespan: 99999999999999999999d\n  condition:\n    gte: 5"), "timespan \"99999999999999999999d\" is longer than the engine's windows (at most 2^53 - 1 ms)"],
  ];
  for (const [c, reason] of cases) {
    const r = convert([BASE, c]);
    t.same(r.problems, [
      { rule: "C (rule2.yml)", reason },
      { rule: "Base (rule1.yml)", reason: "it is only part of correlations that cannot be converted" },
    ], reason);
    t.equal(r.converted, 0);
  }
});

t.test("a reference to a rule that is not in the input is reported; the base rule then stands alone", async (t) => {
  const r = convert([BASE, corr("  type: event_count\n  rules: [nothere]\n  group-by: [H]\n  timespan: 1h\n  condition:\n    gte: 5")]);
  t.same(r.problems, [{ rule: "C (rule2.yml)", reason: "it refers to rule `nothere`, which is not among the input files" }]);
  t.equal(r.converted, 1);
  t.match(r.policy, /detect "Base" \{/);
});

t.test("generate: true also emits the referenced rule on its own; level sets the severity", async (t) => {
  const r = convert([BASE, corr("  type: event_count\n  rules: [base]\n  group-by: [H]\n  timespan: 90s\n  condition:\n    gt: 2", "level: critical\ngenerate: true\n")]);
  t.same(r.problems, []);
  t.equal(r.converted, 2);
  t.match(r.policy, /detect "Base" \{\n {2}severity medium\n {2}where /);
  t.match(r.policy, /detect "C" \{\n {2}severity critical\n {2}where \(type\(A \?\? false\) == "string" and lower\(A\) == "x"\)|detect "C" \{\n {2}severity critical\n {2}where type/);
  t.match(r.policy, /by H within 90s\n {2}having count >= 3\n/, "`gt: 2` is `>= 3`");
});

t.test("a rule `name` that is a policy keyword is not used as a step name (the output parses, steps fall back to rule_N)", async (t) => {
  // Sigma names are free text; `and`, `test`, `like` are hard keywords, and `count` after a step's
  // condition is read as the step's count. Such a name made the whole import fail to parse.
  const base = (name: string, v: string) => `title: R ${name}\nname: ${name}\nlogsource:\n  product: test\ndetection:\n  sel:\n    A: ${v}\n  condition: sel\n`;
  for (const [first, second] of [["and", "count"], ["test", "like"], ["now", "not"]] as const) {
    const r = convert([base(first, "x"), base(second, "y"), corr(`  type: temporal_ordered\n  rules: [${first}, ${second}]\n  group-by: [H]\n  timespan: 5m`)]);
    t.same(r.problems, [], `${first}, ${second}`);
    t.equal(r.converted, 1);
    t.match(r.policy, /sequence \{\n {4}rule_1: [^\n]*\n {4}rule_2: /);
    const ev = (a: string, sec: number) => ({ "@timestamp": at(0, sec), A: a, H: "h" });
    t.equal(runEvents(r.policy, [ev("x", 0), ev("y", 1)]).alerts.length, 1, "in order fires");
    t.equal(runEvents(r.policy, [ev("y", 0), ev("x", 1)]).alerts.length, 0, "reversed does not");
  }
});
