/**
 * The loop (issue #6): detections write risk and quarantine with expiry to
 * the store; access decisions read them back through risk() and quarantined().
 */
import t from "tap";
import { compile } from "../../../src/engine.js";
import { MemoryRiskStore } from "../../../src/evaluator/stores.js";
import { detector, ev, run, MIN, T0 } from "./helpers.js";

const DETECT = `
detect "brute-force-then-success" {
  severity high
  by user.name within 10m
  sequence {
    failures: event.action == "login" and event.outcome == "failure" count >= 5
    success: event.action == "login" and event.outcome == "success"
  }
  then risk user.name + 40 for 1h
}
detect "key-misuse" {
  severity critical
  where event.action == "kms.decrypt"
  then quarantine user.name for 24h
}
detect "noisy" {
  where event.action == "noise"
  then risk user.name + 30 for 10m
}`;

const ACCESS = `
deny "high-risk" {
  when risk(principal.id) >= 40
}
deny "quarantined" {
  when quarantined(principal.id)
}
allow "read" {
  when action == "read"
}`;

const login = (ms: number, outcome: string) => ev(ms, { event: { action: "login", outcome }, user: { name: "alice" } });
const bruteForce = [0, 1, 2, 3, 4].map((i) => login(i * 1000, "failure")).concat([login(5000, "success")]);
const SUCCESS_AT = T0 + 5000;

t.test("then risk: the store gets the raise at event time, lapsing after D", async (t) => {
  const store = new MemoryRiskStore();
  const d = detector(DETECT, { risk: store });
  t.equal(store.risk("alice", SUCCESS_AT), 0);
  const alerts = run(d, bruteForce);
  t.same(alerts.map((a) => a.rule), ["brute-force-then-success"]);
  t.equal(store.risk("alice", SUCCESS_AT), 40);
  t.equal(store.risk("alice", SUCCESS_AT + 60 * MIN - 1), 40, "still raised 1ms before the hour");
  t.equal(store.risk("alice", SUCCESS_AT + 60 * MIN), 0, "gone after the hour");
  t.equal(store.risk("bob", SUCCESS_AT), 0);
});

t.test("then risk: raises add up and cap at 100", async (t) => {
  const store = new MemoryRiskStore();
  const d = detector(DETECT, { risk: store });
  const noise = (ms: number) => ev(ms, { event: { action: "noise" }, user: { name: "bob" } });
  run(d, [noise(0), noise(1), noise(2), noise(3)]);
  t.equal(store.risk("bob", T0 + 3), 100);
  t.equal(store.risk("bob", T0 + 10 * MIN - 1), 100, "four raises of 30, capped");
  t.equal(store.risk("bob", T0 + 10 * MIN), 90, "the first raise lapsed, three remain");
  t.equal(store.risk("bob", T0 + 10 * MIN + 3), 0, "all lapsed");
});

t.test("then quarantine: held for D from the event", async (t) => {
  const store = new MemoryRiskStore();
  const d = detector(DETECT, { risk: store });
  run(d, [ev(0, { event: { action: "kms.decrypt" }, user: { name: "lee" } })]);
  t.equal(store.quarantined("lee", T0), true);
  t.equal(store.quarantined("lee", T0 + 24 * 60 * MIN - 1), true);
  t.equal(store.quarantined("lee", T0 + 24 * 60 * MIN), false);
  t.equal(store.quarantined("alice", T0), false);
});

t.test("a then target that is missing is counted, not written", async (t) => {
  const store = new MemoryRiskStore();
  const d = detector(DETECT, { risk: store });
  const a = run(d, [ev(0, { event: { action: "kms.decrypt" } })]);
  t.equal(a.length, 1, "the alert still fires");
  t.equal(d.stats().rules["d/key-misuse"]!.missingField, 1);
});

