/**
 * The correlation benchmark's workload (issue #6, "Performance"): a seeded
 * ECS-style event stream with 10,000 distinct users and 10,000 distinct
 * source IPs, and two rule sets written the way a SOC writes them:
 *
 * (a) 100 filter-only rules: a category and an action, then a selective
 *     test (a watch-listed user or address, a port, a process, a path), and
 *     a few that lead with a test no index can use (they run on every event);
 * (b) 50 of those filters, 20 thresholds, 10 distinct-counts, 10 sequences.
 *
 * Event time advances about 0.5 ms per event (2,000 events a second).
 * Windows are 1 to 10 minutes, so every window has filled and memory is at
 * its steady state after 1.2 million events (10 minutes of event time).
 */
import { prng } from "../test/support/prng.js";

const USERS = 10_000;
const IPS = 10_000;
const HOSTS = 500;

/** Category, action and relative weight. */
const ACTIONS: [string, string, number][] = [
  ["network", "connection-accepted", 14],
  ["network", "connection-denied", 6],
  ["network", "dns-query", 10],
  ["network", "flow", 5],
  ["web", "http-request", 20],
  ["authentication", "login", 8],
  ["authentication", "logout", 3],
  ["authentication", "mfa-push", 2],
  ["authentication", "token-refresh", 2],
  ["process", "process-start", 7],
  ["process", "process-end", 5],
  ["file", "file-create", 3],
  ["file", "file-delete", 2],
  ["file", "file-modify", 3],
  ["file", "file-read", 2],
  ["iam", "user-created", 1],
  ["iam", "role-granted", 1],
  ["iam", "password-reset", 1],
  ["configuration", "config-change", 2],
  ["kms", "decrypt", 2],
  ["kms", "key-rotate", 1],
];
const PORTS = [22, 53, 80, 443, 445, 3389, 5432, 6379, 8080, 8443, 4444, 31337];
const PROCESSES = ["bash", "sshd", "python3", "node", "java", "nginx", "curl", "wget", "nc", "mimikatz.exe", "psexec.exe", "powershell.exe", "cmd.exe", "rundll32.exe", "systemd"];
const PATHS = ["/etc/shadow", "/etc/passwd", "/var/log/auth.log", "/home/app/data.db", "/tmp/x", "/opt/models/weights.bin", "/etc/ssh/sshd_config"];
const COUNTRIES = ["DE", "FR", "US", "NL", "BR", "IN", "JP", "KP"];

export const userName = (i: number): string => (i % 50 === 0 ? `svc-${i}` : `user-${i}`);
export const ipOf = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

/** An endless, reproducible ECS-style stream. */
export class EventStream {
  private readonly rand: () => number;
  private readonly table: number[] = [];
  private t = Date.parse("2026-03-10T00:00:00Z");

  constructor(seed: number) {
    this.rand = prng(seed);
    ACTIONS.forEach(([, , w], i) => {
      for (let k = 0; k < w; k++) this.table.push(i);
    });
  }

  private int(n: number): number {
    return Math.floor(this.rand() * n);
  }

  next(): Record<string, unknown> {
    this.t += this.int(1000) / 1000; // 0 to 1 ms, 0.5 on average
    const [category, action] = ACTIONS[this.table[this.int(this.table.length)]!]!;
    const failed = this.rand() < (category === "authentication" ? 0.15 : 0.03);
    const u = this.int(USERS);
    // Users mostly log in from their own address.
    const ip = this.rand() < 0.8 ? u % IPS : this.int(IPS);
    const ev: Record<string, unknown> = {
      "@timestamp": new Date(Math.floor(this.t)).toISOString(),
      event: { category, action, outcome: failed ? "failure" : "success" },
      user: { name: userName(u) },
      source: { ip: ipOf(ip), geo: { country_iso_code: COUNTRIES[this.rand() < 0.97 ? u % 4 : this.int(COUNTRIES.length)] } },
      host: { name: `host-${this.int(HOSTS)}` },
    };
    if (category === "network" || category === "web") {
      ev.destination = { ip: ipOf(this.int(IPS)), port: this.rand() < 0.9 ? PORTS[this.int(4)] : this.rand() < 0.5 ? PORTS[this.int(PORTS.length)] : 1024 + this.int(60000) };
    }
    if (category === "web") ev.http = { response: { status_code: this.rand() < 0.95 ? 200 : 500 + this.int(4) } };
    if (category === "process") ev.process = { name: PROCESSES[this.int(PROCESSES.length)] };
    if (category === "file") ev.file = { path: PATHS[this.int(PATHS.length)] };
    return ev;
  }
}

