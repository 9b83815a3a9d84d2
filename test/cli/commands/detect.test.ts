import t from "tap";
import { Readable } from "node:stream";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { run } from "../run.js";
import { main } from "../../../src/cli/main.js";
import type { CliIO } from "../../../src/cli/context.js";
import { summaryText } from "../../../src/cli/commands/detect.js";
import type { DetectorStats, RuleStats } from "../../../src/runtime/siem/detector.js";

const POLICY = `package demo
detect "brute-force" {
  severity high
  tags ["MITRE:T1110"]
  where event.category == "authentication" and event.outcome == "failure"
  by user.name within 5m
  having count >= 3
}
`;

const ev = (sec: number, user: string, outcome = "failure") =>
  JSON.stringify({ "@timestamp": new Date(Date.UTC(2026, 0, 1, 0, 0, sec)).toISOString(), event: { category: "authentication", outcome }, user: { name: user } });

t.test("alerts as JSONL on stdout, a summary on stderr", async (t) => {
  const lines = [ev(0, "alice"), ev(10, "bob"), ev(20, "alice"), ev(30, "alice"), ev(40, "alice", "success")];
  const cwd = t.testdir({ "a.policy": POLICY, "events.jsonl": lines.join("\n") + "\n" });
  const r = await run(["detect", "a.policy", "--events", "events.jsonl"], { cwd });
  t.equal(r.code, 0, r.stderr);
  const alerts = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  t.equal(alerts.length, 1);
  t.equal(alerts[0].rule, "brute-force");
  t.equal(alerts[0].severity, "high");
  t.same(alerts[0].group, { "user.name": "alice" });
  t.equal(alerts[0].count, 3);
  t.same(alerts[0].tags, ["MITRE:T1110"]);
  t.match(r.stderr, /^5 events, 1 alerts, 0 lines skipped, 0 late$/m);
  t.match(r.stderr, /^ {2}brute-force: 1$/m);
});

t.test("bad lines are reported with their number and skipped; the stream goes on", async (t) => {
  const lines = [ev(0, "alice"), "{not json", ev(10, "alice"), JSON.stringify({ event: { category: "authentication" } }), "", ev(20, "alice")];
  const r = await run(["detect", "a.policy", "--events", "-"], { cwd: t.testdir({ "a.policy": POLICY }), stdin: lines.join("\n") });
  t.equal(r.code, 0);
  t.equal(r.stdout.trim().split("\n").length, 1, "the alert still fires");
  // Events read and lines skipped add up to the non-blank lines: the event without @timestamp is skipped, not read.
  t.match(r.stderr, /^3 events, 1 alerts, 2 lines skipped, 0 late$/m);
  t.match(r.stderr, /line 2: not JSON/);
  t.match(r.stderr, /line 4: .*@timestamp/);
});

t.test("a bad line's escape sequences never reach the terminal: the summary names where it broke, quoting no text", async (t) => {
  // Events are written by whoever can reach a log: a line may carry ESC sequences meant for the analyst's terminal.
  const lines = [ev(0, "alice"), "nope \u001b[2J\u001b]0;pwned\u0007", '{"@timestamp": "x\u001b[31m', ev(10, "alice")];
  const r = await run(["detect", "a.policy", "--events", "-"], { cwd: t.testdir({ "a.policy": POLICY }), stdin: lines.join("\n") });
  t.equal(r.code, 0);
  t.notMatch(r.stderr, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, "no control character but newlines on stderr");
  t.match(r.stderr, /\n {2}line 2: not JSON: line 1, column 1: unexpected "n"\n/);
  t.match(r.stderr, /\n {2}line 3: not JSON: line 1, column 18: a control character in a string \(write it escaped\)\n/);
  t.notMatch(r.stderr, /pwned/, "the line itself is not quoted");
});

t.test("the summary names each rule's non-zero missing-field, evicted-group and error counts", async (t) => {
  const policy = POLICY + `
detect "big-upload" {
  where event.category == "authentication" and bytes > 1000
}
detect "quiet" {
  where event.category == "authentication" and event.outcome == "unknown"
}
`;
  const lines = [
    ev(0, "alice"),
    JSON.stringify({ "@timestamp": "2026-01-01T00:00:01.000Z", event: { category: "authentication", outcome: "failure" } }),
    JSON.stringify({ "@timestamp": "2026-01-01T00:00:02.000Z", event: { category: "authentication", outcome: "failure" }, user: { name: "bob" }, bytes: "many" }),
    ev(3, "alice"),
    ev(4, "alice"),
  ];
  const r = await run(["detect", "p.policy", "--events", "-"], { cwd: t.testdir({ "p.policy": policy }), stdin: lines.join("\n") });
  t.equal(r.code, 0, r.stderr);
  // brute-force: the event without user.name has no group. big-upload: four events lack bytes, one has a string.
  t.match(r.stderr, /^ {2}brute-force: 1 \(missing field: 1\)$/m);
  t.match(r.stderr, /^ {2}big-upload: 0 \(missing field: 4, errors: 1\)$/m);
  t.notMatch(r.stderr, /quiet/, "a rule with nothing to report is not listed");
});