t.test("the loop: allow before the alert, deny after, allow after expiry (injected clock)", async (t) => {
  const store = new MemoryRiskStore();
  let clock = T0;
  const engine = compile(ACCESS, { risk: store, clock: () => clock });
  t.same(engine.diagnostics, []);
  const request = { principal: { id: "alice" }, action: "read", resource: {}, context: {} };
  const decide = () => (engine.evaluate(request) as { decision: string }).decision;

  clock = SUCCESS_AT;
  t.equal(decide(), "allow", "before the brute force");
  const d = detector(DETECT, { risk: store });
  t.equal(run(d, bruteForce).length, 1);
  t.equal(decide(), "deny", "right after the alert");
  clock = SUCCESS_AT + 60 * MIN - 1;
  t.equal(decide(), "deny", "1ms before the risk expires");
  clock = SUCCESS_AT + 60 * MIN;
  t.equal(decide(), "allow", "after the risk expired");
});

t.test("the loop through quarantine", async (t) => {
  const store = new MemoryRiskStore();
  let clock = T0;
  const engine = compile(ACCESS, { risk: store, clock: () => clock });
  const request = { principal: { id: "lee" }, action: "read", resource: {}, context: {} };
  const decide = () => (engine.evaluate(request) as { decision: string }).decision;
  t.equal(decide(), "allow");
  run(detector(DETECT, { risk: store }), [ev(0, { event: { action: "kms.decrypt" }, user: { name: "lee" } })]);
  t.equal(decide(), "deny");
  clock = T0 + 24 * 60 * MIN;
  t.equal(decide(), "allow");
});

t.test("risk() inside detect reads the same store at event time", async (t) => {
  const store = new MemoryRiskStore();
  store.raise("alice", 50, T0, 10 * MIN);
  const d = detector(`detect "risky-login" { where event.action == "login" and risk(user.name) >= 50 }`, { risk: store });
  t.same(run(d, [login(0, "success"), login(10 * MIN, "success")]).map((a) => a.at), [0], "at 10m the raise has lapsed");
});

/**
 * The loop through one engine, as a service runs it: `engine.detector()`
 * writes to the engine's own store; the same engine's access and mesh
 * decisions read it. Risk steps access up to MFA (challenge) and then
 * denies; a quarantined node is rejected from the mesh; both lapse.
 */
const PLATFORM = `package swarm
detect "brute-force-then-success" {
  severity high
  by user.name within 10m
  sequence {
    failures: event.action == "login" and event.outcome == "failure" count >= 5
    success: event.action == "login" and event.outcome == "success"
  }
  then risk user.name + 40 for 1h
}
detect "credential-stuffing" {
  severity critical
  where event.action == "login" and event.outcome == "failure"
  by user.name within 1m
  having distinct source.ip >= 3
  then risk user.name + 50 for 30m
}
detect "crypto-miner" {
  severity critical
  where event.category == "process" and process.name in ["xmrig", "minerd"]
  then quarantine host.name for 2h
}
allow "read" {
  when action == "read" and risk(principal.id) < 40
}
allow "read-with-step-up" {
  when action == "read" and risk(principal.id) >= 40
  require mfa within 5m
}
deny "very-high-risk" {
  when risk(principal.id) >= 80
}
mesh "swarm" {
  network "100.64.0.0/10"
  listen_port 51820
  when node.attested
  unless quarantined(node.id)
}
`;

