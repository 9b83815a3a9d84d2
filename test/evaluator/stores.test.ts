/**
 * The in-memory risk store (src/evaluator/stores.ts): what it keeps short is
 * never something a reader could see, an event dated later never erases risk
 * in force earlier, writes that would lower or hide a score are refused, and
 * with a clock the lapsed entries of a flood of ids are swept.
 */
import t from "tap";
import { MAX_RAISES_PER_ENTITY, MemoryRiskStore } from "../../src/evaluator/stores.js";
import { prng } from "../support/prng.js";

const T = Date.parse("2026-03-10T09:00:00Z");
const MIN = 60_000;
const HOUR = 60 * MIN;

/** What the score is by definition: the unexpired raises summed, capped at 100. */
function naive(raises: { amount: number; until: number }[], now: number): number {
  let total = 0;
  for (const r of raises) if (now < r.until) total += r.amount;
  return Math.min(100, total);
}

t.test("a raise dated later never drops one still in force at an earlier time", async (t) => {
  const store = new MemoryRiskStore();
  store.raise("mallory", 90, T, HOUR);
  // One event with a clock far ahead (or forged): the raise it brings must not erase the live one.
  store.raise("mallory", 5, Date.parse("2099-01-01T00:00:00Z"), MIN);
  t.equal(store.risk("mallory", T + MIN), 95, "the hour-long raise still holds at T + 1m");
  t.equal(store.risk("mallory", T + HOUR), 5, "and lapses at its own end");
});

t.test("what the store keeps short changes no score at any time", async (t) => {
  for (let seed = 1; seed <= 40; seed++) {
    const next = prng(seed);
    const store = new MemoryRiskStore();
    const all: { amount: number; until: number }[] = [];
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const now = T + Math.floor(next() * 48) * HOUR - (next() < 0.2 ? Math.floor(next() * 10) * HOUR : 0);
      const amount = [0, 1, 5, 10, 30, 40, 90, 150][Math.floor(next() * 8)]!;
      const forMs = next() < 0.1 ? undefined : Math.floor(next() * 6) * 30 * MIN;
      store.raise("e", amount, now, forMs);
      all.push({ amount, until: forMs === undefined ? Infinity : now + forMs });
      times.push(now, now + (forMs ?? 0), now + (forMs ?? 0) - 1);
    }
    for (const at of times) if (store.risk("e", at) !== naive(all, at)) t.fail(`seed ${seed}: risk at ${at}: ${store.risk("e", at)} != ${naive(all, at)}`);
    const held = (store as unknown as { raises: Map<string, unknown[]> }).raises.get("e")?.length ?? 0;
    t.ok(held <= 101, `seed ${seed}: ${held} raises held`);
  }
});

t.test("every raise counts, small ones too, and a raise is dropped only behind later ones that reach 100", async (t) => {
  const store = new MemoryRiskStore();
  store.raise("e", 1, T, HOUR);
  t.equal(store.risk("e", T), 1);
  store.raise("e", 1, T, HOUR);
  t.equal(store.risk("e", T), 2, "two raises of 1 ending together add up");
  store.raise("f", 99, T, 2 * HOUR);
  store.raise("f", 5, T, HOUR);
  t.equal(store.risk("f", T), 100, "99 and 5 in force");
  t.equal(store.risk("f", T + HOUR), 99, "the 5 lapsed first");
});

t.test("tiny raises without end: the list is capped and the score never reads lower", async (t) => {
  const store = new MemoryRiskStore();
  const all: { amount: number; until: number }[] = [];
  for (let i = 0; i < 5000; i++) {
    store.raise("dust", 0.01, T + i * 1000, MIN);
    all.push({ amount: 0.01, until: T + i * 1000 + MIN });
  }
  const held = (store as unknown as { raises: Map<string, unknown[]> }).raises.get("dust")!.length;
  t.ok(held <= MAX_RAISES_PER_ENTITY, `${held} raises held after 5,000`);
  for (let at = T; at < T + 5000 * 1000 + 2 * MIN; at += 997) {
    if (store.risk("dust", at) < naive(all, at) - 1e-9) t.fail(`risk at +${at - T}ms reads ${store.risk("dust", at)} < ${naive(all, at)}`);
  }
  t.equal(store.risk("dust", T + 5000 * 1000 + MIN), 0, "all lapsed in the end");
});

