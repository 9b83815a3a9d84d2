/**
 * Risk snapshots (src/runtime/risk-snapshot.ts): what a store holds, written
 * as JSON and read back into a store that answers risk() and quarantined()
 * the same way; anything else is refused naming the entry.
 */
import t from "tap";
import { MemoryRiskStore } from "../../src/evaluator/stores.js";
import { RiskSnapshotError, riskSnapshot, riskSnapshotText, storeFromSnapshot } from "../../src/runtime/risk-snapshot.js";

const T = Date.parse("2026-03-10T09:00:00Z");
const MIN = 60_000;

t.test("a snapshot read back answers as the store did, at every time", async (t) => {
  const a = new MemoryRiskStore();
  a.raise("alice", 40, T, 60 * MIN);
  a.raise("alice", 30, T + 10 * MIN, 10 * MIN);
  a.raise("bob", 90, T);
  a.quarantine("worker-7", T, 30 * MIN);
  a.quarantine("gw-1", T);
  const snap = riskSnapshot(a, T + MIN);
  t.same(snap, {
    version: 1,
    taken_at: "2026-03-10T09:01:00.000Z",
    raises: [
      { id: "alice", amount: 30, until: "2026-03-10T09:20:00.000Z" },
      { id: "alice", amount: 40, until: "2026-03-10T10:00:00.000Z" },
      { id: "bob", amount: 90, until: null },
    ],
    quarantines: [
      { id: "gw-1", until: null },
      { id: "worker-7", until: "2026-03-10T09:30:00.000Z" },
    ],
  });
  const b = storeFromSnapshot(JSON.parse(JSON.stringify(snap)));
  for (const at of [T, T + 15 * MIN, T + 25 * MIN, T + 45 * MIN, T + 2 * 60 * MIN]) {
    for (const id of ["alice", "bob", "carol"]) t.equal(b.risk(id, at), a.risk(id, at), `risk(${id}) at +${(at - T) / MIN}m`);
    for (const id of ["worker-7", "gw-1", "w2"]) t.equal(b.quarantined(id, at), a.quarantined(id, at), `quarantined(${id}) at +${(at - T) / MIN}m`);
  }
  t.same(riskSnapshot(a, T, T + 45 * MIN).raises.map((r) => r.amount), [40, 90], "since: entries lapsed by then are left out");
});

t.test("anything that is not a snapshot is refused, naming the entry", async (t) => {
  const cases: [unknown, RegExp][] = [
    [[], /^\(top level\): must be an object$/],
    [{ version: 2 }, /^version: must be 1$/],
    [{ version: 1, extra: 1 }, /^extra: unknown field$/],
    [{ version: 1, raises: {} }, /^raises: must be a list$/],
    [{ version: 1, raises: [1] }, /^raises\[0\]: must be an object$/],
    [{ version: 1, raises: [{ id: "", amount: 1, until: null }] }, /^raises\[0\]\.id: must be a non-empty string$/],
    [{ version: 1, raises: [{ id: "a", amount: "40", until: null }] }, /^raises\[0\]\.amount: must be a number of at least 0$/],
    [{ version: 1, raises: [{ id: "a", amount: -90, until: null }] }, /^raises\[0\]\.amount: must be a number of at least 0$/],
    [{ version: 1, raises: [{ id: "a", amount: 40, until: "tomorrow" }] }, /^raises\[0\]\.until: must be an RFC 3339 time or null$/],
    [{ version: 1, quarantines: [{ id: "n", until: 5 }] }, /^quarantines\[0\]\.until: must be an RFC 3339 time or null$/],
    [{ version: 1, quarantines: [{ until: null }] }, /^quarantines\[0\]\.id: must be a non-empty string$/],
  ];
  for (const [json, message] of cases) t.throws(() => storeFromSnapshot(json), { name: "RiskSnapshotError", message }, JSON.stringify(json));
  t.ok(new RiskSnapshotError("x") instanceof Error);
  const empty = storeFromSnapshot({ version: 1 });
  t.equal(empty.quarantined("n", T), false);
});

