/**
 * The detect rule index (issue #6, "Engine"): what it keys rules by, which
 * rules an event runs, and that it never changes a result: indexed and
 * naive detectors over random rules and streams give the same alerts, the
 * same stats and the same risk store.
 */
import t from "tap";
import { parse } from "../../../src/parser/parse.js";
import { compileDetectRules } from "../../../src/runtime/siem/compile-detect.js";
import { DetectRuleIndex } from "../../../src/runtime/siem/rule-index.js";
import { compileDetectors } from "../../../src/runtime/siem/detector.js";
import { EvalContext } from "../../../src/evaluator/context.js";
import { MemoryRiskStore } from "../../../src/evaluator/stores.js";
import type { ObjectValue } from "../../../src/evaluator/values.js";
import { Gen, prng, randomEvent, randomRules } from "./random-detect.js";
import { T0, ev } from "./helpers.js";

function rules(text: string) {
  const { ast, diagnostics } = parse(text, "d.policy");
  if (diagnostics.length > 0) throw new Error(diagnostics.map((d) => d.message).join("; "));
  return compileDetectRules([ast]);
}

/** A key as text: chains of `path: kind[keys] | ...`, joined by `and` within a chain, `;` between steps. */
function keyText(text: string): string | null {
  const k = rules(text)[0]!.index;
  if (k === null) return null;
  const chains = k.chains.map((ch) =>
    ch.map((c) =>
      c.tests[0]!.kind === "bool"
        ? `{${c.path.split("\x02")[2]}}`
        : `${c.path.replace(/\0/g, ".")}: ${c.tests.map((x) => `${x.kind}[${[...x.keys].map((v) => JSON.stringify(v)).join(",")}]`).join(" | ")}`,
    ).join(" and "),
  );
  return `${k.mode} ${chains.join("; ")}`;
}

t.test("index keys: the leading literal tests, other conditions as shared readings; risk() and constants end the chain", async (t) => {
  const cases: [string, string | null][] = [
    ['where event.category == "auth"', 'where event.category: eq["auth"]'],
    ['where "auth" == event.category and event.action == "login"', 'where event.category: eq["auth"] and event.action: eq["login"]'],
    ['where event.code in [1, "1"] and user.name starts_with "a"', 'where event.code: eq[1,"1"] and {user.name starts_with "a"}'],
    ['where event["category"] == "auth"', 'where event.category: eq["auth"]'],
    ['where (event.action == "a" or event.action == "b")', 'where event.action: eq["a"] | eq["b"]'],
    ['where user.roles contains "admin" or "ops" in user.roles', 'where user.roles: has["admin"] | has["ops"]'],
    ['where user.roles contains_any ["a", "b"]', 'where user.roles: has["a","b"]'],
    ['where event.category == cat', 'where event.category: eq["net"]'],
    ['where event.flag == true', "where event.flag: eq[true]"],
    // Other conditions: read whole, once per event, by the index ("bool").
    ['where event.outcome != "failure" and event.category == "auth"', 'where {event.outcome != "failure"} and event.category: eq["auth"]'],
    ['where not (event.category == "auth")', 'where {not (event.category == "auth")}'],
    ['where (event.outcome ?? "") == "x"', 'where {(event.outcome ?? "") == "x"}'],
    ['where event.action == "a" or user.name == "b"', 'where {event.action == "a" or user.name == "b"}'],
    ['where event.category == "auth" and event.action like "log*" and event.outcome == "failure"', 'where event.category: eq["auth"] and {event.action like "log*"} and event.outcome: eq["failure"]'],
    ['where event.category in [ip("10.0.0.0/8")]', 'where {event.category in [ip("10.0.0.0/8")]}'],
    ['where event.category == ["auth"]', 'where {event.category == ["auth"]}'],
    ["where event.category == null", "where {event.category == null}"],
    ['where event == "x"', 'where {event == "x"}'],
    ['where age(event.created) > 1h and event.category == "x"', 'where {age(event.created) > 1h} and event.category: eq["x"]'],
    // Ends of the chain: the risk store (a rule's `then` may change it while the event runs), constants.
    ['where risk(user.name) > 1 and event.category == "x"', null],
    ['where event.category == "x" and quarantined(user.name)', 'where event.category: eq["x"]'],
    ['where cat == "net" and event.category == "x"', null],
    // Two where clauses run one after the other: one chain.
    ['where event.category == "auth"\n where event.action == "login"', 'where event.category: eq["auth"] and event.action: eq["login"]'],
    // Sequences without where: every step runs; each needs a key.
    ['by user.name within 1m sequence { a: event.action == "x" b: event.category == "y" and event.action == "z" }', 'steps event.action: eq["x"]; event.category: eq["y"] and event.action: eq["z"]'],
    ['by user.name within 1m sequence { a: event.action == "x" b: user.name != "y" }', 'steps event.action: eq["x"]; {user.name != "y"}'],
    ['by user.name within 1m sequence { a: event.action == "x" b: risk(user.name) > 5 }', null],
    // With where, the where decides alone.
    ['where event.category == "auth" by user.name within 1m sequence { a: user.name != "y" }', 'where event.category: eq["auth"]'],
  ];
  for (const [body, want] of cases) t.equal(keyText(`const cat = "net"\ndetect "r" { ${body} }`), want, body);
});

