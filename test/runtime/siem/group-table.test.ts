/**
 * GroupTable (the windows in typed arrays) against a plain model: per group a
 * list of events sorted by (time, arrival), the window evicting by time behind
 * the newest event and then by the cap, distinct values counted over what is
 * left. Random groups, out-of-order times, list values, windows that grow
 * past the size where distinct values get a Map of counts and shrink again,
 * groups deleted and their slots reused, the idle sweep (least recently
 * updated first, while idle) and the group cap.
 */
import t from "tap";
import { GroupKeys, GroupTable, type GroupKey } from "../../../src/runtime/siem/group-table.js";
import { matchSequence } from "../../../src/runtime/siem/window.js";
import { prng } from "./random-detect.js";

interface ModelEntry {
  t: number;
  seq: number;
  values: GroupKey | GroupKey[];
  steps: number;
}

interface ModelGroup {
  entries: ModelEntry[];
  newest: number;
}

function modelAdd(g: ModelGroup, e: ModelEntry, withinMs: number, maxEvents: number): number {
  let i = g.entries.length;
  while (i > 0 && (g.entries[i - 1]!.t > e.t || (g.entries[i - 1]!.t === e.t && g.entries[i - 1]!.seq > e.seq))) i--;
  g.entries.splice(i, 0, e);
  g.newest = Math.max(g.newest, e.t);
  const from = g.newest - withinMs;
  let dropped = 0;
  while (g.entries.length > 0 && (g.entries[0]!.t < from || g.entries.length > maxEvents)) {
    if (g.entries[0]!.t >= from) dropped++;
    g.entries.shift();
  }
  return dropped;
}

function modelDistinct(g: ModelGroup): number {
  const seen = new Set<GroupKey>();
  for (const e of g.entries) for (const v of Array.isArray(e.values) ? e.values : [e.values]) seen.add(v);
  return seen.size;
}

t.test("windows, caps and distinct counts match the model", async (t) => {
  const rand = prng(4242);
  const int = (n: number) => Math.floor(rand() * n);
  const VALUES: GroupKey[] = ["a", "b", "c", 1, 2, "1", true, null, NaN];
  let checks = 0;
  let big = 0;
  for (let round = 0; round < 60; round++) {
    const withinMs = 1 + int(rand() < 0.5 ? 40 : 300);
    const maxEvents = 1 + int(rand() < 0.5 ? 30 : 80);
    const keys = new GroupKeys();
    const table = new GroupTable(keys, withinMs, maxEvents);
    const model = new Map<GroupKey, ModelGroup>();
    let now = 0;
    for (let seq = 1; seq <= 600; seq++) {
      now += int(3);
      const key: GroupKey = `g${int(4)}`;
      // Mostly in order; some behind the newest (a late event within the allowed lateness).
      const time = rand() < 0.2 ? now - int(30) : now;
      const values: GroupKey | GroupKey[] = rand() < 0.2 ? [...new Set(Array.from({ length: int(3) }, () => VALUES[int(VALUES.length)]!))] : VALUES[int(VALUES.length)]!;
      const steps = 1 + int(3);
      const id = keys.intern(key);
      let s = table.find(id);
      let m = model.get(key);
      if (s < 0) {
        s = table.create(id, key);
        m = { entries: [], newest: -Infinity };
      } else table.touch(s);
      // The model's Map keeps update order: least recently updated first.
      model.delete(key);
      model.set(key, m!);
      const dropped = table.add(s, time, seq, {}, values, steps);
      const want = modelAdd(m!, { t: time, seq, values, steps }, withinMs, maxEvents);
      if (dropped !== want || table.count(s) !== m!.entries.length || table.distinctCount(s) !== modelDistinct(m!) || table.newest(s) !== m!.newest) {
        t.fail(`round ${round} event ${seq}: dropped ${dropped}/${want}, size ${table.count(s)}/${m!.entries.length}, distinct ${table.distinctCount(s)}/${modelDistinct(m!)}`);
        return;
      }
      if (m!.entries.length > 16) big++;
      // The window's order, through the sequence matcher: one step per event, `>= 1` each.
      const seqs = table.sequence(s, (bits, n) => (n === m!.entries.length && bits.slice(0, n).every((b, i) => b === m!.entries[i]!.steps) ? [0] : null), 10);
      if (seqs === null || seqs.first !== m!.entries[0]!.t) {
        t.fail(`round ${round} event ${seq}: the window's order differs from the model's`);
        return;
      }
      checks++;
      // Now and then a group fires (is deleted, its slot reused later) or the idle ones are swept.
      if (rand() < 0.05) {
        table.delete(s);
        model.delete(key);
      }
      if (rand() < 0.02) {
        const limit = now - int(20);
        table.sweep(limit);
        for (const [k, g] of model) {
          if (g.newest >= limit) break;
          model.delete(k);
        }
      }
      if (table.size !== model.size || keys.size !== model.size) {
        t.fail(`round ${round} event ${seq}: ${table.size} groups, model ${model.size}`);
        return;
      }
    }
  }
  t.pass(`${checks} additions agree`);
  t.ok(big > 100, `${big} checks on windows past 16 events`);
});

