/**
 * The risk loop on the command line: `detect --risk-out` writes what its
 * `then risk` / `then quarantine` raised, and `--risk` on `mesh plan` and
 * `eval` reads it, so a node the SIEM quarantined is rejected from the plan
 * and a risky user is denied (src/cli/risk-file.ts).
 */
import t, { type Test } from "tap";
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { run } from "../run.js";
import { fixtureInventory, MESH_POLICY } from "../../support/mesh-fixture.js";

const TIME = "2026-01-10T00:00:00Z";
const DETECT = `package lab.detect
detect "node-tamper" {
  severity critical
  where event.action == "tamper"
  then quarantine host.name for 1h
}
detect "password-spray" {
  severity high
  where event.action == "login-failed"
  by user.name within 10m
  having count >= 2
  then risk user.name + 60 for 1h
}
`;
const ACCESS = `package lab.access
allow "read" {
  when action == "read"
  unless risk(principal.id) >= 50
}
`;
const EVENTS = [
  { "@timestamp": "2026-01-09T23:40:00Z", event: { action: "tamper" }, host: { name: "g1" } },
  { "@timestamp": "2026-01-09T23:41:00Z", event: { action: "login-failed" }, user: { name: "ann" } },
  { "@timestamp": "2026-01-09T23:42:00Z", event: { action: "login-failed" }, user: { name: "ann" } },
]
  .map((e) => JSON.stringify(e))
  .join("\n");

function workspace(t: Test): string {
  return t.testdir({
    policies: { "lab.policy": MESH_POLICY, "detect.policy": DETECT, "access.policy": ACCESS },
    "nodes.json": JSON.stringify(fixtureInventory()),
    "events.jsonl": EVENTS + "\n",
    "read.json": JSON.stringify({ principal: { id: "ann" }, action: "read", resource: { type: "doc" }, time: "2026-01-09T23:50:00Z" }),
  });
}

t.test("detect --risk-out, then mesh plan --risk: the quarantined node is rejected", async (t) => {
  const cwd = workspace(t);
  const d = await run(["detect", "policies", "--events", "events.jsonl", "--risk-out", "risk.json"], { cwd });
  t.equal(d.code, 0, d.stderr);
  const snap = JSON.parse(readFileSync(path.join(cwd, "risk.json"), "utf8")) as Record<string, unknown>;
  t.same(snap.quarantines, [{ id: "g1", until: "2026-01-10T00:40:00.000Z" }]);
  t.same(snap.raises, [{ id: "ann", amount: 60, until: "2026-01-10T00:42:00.000Z" }]);
  t.equal(statSync(path.join(cwd, "risk.json")).mode & 0o777, 0o600, "it names users and machines: 0600");

  const without = await run(["mesh", "plan", "policies", "--nodes", "nodes.json", "--out", "a", "--time", TIME], { cwd });
  t.equal(without.code, 0, without.stderr);
  t.notMatch(without.stdout, /rejected g1/, "without --risk nobody is quarantined");
  const plan = await run(["mesh", "plan", "policies", "--nodes", "nodes.json", "--out", "b", "--time", TIME, "--risk", "risk.json"], { cwd });
  t.equal(plan.code, 0, plan.stderr);
  t.match(plan.stdout, /^ {2}rejected g1: .*quarantined/m);
  const later = await run(["mesh", "plan", "policies", "--nodes", "nodes.json", "--out", "c", "--time", "2026-01-10T01:00:00Z", "--risk", "risk.json"], { cwd });
  t.notMatch(later.stdout, /rejected g1/, "after the quarantine lapses, g1 is admitted again");
});