t.test("the loop through one engine: allow, challenge, deny, allow again; mesh admit, reject, admit", async (t) => {
  let clock = T0;
  const engine = compile(PLATFORM, { clock: () => clock });
  t.same(engine.diagnostics.filter((d) => d.severity === "error"), []);
  const detector = engine.detector();
  const access = (mfaAgoMs?: number) => {
    const context = mfaAgoMs === undefined ? {} : { mfa: { verified_at: new Date(clock - mfaAgoMs).toISOString() } };
    return (engine.evaluate({ principal: { id: "alice" }, action: "read", resource: {}, context }) as { decision: string }).decision;
  };
  const admission = () =>
    (engine.evaluate({ kind: "mesh", node: { id: "gpu-7", public_key: "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=", tags: ["worker"], attested: true } }) as { decision: string }).decision;
  const push = (events: unknown[]) => events.flatMap((e) => detector.push(e).map((a) => a.rule));
  const fail = (ms: number, ip = "198.51.100.1") => ev(ms, { event: { action: "login", outcome: "failure" }, user: { name: "alice" }, source: { ip } });

  t.equal(access(), "allow", "before any alert");
  t.equal(admission(), "admit");

  t.same(push([0, 1, 2, 3, 4].map((i) => fail(i * 1000)).concat([login(5000, "success")])), ["brute-force-then-success"]);
  clock = SUCCESS_AT;
  t.equal(access(), "challenge", "risk 40: step-up MFA");
  t.equal(access(60_000), "allow", "with fresh MFA");

  t.same(push([fail(6000, "203.0.113.1"), fail(7000, "203.0.113.2"), fail(8000, "203.0.113.3")]), ["credential-stuffing"]);
  clock = T0 + 8000;
  t.equal(access(60_000), "deny", "risk 90: denied even with MFA");

  clock = T0 + 8000 + 30 * MIN;
  t.equal(access(), "challenge", "the 30m raise lapsed, the 1h one holds");
  clock = SUCCESS_AT + 60 * MIN;
  t.equal(access(), "allow", "both lapsed");

  t.same(push([ev(0, { event: { category: "process" }, process: { name: "xmrig" }, host: { name: "gpu-7" } })]), ["crypto-miner"]);
  clock = T0;
  t.equal(admission(), "reject", "quarantined node");
  clock = T0 + 2 * 60 * MIN - 1;
  t.equal(admission(), "reject", "1ms before the quarantine ends");
  clock = T0 + 2 * 60 * MIN;
  t.equal(admission(), "admit", "admitted again");
});

t.test("bounded memory: an entity raised over and over keeps only its live raises", async (t) => {
  const store = new MemoryRiskStore();
  const d = detector(DETECT, { risk: store });
  const noise = (ms: number) => ev(ms, { event: { action: "noise" }, user: { name: "bob" } });
  // One raise of 30 for 10m every minute, for a day of event time.
  for (let m = 0; m < 24 * 60; m++) d.push(noise(m * MIN));
  const live = (store as unknown as { raises: Map<string, unknown[]> }).raises.get("bob")!;
  t.ok(live.length <= 11, `${live.length} raises held after 1,440`);
  t.equal(store.risk("bob", T0 + 24 * 60 * MIN - MIN), 100, "still capped at 100 while raises keep coming");
});

t.test("an event dated in the future does not erase risk in force now", async (t) => {
  // One log source with its clock years ahead (or a forged @timestamp) fires a small raise for the
  // same user: the live 40 stays, and the access rule still steps up.
  let clock = SUCCESS_AT;
  const engine = compile(PLATFORM + `\ndetect "odd" {\n  where event.action == "odd"\n  then risk user.name + 1 for 1m\n}\n`, { clock: () => clock });
  t.same(engine.diagnostics.filter((d) => d.severity === "error"), []);
  const detector = engine.detector();
  const fail = (ms: number) => ev(ms, { event: { action: "login", outcome: "failure" }, user: { name: "alice" }, source: { ip: "198.51.100.1" } });
  for (const e of [0, 1, 2, 3, 4].map((i) => fail(i * 1000)).concat([login(5000, "success")])) detector.push(e);
  detector.push({ "@timestamp": "2099-01-01T00:00:00Z", event: { action: "odd" }, user: { name: "alice" } });
  clock = SUCCESS_AT + MIN;
  const decision = (engine.evaluate({ principal: { id: "alice" }, action: "read", resource: {}, context: {} }) as { decision: string }).decision;
  t.equal(decision, "challenge", "risk 40 still holds at the clock");
});

t.test("a negative risk amount never fires: it would cancel other rules' raises", async (t) => {
  const store = new MemoryRiskStore();
  store.raise("alice", 90, T0);
  const d = detector(`detect "forgive" { where event.action == "mfa.ok" then risk user.name + -90 }`, { risk: store });
  t.same(run(d, [ev(0, { event: { action: "mfa.ok" }, user: { name: "alice" } })]), []);
  t.match(d.stats().ruleProblems["d/forgive"]![0], /negative/);
  t.equal(store.risk("alice", T0 + MIN), 90);
});