t.test("the group cap evicts the least recently updated; key numbers are shared and let go", async (t) => {
  const keys = new GroupKeys();
  const table = new GroupTable(keys, Infinity, 100);
  const other = new GroupTable(keys, Infinity, 100);
  const a = table.create(keys.intern("a"), "a");
  table.add(a, 1, 1, {}, undefined, 0);
  const b = table.create(keys.intern("b"), "b");
  table.add(b, 2, 2, {}, undefined, 0);
  const ob = other.create(keys.intern("b"), "b");
  t.equal(keys.intern("b"), keys.intern("b"), "one number for b");
  table.touch(a);
  table.add(a, 3, 3, {}, undefined, 0);
  table.evictOldest();
  t.equal(table.find(keys.intern("b")), -1, "b, updated least recently, went");
  t.equal(other.find(keys.intern("b")), ob, "another rule's group of b stays");
  t.equal(table.find(keys.intern("a")), a);
  const c = table.create(keys.intern("c"), "c");
  t.equal(c, b, "its slot is reused");
  t.equal(table.count(c), 0, "empty");
  t.same(table.takeAll(a, 10).count, 2);
  other.delete(ob);
  t.equal(keys.size, 2, "b's number is let go with its last group");
  table.clear();
  t.equal(keys.size, 0, "clear lets every number go");
});

t.test("matchSequence over positions", async (t) => {
  t.same(matchSequence([1, 1, 2], 3, true, [">=", ">="], [2, 1]), [0, 1, 2]);
  t.same(matchSequence([1, 1, 1, 2], 4, true, ["==", ">="], [2, 1]), [1, 2, 3]);
  t.equal(matchSequence([2, 1], 2, true, [">=", ">="], [1, 1]), null);
});

t.test("distinct values from long lists are counted in a Map, not by looking through the window for each", async (t) => {
  // Each value of an arriving list was looked for in every other entry's
  // list: 16 events of 4,000 ports each took 3 s. Count the look-ups.
  let lookups = 0;
  const counted = (vs: GroupKey[]) =>
    new Proxy(vs, {
      get(target, key, receiver) {
        if (key === "includes") lookups++;
        return Reflect.get(target, key, receiver);
      },
    });
  const keys = new GroupKeys();
  const groups = new GroupTable(keys, 1000, 10_000);
  const s = groups.create(keys.intern("10.0.0.1"), "10.0.0.1");
  for (let i = 0; i < 16; i++) groups.add(s, i, i, {}, counted(Array.from({ length: 500 }, (_, j) => j * 16 + i)), 0);
  t.equal(groups.distinctCount(s), 16 * 500, "every port counted once");
  for (let i = 16; i < 20; i++) groups.add(s, 2000 + i, i, {}, counted([1]), 0);
  t.equal(groups.distinctCount(s), 1, "the old lists evicted, their values counted out");
  t.equal(lookups, 0, "no value looked for in other entries' lists");
});