t.test("writes that would lower a score or hide an entry are refused", async (t) => {
  const store = new MemoryRiskStore();
  store.raise("alice", 60, T);
  t.throws(() => store.raise("alice", -60, T), RangeError, "a negative raise");
  t.throws(() => store.raiseUntil("alice", NaN, Infinity), RangeError, "a NaN raise");
  t.throws(() => store.raise("alice", 10, NaN, MIN), RangeError, "a raise ending at no time");
  t.throws(() => store.quarantineUntil("n1", NaN), RangeError, "a quarantine ending at no time");
  t.equal(store.risk("alice", T + HOUR), 60);
  store.raise("alice", 0, T, MIN);
  t.equal(store.risk("alice", T), 60, "a raise of 0 changes nothing");
  store.raiseUntil("bob", 1e308, Infinity);
  store.raiseUntil("bob", 1e308, Infinity);
  t.equal(store.risk("bob", T), 100, "amounts summing past the largest double still read 100");
});

t.test("with a clock, a flood of distinct ids raised for a while is swept once lapsed", async (t) => {
  let clock = T;
  const store = new MemoryRiskStore({ clock: () => clock });
  for (let i = 0; i < 50_000; i++) {
    clock = T + i * 100; // 100ms apart: each id's minute-long raise and quarantine lapse behind the clock
    store.raise(`user-${i}`, 40, clock, MIN);
    store.quarantine(`host-${i}`, clock, MIN);
  }
  t.ok(store.size < 10_000, `${store.size} entities held after 50,000 of each`);
  t.equal(store.risk("user-49999", clock), 40, "the latest still in force");
  t.equal(store.quarantined("host-49999", clock), true);
  store.quarantine("forever", clock);
  store.raise("forever", 80, clock);
  clock += 365 * 24 * HOUR;
  store.sweep(clock);
  t.equal(store.size, 2, "only the entries without end remain");
  t.equal(store.quarantined("forever", clock), true);
  t.equal(store.risk("forever", clock), 80);

  // Raises alone and quarantines alone count as writes too: a flood of either is swept as well.
  const raises = new MemoryRiskStore({ clock: () => clock });
  const quarantines = new MemoryRiskStore({ clock: () => clock });
  for (let i = 0; i < 50_000; i++) {
    clock += 100;
    raises.raise(`user-${i}`, 40, clock, MIN);
    quarantines.quarantine(`host-${i}`, clock, MIN);
  }
  t.ok(raises.size < 10_000, `${raises.size} raised ids held after 50,000`);
  t.ok(quarantines.size < 10_000, `${quarantines.size} quarantines held after 50,000`);

  const noClock = new MemoryRiskStore();
  for (let i = 0; i < 3000; i++) noClock.quarantine(`host-${i}`, T, MIN);
  t.equal(noClock.size, 3000, "without a clock nothing lapsed is dropped (a CLI run's snapshot keeps every entry)");
});

t.test("inForceCounts counts entities in force at a time, lapsed ones not (the server's risk metrics)", async (t) => {
  const s = new MemoryRiskStore();
  const T = Date.parse("2026-03-10T09:00:00Z");
  s.raise("ann", 10, T, 60_000);
  s.raise("ann", 20, T, 120_000); // one entity, two raises
  s.raise("bob", 5, T); // no end
  s.raise("cy", 5, T, 30_000);
  s.quarantine("h1", T, 60_000);
  s.quarantine("h2", T);
  t.same(s.inForceCounts(T), { raised: 3, quarantined: 2 });
  t.same(s.inForceCounts(T + 30_000), { raised: 2, quarantined: 2 }, "cy's raise lapsed");
  t.same(s.inForceCounts(T + 90_000), { raised: 2, quarantined: 1 }, "ann's later raise holds; h1 lapsed");
  t.same(s.inForceCounts(T + 120_000), { raised: 1, quarantined: 1 });
  s.release("h2");
  s.clear("bob");
  t.same(s.inForceCounts(T), { raised: 2, quarantined: 1 });
});
