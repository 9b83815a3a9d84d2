/**
 * Events from JavaScript callers that no JSON parser makes: a throwing
 * `@timestamp` getter, a Proxy whose traps throw, a revoked Proxy. `push`
 * never throws (detector.ts); such an event is malformed, counted and
 * skipped, and the stream goes on.
 */
import t from "tap";
import { detector, ev, run, T0 } from "./helpers.js";

const boom = (): never => {
  throw new Error("hostile");
};

t.test("an event that cannot be read is malformed, not an exception out of push", async (t) => {
  const d = detector(`detect "w" { where event.action == "x" }`);
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  const events: unknown[] = [
    { get "@timestamp"(): unknown { return boom(); }, event: { action: "x" } },
    new Proxy({}, { get: boom }),
    new Proxy({}, { getPrototypeOf: boom }),
    revoked.proxy,
    ev(0, { event: { action: "x" } }),
  ];
  let alerts: { at: number }[] = [];
  t.doesNotThrow(() => (alerts = run(d, events)));
  t.same(alerts.map((a) => a.at), [4], "the good event still fires");
  const s = d.stats();
  t.equal(s.events, 5);
  t.equal(s.malformed, 4);
  t.same(s.problems.map((p) => [p.index, p.kind]), [[1, "malformed"], [2, "malformed"], [3, "malformed"], [4, "malformed"]]);
});

// One event dated far ahead moved the watermark there: every later event was late, and late events
// are kept out of every `by ... within` rule, so a single forged `@timestamp` blinded the service's
// brute-force and travel detections until it restarted. With `maxFutureMs` such an event is refused.
t.test("maxFutureMs: an event dated too far after the clock is malformed and moves no watermark", async (t) => {
  const text = `detect "burst" {\n  where event.action == "login"\n  by user.name within 5m\n  having count >= 3\n}`;
  const login = (ms: number) => ev(ms, { event: { action: "login" }, user: { name: "u" } });
  const forged = { "@timestamp": "9999-12-31T23:59:59Z", event: { action: "login" }, user: { name: "u" } };
  const clock = () => T0 + 60_000;

  const open = detector(text);
  t.same(run(open, [login(0), forged, login(1000), login(2000)]).map((a) => a.at), [], "without the option the forged event blinds the rule");
  t.equal(open.stats().late, 2);

  const problems: string[] = [];
  const guarded = detector(text, { clock, maxFutureMs: 5 * 60_000, onProblem: (p) => problems.push(`${p.index} ${p.kind} ${p.message}`) });
  t.same(run(guarded, [login(0), forged, login(1000), login(2000)]).map((a) => a.at), [3], "the burst still fires");
  t.equal(guarded.stats().malformed, 1);
  t.equal(guarded.stats().late, 0);
  t.same(problems, ["2 malformed `@timestamp` is more than 300000 ms after the clock (2026-03-10T09:01:00.000Z)"]);
  const edge = detector(text, { clock, maxFutureMs: 5 * 60_000 });
  edge.push(ev(6 * 60_000));
  t.equal(edge.stats().malformed, 0, "exactly at the bound is accepted");
  edge.push(ev(6 * 60_000 + 1));
  t.equal(edge.stats().malformed, 1, "a millisecond after it is not");
});

/**
 * Fuzz: the example fixtures' event streams with hostile events interleaved,
 * each a copy of a real event with its strings and numbers changed (so it
 * joins no group of the real ones), dated as the real event it follows, and
 * then given JavaScript values no JSON parser makes, odd
 * `@timestamp`s (year 0, year 275760, leap seconds, offsets, before 1970,
 * ahead of the clock, which `maxFutureMs` refuses),
 * `__proto__` / `constructor` ids, huge and deep values. push never throws,
 * and the real events raise the same grouped alerts and leave the same risk
 * and quarantine as without the hostile ones. FUZZ_CASES (default 40
 * streams) and FUZZ_SEED replay it.
 */
const CASES = Number(process.env.FUZZ_CASES ?? 40);
const SEED = Number(process.env.FUZZ_SEED ?? 0xde7ec7);