t.test("summaryText lists evicted groups (the cap is an engine option)", async (t) => {
  const rule = (o: Partial<RuleStats>): RuleStats => ({ matched: 0, missingField: 0, errors: 0, evictedGroups: 0, evictedEvents: 0, alerts: 0, liveGroups: 0, ...o });
  const stats: DetectorStats = {
    events: 9,
    malformed: 0,
    late: 0,
    alerts: 2,
    rules: { "a/scan": rule({ evictedGroups: 7, alerts: 2 }), "a/calm": rule({ matched: 3 }), "b.c/odd": rule({ errors: 2, missingField: 1 }) },
    problems: [],
    ruleProblems: {},
  };
  t.equal(
    summaryText(stats, new Map([["scan", 2]]), 0, []),
    "9 events, 2 alerts, 0 lines skipped, 0 late\n  odd: 0 (missing field: 1, errors: 2)\n  scan: 2 (evicted groups: 7)",
  );
});

t.test("errors: unreadable events exit 2, broken policies exit 1, bad --lateness exit 2", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICY, "bad.policy": POLICY.replace("by user.name", "by user.name,") });
  const missing = await run(["detect", "a.policy", "--events", "nope.jsonl"], { cwd });
  t.equal(missing.code, 2);
  t.match(missing.stderr, /cannot read events nope\.jsonl: no such file or directory/);
  const broken = await run(["detect", "bad.policy", "--events", "-"], { cwd, stdin: ev(0, "alice") });
  t.equal(broken.code, 1);
  t.equal(broken.stdout, "");
  const lateness = await run(["detect", "a.policy", "--events", "-", "--lateness", "soon"], { cwd });
  t.equal(lateness.code, 2);
});

t.test("--lateness: the policy language's durations; malformed or overflowing values refused (exit 2, no alerts)", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICY, "snap.json": "" });
  const stdin = [ev(0, "alice"), ev(10, "alice"), ev(20, "alice")].join("\n");
  // 10^42 hours was Infinity milliseconds: no event was ever late and no window ever closed, without a word.
  const huge = "9".repeat(42) + "h";
  for (const value of ["5", "5 m", "1h30", "-5s", "1.5s", "", " ", huge, "9007199254740993ms"]) {
    const r = await run(["detect", "a.policy", "--events", "-", "--lateness", value], { cwd, stdin });
    t.equal(r.code, 2, value);
    t.equal(r.stdout, "", value);
    t.match(r.stderr, /^swarm-policy: (--lateness must be a duration such as 500ms, 30s, 5m or 1h30m \(units ms s m h d w\), got "|option '--lateness <duration>' must not be empty or blank)/, value);
  }
  for (const value of ["0s", "1h30m", "2d"]) {
    const r = await run(["detect", "a.policy", "--events", "-", "--lateness", value], { cwd, stdin });
    t.equal(r.code, 0, value);
    t.equal(r.stdout.trim().split("\n").length, 1, `${value}: one alert`);
  }
  // A forgotten value: --risk-out took "--lateness" and "5m" became a policy path.
  const flag = await run(["detect", "a.policy", "--events", "-", "--risk-out", "--lateness", "5m"], { cwd, stdin });
  t.equal(flag.code, 2);
  t.match(flag.stderr, /^swarm-policy: option '--risk-out <file>' got "--lateness" as its value/);
});