t.test("candidates: only the rules an event can match, in load order", async (t) => {
  const compiled = rules(`
detect "auth-login" { where event.category == "auth" and event.action == "login" }
detect "auth-any" { where event.category == "auth" and user.name == "x" }
detect "net" { where event.category in ["net", "dns"] }
detect "admin" { where user.roles contains "admin" }
detect "not-x" { where user.name != "x" }
detect "seq" { by user.name within 1m sequence { a: event.action == "login" b: event.action == "logout" } }
`);
  const index = new DetectRuleIndex(compiled, compiled.map((r) => r.index));
  const candidates = (event: Record<string, unknown>) => index.candidates(new EvalContext(event as ObjectValue, T0, () => T0, new MemoryRiskStore()));
  const names = (event: Record<string, unknown>) => candidates(event).rules.map((r) => r.name);
  // The rules to run, and those that would only count a missing field (user.name, below).
  const cases: [string, Record<string, unknown>, string[], string[]][] = [
    ["an auth login", { event: { category: "auth", action: "login" }, user: { roles: [] } }, ["auth-login", "seq"], ["auth-any", "not-x"]],
    ["an auth logout", { event: { category: "auth", action: "logout" }, user: { roles: [] } }, ["seq"], ["auth-any", "not-x"]],
    ["net, an admin", { event: { category: "net", action: "x" }, user: { roles: ["admin"] } }, ["net", "admin"], ["not-x"]],
    ["dns, roles not a list: contains errors, so it runs", { event: { category: "dns" }, user: { roles: "admin" } }, ["net", "admin"], ["not-x"]],
    ["no category: a where counts the missing field", { event: { action: "x" }, user: { roles: [] } }, [], ["auth-login", "auth-any", "net", "not-x"]],
    ["no action: a step does not count it", { event: { category: "web" }, user: { roles: [] } }, [], ["not-x"]],
    ["event is a string: type errors are counted, so everything runs", { event: "x", user: { roles: [] } }, ["auth-login", "auth-any", "net", "seq"], ["not-x"]],
    ["category a list: never == a string", { event: { category: ["auth"], action: "login" }, user: { roles: [] } }, ["seq"], ["not-x"]],
    ["category null", { event: { category: null, action: "y" }, user: { roles: [] } }, [], ["not-x"]],
    ["a user named", { event: { category: "auth", action: "login" }, user: { name: "y", roles: [] } }, ["auth-login", "not-x", "seq"], []],
  ];
  for (const [name, event, run, lacks] of cases) {
    const c = candidates(event);
    t.same(c.rules.map((r) => r.name), run, `${name}: runs`);
    t.same(c.missing.map((r) => r.name), lacks, `${name}: lacks a field`);
  }
  t.equal(index.keyed, 6, "every rule keyed");
  t.same(names({ event: { category: "web" }, user: { name: "x", roles: [] } }), [], "user.name != \"x\" read once, false");
  t.same(names({ event: { category: "web" }, user: { name: "y", roles: [] } }), ["not-x"]);
  // What the rules need not test again: auth-login's two leading tests, auth-any's first (its
  // second reads user.name of a string: a type error, so it runs, as do admin and not-x).
  const login = candidates({ event: { category: "auth", action: "login" }, user: "u" });
  t.same(login.rules.map((r) => r.name), ["auth-login", "auth-any", "admin", "not-x", "seq"]);
  t.same(login.known, [2, 1, 0, 0, 0]);
});