/** A filter rule: a category and action, then one selective test. */
function filter(i: number): string {
  const [category, action] = ACTIONS[i % ACTIONS.length]!;
  const head = `event.category == "${category}" and event.action == "${action}"`;
  const tests = [
    `user.name == "${userName((i * 7919) % USERS)}"`,
    `source.ip in watch_ips`,
    `destination.port in [4444, 31337, 1337]`,
    `process.name in ["mimikatz.exe", "psexec.exe"]`,
    `file.path starts_with "/etc/shadow"`,
    `event.outcome == "failure" and user.name like "svc-*"`,
    `(http.response.status_code ?? 0) >= 503 and source.ip == "${ipOf((i * 104729) % IPS)}"`,
    `source.geo.country_iso_code == "KP"`,
  ];
  // One in twenty leads with a test the index cannot use: it runs on every event.
  const where =
    i % 20 === 19 ? `not (source.ip in corp_nets) and user.name == "${userName(i)}"` : `${head} and ${tests[i % tests.length]}`;
  return `detect "filter-${i}" {\n  severity medium\n  where ${where}\n}`;
}

function threshold(i: number): string {
  const forms = [
    [`event.category == "authentication" and event.action == "login" and event.outcome == "failure"`, "user.name", "5m", 10],
    [`event.category == "network" and event.action == "connection-denied"`, "source.ip", "1m", 30],
    [`event.category == "web" and event.action == "http-request" and http.response.status_code >= 500`, "source.ip", "5m", 5],
    [`event.category == "authentication" and event.action == "mfa-push" and event.outcome == "failure"`, "user.name", "10m", 3],
    [`event.category == "kms" and event.action == "decrypt"`, "user.name", "1m", 5],
    [`event.category == "file" and event.action == "file-delete"`, "host.name", "1m", 40],
    [`event.category == "process" and event.action == "process-start"`, "host.name", "1m", 100],
    [`event.category == "iam" and event.action == "password-reset"`, "user.name", "10m", 3],
    [`event.category == "network" and event.action == "dns-query"`, "source.ip", "1m", 20],
    [`event.category == "configuration" and event.action == "config-change"`, "host.name", "10m", 25],
  ] as const;
  const [where, by, within, n] = forms[i % forms.length]!;
  return `detect "threshold-${i}" {\n  severity medium\n  where ${where}\n  by ${by} within ${within}\n  having count >= ${n + Math.floor(i / forms.length)}\n}`;
}

function distinct(i: number): string {
  const forms = [
    [`event.category == "network" and event.action == "connection-accepted"`, "source.ip", "1m", "destination.port", 6],
    [`event.category == "authentication" and event.action == "login" and event.outcome == "failure"`, "source.ip", "10m", "user.name", 4],
    [`event.category == "authentication" and event.action == "login" and event.outcome == "success"`, "user.name", "10m", "source.geo.country_iso_code", 3],
    [`event.category == "web" and event.action == "http-request"`, "source.ip", "1m", "destination.ip", 5],
    [`event.category == "process" and event.action == "process-start"`, "user.name", "10m", "host.name", 4],
  ] as const;
  const [where, by, within, field, n] = forms[i % forms.length]!;
  return `detect "distinct-${i}" {\n  severity high\n  where ${where}\n  by ${by} within ${within}\n  having distinct ${field} >= ${n + Math.floor(i / forms.length)}\n}`;
}

function sequence(i: number): string {
  const auth = (outcome: string) => `event.category == "authentication" and event.action == "login" and event.outcome == "${outcome}"`;
  const forms = [
    ["user.name", "10m", `${auth("failure")} count >= 3`, auth("success"), "then risk user.name + 40 for 1h"],
    ["user.name", "10m", `event.category == "iam" and event.action == "role-granted"`, `event.category == "kms" and event.action == "decrypt"`, ""],
    ["host.name", "5m", `event.category == "process" and event.action == "process-start" and process.name in ["nc", "wget", "curl"]`, `event.category == "network" and event.action == "connection-accepted" and destination.port in [4444, 31337]`, "then quarantine host.name for 1h"],
    ["user.name", "10m", `event.category == "authentication" and event.action == "mfa-push" and event.outcome == "failure" count >= 2`, auth("success"), ""],
    ["user.name", "10m", `event.category == "iam" and event.action == "password-reset"`, `event.category == "file" and event.action == "file-read" and file.path == "/etc/shadow"`, ""],
  ] as const;
  const [by, within, a, b, then] = forms[i % forms.length]!;
  return `detect "sequence-${i}" {\n  severity high\n  by ${by} within ${within}\n  sequence {\n    first: ${a}\n    then_: ${b}\n  }\n  ${then}\n}`;
}

const PRELUDE = `package bench.detect
const watch_ips = [${Array.from({ length: 20 }, (_, i) => `"${ipOf(i * 487)}"`).join(", ")}]
const corp_nets = [ip("10.0.0.0/16")]
`;

/** (a): 100 filter-only rules. */
export function filterRules(): string {
  return PRELUDE + Array.from({ length: 100 }, (_, i) => filter(i)).join("\n");
}

/** (b): 50 filters, 20 thresholds, 10 distinct-counts, 10 sequences. */
export function mixedRules(): string {
  return (
    PRELUDE +
    [
      ...Array.from({ length: 50 }, (_, i) => filter(i)),
      ...Array.from({ length: 20 }, (_, i) => threshold(i)),
      ...Array.from({ length: 10 }, (_, i) => distinct(i)),
      ...Array.from({ length: 10 }, (_, i) => sequence(i)),
    ].join("\n")
  );
}