t.test("detect --risk carries a snapshot into the next run: its rules read it, and --risk-out adds this run's raises", async (t) => {
  const cwd = workspace(t);
  writeFileSync(path.join(cwd, "policies", "seen.policy"), `package lab.seen\ndetect "login-on-quarantined-host" {\n  severity high\n  where event.action == "login" and quarantined(host.name)\n}\n`);
  writeFileSync(
    path.join(cwd, "later.jsonl"),
    [
      { "@timestamp": "2026-01-10T00:10:00Z", event: { action: "login" }, host: { name: "g1" }, user: { name: "bo" } },
      { "@timestamp": "2026-01-10T00:11:00Z", event: { action: "tamper" }, host: { name: "d1" } },
    ]
      .map((e) => JSON.stringify(e))
      .join("\n") + "\n",
  );
  t.equal((await run(["detect", "policies", "--events", "events.jsonl", "--risk-out", "r1.json"], { cwd })).code, 0);
  const alone = await run(["detect", "policies", "--events", "later.jsonl"], { cwd });
  t.notMatch(alone.stdout, /login-on-quarantined-host/, "without the snapshot g1 is not quarantined");
  const chained = await run(["detect", "policies", "--events", "later.jsonl", "--risk", "r1.json", "--risk-out", "r2.json"], { cwd });
  t.equal(chained.code, 0, chained.stderr);
  t.match(chained.stdout, /"rule":"login-on-quarantined-host"/, "the quarantine from the first run is read");
  const snap = JSON.parse(readFileSync(path.join(cwd, "r2.json"), "utf8")) as { quarantines: { id: string }[]; raises: { id: string }[] };
  t.same(snap.quarantines.map((q) => q.id), ["d1", "g1"], "both runs' quarantines");
  t.same(snap.raises.map((r) => r.id), ["ann"]);
});

t.test("eval --risk: a user the SIEM raised is denied until the raise lapses", async (t) => {
  const cwd = workspace(t);
  t.equal((await run(["detect", "policies", "--events", "events.jsonl", "--risk-out", "risk.json"], { cwd })).code, 0);
  const plain = await run(["eval", "policies", "--input", "read.json"], { cwd });
  t.equal(JSON.parse(plain.stdout).decision, "allow", plain.stderr);
  const risky = await run(["eval", "policies", "--input", "read.json", "--risk", "risk.json"], { cwd });
  t.equal(risky.code, 0, risky.stderr);
  t.equal(JSON.parse(risky.stdout).decision, "deny");
  writeFileSync(path.join(cwd, "later.json"), JSON.stringify({ principal: { id: "ann" }, action: "read", resource: { type: "doc" }, time: "2026-01-10T01:00:00Z" }));
  t.equal(JSON.parse((await run(["eval", "policies", "--input", "later.json", "--risk", "risk.json"], { cwd })).stdout).decision, "allow");
});

t.test("a --risk file that cannot be read or is not a snapshot: exit 2, nothing decided", async (t) => {
  const cwd = workspace(t);
  writeFileSync(path.join(cwd, "bad.json"), JSON.stringify({ version: 1, quarantines: [{ id: "g1", until: "soon" }] }), { mode: 0o600 });
  writeFileSync(path.join(cwd, "broken.json"), '{"version": 1,\n "raises": [}', { mode: 0o600 });
  const cases: [string, RegExp][] = [
    ["bad.json", /^swarm-policy: risk snapshot bad\.json: quarantines\[0\]\.until: must be an RFC 3339 time or null\n$/],
    ["broken.json", /^swarm-policy: risk snapshot broken\.json:2:13: not valid JSON/],
    ["missing.json", /^swarm-policy: cannot read risk snapshot missing\.json: no such file or directory\n$/],
  ];
  if (process.platform !== "win32") {
    // Whoever may write it may empty its quarantines: the g1 quarantine here must not be read as "none".
    for (const [file, mode] of [["shared.json", 0o666], ["group.json", 0o620]] as const) {
      writeFileSync(path.join(cwd, file), JSON.stringify({ version: 1, quarantines: [{ id: "g1", until: null }] }));
      chmodSync(path.join(cwd, file), mode);
      const shown = mode.toString(8).padStart(4, "0");
      cases.push([file, new RegExp(`^swarm-policy: risk snapshot ${file.replace(".", "\\.")}: has mode ${shown}: group or others may write it, and so lift its quarantines \\(chmod 600 ${file.replace(".", "\\.")}\\)\n$`)]);
    }
  }
  if (process.platform !== "win32") {
    writeFileSync(path.join(cwd, "readable.json"), JSON.stringify({ version: 1 }));
    chmodSync(path.join(cwd, "readable.json"), 0o644);
    t.equal((await run(["eval", "policies", "--input", "read.json", "--risk", "readable.json"], { cwd })).code, 0, "readable by others is fine: only writing lifts quarantines");
  }
  for (const [file, stderr] of cases) {
    const e = await run(["eval", "policies", "--input", "read.json", "--risk", file], { cwd });
    t.equal(e.code, 2, file);
    t.match(e.stderr, stderr, file);
    t.equal(e.stdout, "");
    const m = await run(["mesh", "plan", "policies", "--nodes", "nodes.json", "--out", "x", "--time", TIME, "--risk", file], { cwd });
    t.equal(m.code, 2, file);
    t.match(m.stderr, stderr, file);
  }
});