t.test("a node that tests a path against few literals: other values go where any other value goes, and nothing is rebuilt", async (t) => {
  const compiled = rules(`
detect "a-x" { where event.category == "a" and user.name == "x" }
detect "b-y" { where event.category == "b" and user.name == "y" }
detect "b-z" { where event.category == "b" and user.name in ["z", "w"] }
`);
  const index = new DetectRuleIndex(compiled, compiled.map((r) => r.index));
  const names = (category: unknown, name: unknown) =>
    index.candidates(new EvalContext({ event: { category }, user: { name } } as ObjectValue, T0, () => T0, new MemoryRiskStore())).rules.map((r) => r.name);
  // Under "a" only "x" matters; "y" (a literal of another rule) and "q" are alike there.
  const cases: [unknown, unknown, string[]][] = [
    ["a", "y", []],
    ["a", "x", ["a-x"]],
    ["a", "q", []],
    ["a", 1, []],
    ["a", ["x"], []],
    ["a", null, []],
    ["a", undefined, []], // missing: counted for the rule (candidates().missing), not run
    ["b", "x", []],
    ["b", "y", ["b-y"]],
    ["b", "w", ["b-z"]],
    ["b", "z", ["b-z"]],
    ["b", "q", []],
  ];
  for (const [c, n, want] of cases) t.same(names(c, n), want, `${c} ${JSON.stringify(n)}`);
  const grown = index.grown;
  for (let round = 0; round < 3; round++) for (const [c, n, want] of cases) t.same(names(c, n), want, `again: ${c} ${JSON.stringify(n)}`);
  t.equal(index.grown, grown, "every walk after the first round finds its nodes built");

  // Only literals of other rules under "a": they share one child, which the first of them builds.
  const fresh = new DetectRuleIndex(compiled, compiled.map((r) => r.index));
  const walk = (name: string) => fresh.candidates(new EvalContext({ event: { category: "a" }, user: { name } } as ObjectValue, T0, () => T0, new MemoryRiskStore())).rules;
  t.same(walk("y"), []);
  const once = fresh.grown;
  for (const name of ["z", "w", "y", "z"]) t.same(walk(name), [], name);
  t.equal(fresh.grown, once, "y, z and w lead to the same node under a");
});

t.test("indexed and naive detectors agree on random rules and streams", async (t) => {
  const seeds = 150;
  let alerts = 0;
  let skipped = 0;
  let tested = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const g = new Gen(prng(seed));
    const text = randomRules(g, 4 + g.int(20));
    const { ast, diagnostics } = parse(text, "d.policy");
    if (diagnostics.length > 0) throw new Error(`seed ${seed}: ${diagnostics[0]!.message}\n${text}`);
    const lateness = g.pick([0, 500, 2000]);
    const cap = 2 + g.int(3);
    const stores = [new MemoryRiskStore(), new MemoryRiskStore()];
    const [indexed, naive] = [true, false].map((index, i) => compileDetectors([ast], { index, risk: stores[i], allowedLatenessMs: lateness, maxGroupsPerRule: cap }));
    const compiled = compileDetectRules([ast]);
    const probe = new DetectRuleIndex(compiled, compiled.map((r) => r.index));
    let time = T0;
    for (let i = 0; i < 300; i++) {
      time += g.int(400) - (g.chance(0.1) ? 1500 : 0);
      const event = g.chance(0.02) ? g.pick([null, { event: {} }, ev(0, { "@timestamp": "soon" })]) : randomEvent(g, time);
      const a = indexed!.push(event);
      const b = naive!.push(event);
      if (JSON.stringify(a) !== JSON.stringify(b)) {
        t.same(a, b, `seed ${seed}, event ${i}: ${JSON.stringify(event)}\n${text}`);
        return;
      }
      alerts += a.length;
      if (event !== null && typeof event === "object" && !Array.isArray(event)) {
        const n = probe.candidates(new EvalContext(event as ObjectValue, time, () => time, stores[1]!)).rules.length;
        skipped += compiled.length - n;
        tested += compiled.length;
      }
    }
    t.same(indexed!.flush(), naive!.flush());
    const si = indexed!.stats();
    const sn = naive!.stats();
    if (JSON.stringify(si) !== JSON.stringify(sn)) {
      t.same(si, sn, `seed ${seed}: stats differ\n${text}`);
      return;
    }
    for (const u of ["u1", "u2", "u3"]) {
      if (stores[0]!.risk(u, time) !== stores[1]!.risk(u, time)) t.fail(`seed ${seed}: risk of ${u} differs`);
    }
  }
  t.ok(alerts > 1000, `the streams raise alerts (${alerts})`);
  t.pass(`${seeds} random rule sets, 300 events each: identical alerts, stats and risk`);
  t.ok(skipped > tested / 5, `the index skipped ${skipped} of ${tested} rule runs`);
});