t.test("a progress line on a terminal (stderr), none otherwise", async (t) => {
  const lines = Array.from({ length: 100_001 }, (_, i) => ev(i, `u${i % 1000}`, "success"));
  const cwd = t.testdir({ "a.policy": POLICY });
  const tty = await run(["detect", "a.policy", "--events", "-"], { cwd, stdin: lines.join("\n"), stderrIsTTY: true });
  t.equal(tty.code, 0);
  t.match(tty.stderr, /\r50000 lines, 0 alerts, \d+ events\/s\r100000 lines, 0 alerts, \d+ events\/s\r\x1b\[K100001 events, 0 alerts/);
  const pipe = await run(["detect", "a.policy", "--events", "-"], { cwd, stdin: lines.join("\n") });
  t.notMatch(pipe.stderr, /\r/);
  t.match(pipe.stderr, /^100001 events, 0 alerts, 0 lines skipped, 0 late$/m);
});

t.test("constant memory: the input is read only a little ahead of the detector", async (t) => {
  // A generated stream of 64 MB that is never held whole: each line is made when read.
  // Every event fires the rule, so each alert on stdout says how far the detector is.
  const cwd = t.testdir({ "all.policy": 'detect "all" { where event.action == "x" }\n' });
  const { input, made } = firingStream();
  let alerts = 0;
  let maxAhead = 0;
  const io: CliIO = {
    stdout: (s) => {
      const a = JSON.parse(s) as { events: { n: number }[] };
      alerts++;
      // Lines before this one are about line(0).length each; they are all consumed.
      maxAhead = Math.max(maxAhead, made() - a.events[0]!.n);
    },
    stderr: () => {},
    readStdin: async () => "",
    stdinStream: () => input,
    cwd,
    env: {},
    stdoutIsTTY: false,
    stderrIsTTY: false,
  };
  const code = await main(["node", "swarm-policy", "detect", "all.policy", "--events", "-"], io);
  t.equal(code, 0);
  t.equal(alerts, made(), "every line was read and fired");
  t.ok(made() > 200_000, `${made()} lines, ${FIRING_MB} MB`);
  // Read-ahead is a few of readline's and the stream's buffers, whatever the input size.
  t.ok(maxAhead < 10_000, `at most ${maxAhead} lines (about ${Math.round((maxAhead * firingLine(0).length) / 1024)} KB) read ahead of the detector`);
});

t.test("a leading BOM, CRLF line ends and a last line without a newline are read as JSONL", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICY, "events.jsonl": "\uFEFF" + [ev(0, "alice"), ev(10, "alice"), "", ev(20, "alice")].join("\r\n") });
  const r = await run(["detect", "a.policy", "--events", "events.jsonl"], { cwd });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.trim().split("\n").length, 1, "the first line counts");
  t.match(r.stderr, /^3 events, 1 alerts, 0 lines skipped, 0 late$/m);
});

t.test("a line that is not UTF-8 is reported by its line and skipped, as POST /v1/events does; it was read with U+FFFD", async (t) => {
  // Line 2 holds a Latin-1 é, line 4 an overlong encoding of "/" (C0 AF); both were events with U+FFFD in them.
  const cwd = t.testdir({ "a.policy": POLICY });
  const latin1 = Buffer.from(ev(5, "jos?")).toString("latin1").replace("?", "\u00e9");
  writeFileSync(
    path.join(cwd, "events.jsonl"),
    Buffer.concat([Buffer.from("\ufeff" + ev(0, "alice") + "\r\n"), Buffer.from(latin1, "latin1"), Buffer.from("\r\n" + ev(10, "alice") + "\n"), Buffer.from('{"x":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}\n' + ev(20, "alice") + "\n")]),
  );
  const r = await run(["detect", "a.policy", "--events", "events.jsonl"], { cwd });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /^3 events, 1 alerts, 2 lines skipped, 0 late$/m);
  const column = ev(5, "jos?").indexOf("?") + 1;
  t.match(r.stderr, `  line 2: not valid UTF-8 (byte 0xe9 at column ${column})\n`);
  t.match(r.stderr, "  line 4: not valid UTF-8 (byte 0xc0 at column 7)\n");
});

t.test("a line longer than the limit is reported as malformed without being held; the stream goes on", async (t) => {
  // 100 MB of one line, made as it is read, then three events.
  const chunk = "x".repeat(64 * 1024);
  let sent = 0;
  const input = new Readable({
    read() {
      if (sent === 0) this.push('{"pad":"');
      if (sent < 1600) {
        sent++;
        this.push(chunk);
        return;
      }
      this.push('"}\n' + [ev(0, "alice"), ev(10, "alice"), ev(20, "alice")].join("\n"));
      this.push(null);
    },
  });
  let stdout = "";
  let stderr = "";
  const io: CliIO = {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    readStdin: async () => "",
    stdinStream: () => input,
    cwd: t.testdir({ "a.policy": POLICY }),
    env: {},
    stdoutIsTTY: false,
    stderrIsTTY: false,
  };
  const code = await main(["node", "swarm-policy", "detect", "a.policy", "--events", "-"], io);
  t.equal(code, 0, stderr);
  t.equal(stdout.trim().split("\n").length, 1, "the events after it still alert");
  t.match(stderr, /^3 events, 1 alerts, 1 lines skipped, 0 late$/m);
  t.match(stderr, /line 1: longer than 16777216 bytes/);
});

t.test("events that fail while being read (a directory) exit 2 with a clear message", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICY, dir: {} });
  const r = await run(["detect", "a.policy", "--events", "dir"], { cwd });
  t.equal(r.code, 2);
  t.match(r.stderr, /cannot read events dir: /);
  t.notMatch(r.stderr, /internal error/);
});