t.test("a negative amount is refused: it would cancel the raises next to it", async (t) => {
  const json = { version: 1, raises: [{ id: "alice", amount: 90, until: null }, { id: "alice", amount: -90, until: null }] };
  t.throws(() => storeFromSnapshot(json), { name: "RiskSnapshotError", message: /^raises\[1\]\.amount: / });
});

t.test("an end past year 9999 is written so the file reads back, the entry still held", async (t) => {
  const a = new MemoryRiskStore();
  const late = Date.parse("9999-12-31T23:00:00Z");
  a.quarantine("gw-1", late, 2 * 60 * MIN); // ends in year 10000, which RFC 3339 cannot write
  a.raise("ann", 60, T, 500_000 * 7 * 24 * 60 * MIN); // `for 500000w`: ends about year 11600
  a.quarantine("w-2", late, 59 * MIN); // ends at the last instant RFC 3339 can write: kept as written
  const snap = riskSnapshot(a, T);
  t.same(
    snap.quarantines.map((q) => q.until),
    [null, "9999-12-31T23:59:00.000Z"],
  );
  const b = storeFromSnapshot(JSON.parse(JSON.stringify(snap)));
  t.equal(b.quarantined("gw-1", Date.parse("9999-12-31T23:59:59Z")), true);
  t.equal(b.risk("ann", Date.parse("9999-12-31T23:59:59Z")), 60);
  t.equal(b.quarantined("w-2", Date.parse("9999-12-31T23:59:00Z")), false);

  // The edge itself: the last millisecond of year 9999 is written; the next one and an hour later are null.
  const last = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
  const c = new MemoryRiskStore();
  for (const [id, until] of [["last", last], ["next", last + 1], ["hour", last + 1 + 30 * MIN]] as const) c.quarantineUntil(id, until);
  const edge = riskSnapshot(c, T);
  t.same(
    edge.quarantines.map((q) => [q.id, q.until]),
    [
      ["hour", null],
      ["last", "9999-12-31T23:59:59.999Z"],
      ["next", null],
    ],
  );
  t.doesNotThrow(() => storeFromSnapshot(JSON.parse(JSON.stringify(edge))), "and reads back");
});

t.test("the snapshot in pieces (the server's state file) is the same snapshot, unsorted, whatever the slice size", async (t) => {
  const a = new MemoryRiskStore();
  const late = Date.parse("9999-12-31T23:00:00Z");
  for (let i = 0; i < 25; i++) a.raise(`u-${(i * 7) % 25}`, 10 + i, T, (i % 3) * 30 * MIN); // some lapsed at T + 1m: for 0m
  a.raise("u-3", 5, T, 90 * MIN); // a second raise of one entity
  a.raise("ann", 60, late, 2 * 60 * MIN); // past year 9999: null
  a.raise("bob", 90, T); // no end: null
  for (let i = 0; i < 12; i++) a.quarantine(`h-${i}`, T, i === 0 ? undefined : i * 10 * MIN);
  a.quarantine("gw-\u202e\"1", late, 2 * 60 * MIN); // a name JSON must escape
  const want = riskSnapshot(a, T + MIN, T + MIN);
  const byId = (x: { id: string; until: string | null }, y: { id: string; until: string | null }) => (x.id < y.id ? -1 : x.id > y.id ? 1 : String(x.until) < String(y.until) ? -1 : 1);
  for (const size of [1, 2, 5, 2048]) {
    const pieces = [...riskSnapshotText(a, T + MIN, T + MIN, size)];
    const text = pieces.join("");
    t.ok(text.endsWith("}\n") && !text.slice(0, -1).includes("\n"), `size ${size}: one line and its newline`);
    const got = JSON.parse(text);
    t.equal(got.taken_at, want.taken_at);
    t.same([...got.raises].sort(byId), want.raises, `size ${size}: the raises`);
    t.same([...got.quarantines].sort(byId), want.quarantines, `size ${size}: the quarantines`);
    if (size === 1) t.ok(pieces.length > 30, "one entity a piece");
  }
  const empty = JSON.parse([...riskSnapshotText(new MemoryRiskStore(), T, T)].join(""));
  t.same(empty, { version: 1, taken_at: "2026-03-10T09:00:00.000Z", raises: [], quarantines: [] }, "an empty store");
});