t.test(`detector fuzz: ${CASES} streams with hostile events interleaved (seed ${SEED})`, async (t) => {
  const { readFileSync, readdirSync } = await import("node:fs");
  const path = await import("node:path");
  const { fileURLToPath } = await import("node:url");
  const { loadPolicies, MemoryRiskStore } = await import("../../../src/index.js");
  const { prng } = await import("../../support/prng.js");
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
  const engine = await loadPolicies([path.join(root, "policies")]);
  const fixtures = path.join(root, "policies", "fixtures");
  const clean = readdirSync(fixtures)
    .filter((f) => f.endsWith(".jsonl"))
    .sort()
    .flatMap((f) => readFileSync(path.join(fixtures, f), "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as Record<string, unknown>))
    .sort((a, b) => Date.parse(a["@timestamp"] as string) - Date.parse(b["@timestamp"] as string));
  t.ok(clean.length > 50, `${clean.length} real events`);

  const rnd = prng(SEED);
  const pick = (n: number) => Math.floor(rnd() * n);
  const disguise = (v: unknown): unknown => {
    if (typeof v === "string") return `zz-${v}`;
    if (typeof v === "number") return v + 1e6;
    if (Array.isArray(v)) return v.map(disguise);
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, disguise(x)]));
    return v;
  };
  const nest = (wrap: (v: unknown) => unknown) => {
    let v: unknown = "zz";
    for (let i = 0; i < 5000; i++) v = wrap(v);
    return v;
  };
  const hostile: (() => unknown)[] = [
    () => NaN, () => Infinity, () => -0, () => 10n, () => Symbol("s"), () => () => 1, () => new Date(0), () => new Map(), () => undefined, () => null,
    () => new Proxy({}, { get: boom, ownKeys: boom, getPrototypeOf: boom, has: boom }),
    () => {
      const r = Proxy.revocable({}, {});
      r.revoke();
      return r.proxy;
    },
    () => ({ get x(): unknown { return boom(); }, toJSON: boom }),
    () => JSON.parse('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}}}') as unknown,
    () => "\ud800zz", () => "zz".repeat(100_000), () => new Array(50_000).fill("zz-a"),
    () => nest((v) => [v]), () => nest((v) => ({ a: v })),
    () => {
      const o: Record<string, unknown> = { a: "zz" };
      o["self"] = o;
      return o;
    },
    () => "__proto__", () => "constructor", () => "", () => "toString", () => 5,
    () => "0000-01-01T00:00:00Z", () => "+275760-09-13T00:00:00Z", () => "2026-03-10T09:00:60Z", () => "2026-03-10T09:00:00+14:00",
    () => "1960-01-01T00:00:00Z", () => "2026-02-30T00:00:00Z", () => "2026-03-10T23:00:00Z", () => "9999-12-31T23:59:59Z",
  ];
  type Path = (string | number)[];
  const paths = (v: unknown, p: Path = [], out: Path[] = []): Path[] => {
    out.push(p);
    if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...p, i], out));
    else if (v !== null && typeof v === "object") for (const k of Object.keys(v)) paths((v as Record<string, unknown>)[k], [...p, k], out);
    return out;
  };
  const hostileEvent = (from: Record<string, unknown>, ts: unknown): unknown => {
    const copy = disguise(from) as Record<string | number, unknown>;
    copy["@timestamp"] = ts;
    const ps = paths(copy);
    for (let r = 1 + pick(3); r > 0; r--) {
      const p = ps[pick(ps.length)]!;
      const h = hostile[pick(hostile.length)]!();
      if (p.length === 0) return h;
      try {
        let parent = copy;
        for (const k of p.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
        parent[p.at(-1)!] = h;
      } catch {
        // a hostile value already replaced an ancestor
      }
    }
    return copy;
  };
  const alertKey = (a: { rule: string; group: unknown; count: number; last_seen: string }) => `${a.rule} ${JSON.stringify(a.group)} ${a.count} ${a.last_seen}`;
  const ids = ["alice", "bob", "mallory", "carol", "kim", "svc-backup", "203.0.113.77", "node-7"];
  const times = ["2026-03-10T09:30:00Z", "2026-03-10T12:00:00Z", "2026-03-10T18:00:00Z"].map((s) => Date.parse(s));

  let failures = 0;
  const fail = (msg: string) => {
    failures++;
    t.fail(msg);
  };
  for (let n = 0; n < CASES && failures < 5; n++) {
    const where = `stream ${n} (seed ${SEED})`;
    const s1 = new MemoryRiskStore();
    const s2 = new MemoryRiskStore();
    // The clock is the real event's time, as a live service's clock is the newest event's give or take.
    let now = 0;
    const options = { allowedLatenessMs: 60_000, maxFutureMs: 60_000, clock: () => now };
    const d1 = engine.detector({ risk: s1, ...options });
    const d2 = engine.detector({ risk: s2, ...options });
    const a1: string[] = [];
    const a2: string[] = [];
    for (const e of clean) {
      now = Date.parse(e["@timestamp"] as string);
      for (const a of d1.push(e)) if (Object.keys(a.group).length > 0) a1.push(alertKey(a));
      for (let k = pick(3); k > 0; k--) {
        const h = hostileEvent(clean[pick(clean.length)]!, e["@timestamp"]);
        try {
          d2.push(h);
        } catch (err) {
          fail(`${where}: push threw ${(err as Error)?.stack ?? String(err)}`);
        }
      }
      for (const a of d2.push(e)) if (Object.keys(a.group).length > 0) a2.push(alertKey(a));
    }
    try {
      d2.flush();
      JSON.stringify(d2.stats());
    } catch (err) {
      fail(`${where}: flush or stats threw ${String(err)}`);
    }
    for (const key in Object.prototype) fail(`${where}: Object.prototype gained ${key}`);
    const lost = a1.filter((k) => !a2.includes(k));
    if (lost.length > 0) fail(`${where}: real alerts lost: ${lost.slice(0, 3).join("; ")}`);
    for (const id of ids) {
      for (const at of times) {
        if (s1.risk(id, at) !== s2.risk(id, at) || s1.quarantined(id, at) !== s2.quarantined(id, at)) {
          fail(`${where}: ${id} at ${new Date(at).toISOString()}: risk ${s1.risk(id, at)} / ${s2.risk(id, at)}, quarantined ${s1.quarantined(id, at)} / ${s2.quarantined(id, at)}`);
        }
      }
    }
    if (n === 0) t.ok(a1.length > 0, `the real events raise ${a1.length} grouped alerts`);
  }
  t.equal(failures, 0, `no failures in ${CASES} streams`);
});