t.test("an event nested 100,000 levels deep neither ends the run nor makes its alert unwritable", async (t) => {
  const deep = (sec: number, user: string) => ev(sec, user).replace(/}$/, `,"extra":${"[".repeat(100_000)}1${"]".repeat(100_000)}}`);
  const lines = [ev(0, "alice"), deep(10, "alice"), ev(20, "alice"), ev(30, "bob"), ev(31, "bob"), ev(32, "bob")];
  const r = await run(["detect", "a.policy", "--events", "-"], { cwd: t.testdir({ "a.policy": POLICY }), stdin: lines.join("\n") });
  t.equal(r.code, 0, r.stderr);
  t.notMatch(r.stderr, /internal error/);
  const alerts = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { group: unknown; events: { extra?: unknown }[] });
  t.same(alerts.map((a) => a.group), [{ "user.name": "alice" }, { "user.name": "bob" }], "the deep event's alert, and the events after it");
  t.match(JSON.stringify(alerts[0]!.events[1]!.extra), /nested deeper than 256 levels/);
  t.match(r.stderr, /^6 events, 2 alerts, 0 lines skipped, 0 late$/m);
});

/** An endless-looking stream (64 MB, made as it is read) whose every line fires `all`; `made()` counts lines read so far. */
const FIRING_MB = 64;

/** Line `i` of firingStream. */
function firingLine(i: number): string {
  return JSON.stringify({ "@timestamp": new Date(Date.UTC(2026, 0, 1) + i).toISOString(), event: { action: "x" }, n: i, pad: "p".repeat(200) }) + "\n";
}

function firingStream(): { input: Readable; made: () => number } {
  let produced = 0;
  let made = 0;
  const total = FIRING_MB * 2 ** 20;
  const input = new Readable({
    read() {
      for (let k = 0; k < 64 && produced < total; k++) {
        const l = firingLine(made++);
        produced += l.length;
        this.push(l);
      }
      if (produced >= total) this.push(null);
    },
  });
  return { input, made: () => made };
}

t.test("a stdout that is not being read holds the stream back: alerts are not piled up in memory", async (t) => {
  const cwd = t.testdir({ "all.policy": 'detect "all" { where event.action == "x" }\n' });
  const { input, made } = firingStream();
  let alerts = 0;
  let release!: () => void;
  const released = new Promise<boolean>((resolve) => (release = () => resolve(true)));
  let asked!: () => void;
  const wasAsked = new Promise<"asked">((resolve) => (asked = () => resolve("asked")));
  let blocked = true;
  const io: CliIO = {
    stdout: () => void alerts++,
    stderr: () => {},
    readStdin: async () => "",
    stdinStream: () => input,
    // The reader is slow: stdout stays full until released.
    stdoutReady: () => {
      asked();
      return blocked ? released : Promise.resolve(true);
    },
    cwd,
    env: {},
    stdoutIsTTY: false,
    stderrIsTTY: false,
  };
  const done = main(["node", "swarm-policy", "detect", "all.policy", "--events", "-"], io);
  t.equal(await Promise.race([wasAsked, done.then(() => "finished")]), "asked", "detect waits for stdout instead of finishing the stream");
  for (let i = 0; i < 200; i++) await new Promise((resolve) => setImmediate(resolve));
  const whileBlocked = made();
  t.ok(whileBlocked < 10_000, `${whileBlocked} lines read while stdout was full`);
  blocked = false;
  release();
  t.equal(await done, 0);
  t.equal(alerts, made(), "then every line was read and its alert written");
  t.ok(made() > 200_000);
});

t.test("a stdout whose reader is gone (| head -1) ends the run: the rest of the stream is not read", async (t) => {
  const cwd = t.testdir({ "all.policy": 'detect "all" { where event.action == "x" }\n' });
  const runWith = async (extra: string[]) => {
    const { input, made } = firingStream();
    let stderr = "";
    let alerts = 0;
    const io: CliIO = {
      stdout: () => void alerts++,
      stderr: (s) => void (stderr += s),
      readStdin: async () => "",
      stdinStream: () => input,
      stdoutReady: async () => alerts < 1, // gone after the first alert
      cwd,
      env: {},
      stdoutIsTTY: false,
      stderrIsTTY: false,
    };
    const code = await main(["node", "swarm-policy", "detect", "all.policy", "--events", "-", ...extra], io);
    return { code, stderr, made: made() };
  };
  const gone = await runWith([]);
  t.equal(gone.code, 0);
  t.ok(gone.made < 10_000, `stopped after ${gone.made} lines`);
  t.match(gone.stderr, /^stopped reading events: standard output was closed$/m);
  t.match(gone.stderr, /^\d+ events, \d+ alerts, 0 lines skipped, 0 late$/m);
  // --risk-out is an output of its own: the whole stream is still read for it.
  const riskOut = await runWith(["--risk-out", "risk.json"]);
  t.equal(riskOut.code, 0, riskOut.stderr);
  t.ok(riskOut.made > 200_000, "read to the end");
  t.notMatch(riskOut.stderr, /stopped/);
});
