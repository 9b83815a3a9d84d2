/**
 * Pipelines: the built-in `sysmon` and `ecs`, and pipelines read from YAML
 * (docs/sigma.md): logsource conditions, field renames, keyword fields,
 * unmapped log sources, and the errors a malformed pipeline file gives.
 */
import t from "tap";
import { ImportInputError, loadSigmaPipeline, SIGMA_PIPELINES } from "../../../src/index.js";
import { convert, fires, runEvents, whereOf } from "./helpers.js";

function sigma(logsource: string, detection: string): string {
  return `title: T\nlogsource:\n${logsource}\ndetection:\n${detection}\n`;
}

const PROC = sigma("  product: windows\n  category: process_creation", "  sel:\n    Image|endswith: '\\whoami.exe'\n  condition: sel");

t.test("sysmon: process_creation is EventID 1 on the Sysmon channel", async (t) => {
  const r = convert(PROC, SIGMA_PIPELINES.sysmon);
  t.same(r.problems, []);
  t.equal(
    whereOf(r),
    `(EventID ?? false) in [1, "1"] and (Channel ?? false) == "Microsoft-Windows-Sysmon/Operational" and type(Image ?? false) == "string" and lower(Image) ends_with "\\\\whoami.exe"`,
  );
  const ev = { EventID: 1, Channel: "Microsoft-Windows-Sysmon/Operational", Image: "C:\\Windows\\System32\\WHOAMI.EXE" };
  t.ok(fires(r.policy, ev));
  t.ok(fires(r.policy, { ...ev, EventID: "1" }), "the event id as text (XML renderings)");
  t.notOk(fires(r.policy, { ...ev, EventID: 3 }), "a network connection event");
  t.notOk(fires(r.policy, { ...ev, Channel: "Security" }), "another channel");
  t.notOk(fires(r.policy, { Image: ev.Image }), "no event id at all");
});

t.test("sysmon: the other categories, Sysmon for Linux, and service: sysmon", async (t) => {
  const rows: [string, RegExp][] = [
    ["  product: windows\n  category: network_connection", /\(EventID \?\? false\) in \[3, "3"\]/],
    ["  product: windows\n  category: registry_event", /in \[12, "12", 13, "13", 14, "14"\]/],
    ["  product: windows\n  category: dns_query", /in \[22, "22"\]/],
    ["  product: windows\n  category: file_delete", /in \[23, "23", 26, "26"\]/],
    ["  product: linux\n  category: process_creation", /in \[1, "1"\] and \(Channel \?\? false\) == "Linux-Sysmon\/Operational"/],
    ["  product: windows\n  service: sysmon", /^\(Channel \?\? false\) == "Microsoft-Windows-Sysmon\/Operational" and /],
  ];
  for (const [ls, want] of rows) {
    const r = convert(sigma(ls, "  sel:\n    A: b\n  condition: sel"), SIGMA_PIPELINES.sysmon);
    t.same(r.problems, [], ls);
    t.match(whereOf(r), want, ls);
  }
});

t.test("sysmon: a log source Sysmon does not write is reported", async (t) => {
  const r = convert(sigma("  product: windows\n  service: security", "  sel:\n    EventID: 4625\n  condition: sel"), SIGMA_PIPELINES.sysmon);
  t.same(r.problems.map((p) => p.reason), ["logsource product=windows service=security is not covered by pipeline `sysmon`"]);
});

t.test("ecs: fields renamed, product and category as conditions on strings or lists", async (t) => {
  const r = convert(PROC, SIGMA_PIPELINES.ecs);
  t.same(r.problems, []);
  t.match(whereOf(r), /^\(host\.os\.type \?\? false\) == "windows" and /);
  t.match(whereOf(r), /lower\(process\.executable\) ends_with "\\\\whoami\.exe"$/);
  const ev = { host: { os: { type: "windows" } }, event: { category: ["process"], type: ["start"] }, process: { executable: "C:\\x\\whoami.exe" } };
  t.ok(fires(r.policy, ev), "ECS lists");
  t.ok(fires(r.policy, { ...ev, event: { category: "process", type: "start" } }), "plain strings");
  t.notOk(fires(r.policy, { ...ev, event: { category: ["process"], type: ["end"] } }), "a process end");
  t.notOk(fires(r.policy, { ...ev, host: { os: { type: "linux" } } }));
  // A documented limit: a path through a value that is not an object is an evaluation error,
  // which the detector counts; the rule then does not match that event.
  const odd = runEvents(r.policy, [{ ...ev, event: "garbage" }]);
  t.equal(odd.alerts.length, 0, "`event` is a string: no alert");
  t.equal(odd.errors, 1, "and the error is counted");
});

t.test("ecs: web log fields and keywords", async (t) => {
  const r = convert(sigma("  category: proxy", "  sel:\n    c-uri|contains: '/admin'\n    sc-status: 200\n  kw:\n    - 'sqlmap'\n  condition: sel or kw"), SIGMA_PIPELINES.ecs);
  t.same(r.problems, []);
  const ev = { event: { category: ["web"] }, url: { original: "http://h/ADMIN/x" }, http: { response: { status_code: 200 } } };
  t.ok(fires(r.policy, ev));
  t.notOk(fires(r.policy, { ...ev, http: { response: { status_code: 404 } } }));
  t.ok(fires(r.policy, { event: { category: "web" }, message: "GET / sqlmap/1.5" }));
});

t.test("a user pipeline: renames with alternatives, conditions, keywords, unmapped log sources", async (t) => {
  const pipeline = loadSigmaPipeline({
    name: "mine.yml",
    text: [
      "name: mine",
      "keywords: raw",
      "unmapped-logsource: reject",
      "fields:",
      "  Image: [proc.path, proc.image]",
      "logsources:",
      "  - product: windows",
      "    category: process_creation",
      "    condition: 'kind == \"exec\" or kind == \"spawn\"'",
      "    fields:",
      "      CommandLine: proc.cmd",
    ].join("\n"),
  });
  const r = convert(sigma("  product: windows\n  category: process_creation", "  sel:\n    Image|endswith: '\\x.exe'\n    CommandLine|contains: evil\n  kw: [boom]\n  condition: sel or kw"), pipeline);
  t.same(r.problems, []);
  t.match(whereOf(r), /^\(kind == "exec" or kind == "spawn"\) and /, "an `or` condition is parenthesised");
  const ev = { kind: "spawn", proc: { image: "c:\\x.exe", cmd: "run EVIL" } };
  t.ok(fires(r.policy, ev), "the second alternative field");
  t.ok(fires(r.policy, { ...ev, proc: { path: "c:\\x.exe", cmd: "evil" } }), "the first alternative field");
  t.ok(fires(r.policy, { kind: "exec", raw: "BOOM!" }), "keywords in `raw`");
  const other = convert(sigma("  product: linux\n  category: process_creation", "  sel:\n    Image: x\n  condition: sel"), pipeline);
  t.same(other.problems.map((p) => p.reason), ["logsource product=linux category=process_creation is not covered by pipeline `mine`"]);
});

t.test("malformed pipeline files are bad input (ImportInputError)", async (t) => {
  const rows: [string, string][] = [
    ["nope: 1", "pipeline p.yml: unknown key `nope` (known: name, description, keywords, unmapped-logsource, fields, logsources)"],
    ["unmapped-logsource: drop", "pipeline p.yml: `unmapped-logsource` is neither `keep` nor `reject`"],
    ["fields:\n  Image: 5", "pipeline p.yml: `fields.Image` is not a field name or a list of them"],
    ["fields:\n  Image: c-uri", "pipeline p.yml: `fields.Image`: field `c-uri` cannot be read by name in a detect rule (it is not an identifier); map it with a pipeline"],
    ["fields:\n  Image: package", "pipeline p.yml: `fields.Image`: field `package` starts with the reserved word `package`; map it with a pipeline"],
    ["logsources:\n  - condition: 'a == 1'", "pipeline p.yml: `logsources[0]` names no product, category or service"],
    ["logsources:\n  - product: x\n    condition: 'a =='", "pipeline p.yml: `logsources[0].condition` is not a policy expression: "],
    ["logsources:\n  - product: x\n    condition: 'a\n      }\n      allow \"x\" {'", "pipeline p.yml: `logsources[0].condition` is not a policy expression"],
    // A comment would run to the end of the rendered `where` line and hide the rule's own detection.
    ["logsources:\n  - product: x\n    condition: '(kind ?? false) == \"exec\" # exec only'", "pipeline p.yml: `logsources[0].condition` holds a comment (`#`)"],
    ["logsources:\n  - product: x\n    condition: |\n      # exec only\n      (kind ?? false) == \"exec\"", "pipeline p.yml: `logsources[0].condition` holds a comment (`#`)"],
    ["keywords: 5", "pipeline p.yml: `keywords` is not a field name"],
    ["- a\n- b", "pipeline p.yml: not a map"],
    ["a: [", "p.yml:1:"],
  ];
  for (const [text, message] of rows) {
    t.throws(() => loadSigmaPipeline({ name: "p.yml", text }), ImportInputError, text);
    try {
      loadSigmaPipeline({ name: "p.yml", text });
    } catch (err) {
      t.ok((err as Error).message.startsWith(message), `${text}: ${(err as Error).message}`);
    }
  }
});

t.test("a `#` inside a string of a pipeline condition is text, not a comment", async (t) => {
  const pipeline = loadSigmaPipeline({ name: "p.yml", text: "logsources:\n  - product: windows\n    condition: '(tag ?? false) == \"#exec\"'" });
  const r = convert(sigma("  product: windows", "  sel:\n    Image: x\n  condition: sel"), pipeline);
  t.same(r.problems, []);
  t.ok(fires(r.policy, { tag: "#exec", Image: "X" }));
  t.notOk(fires(r.policy, { tag: "#exec", Image: "y" }), "the rule's own detection still applies");
});
