/**
 * A risk store's state as JSON, so the loop closes on the command line too:
 * `swarm-policy detect --risk-out FILE` writes what its `then risk` and
 * `then quarantine` left in force, and `--risk FILE` on `eval`, the mesh
 * verbs and `detect` itself reads it into the store behind `risk()` and
 * `quarantined()` (without it they read an empty store: nobody is
 * quarantined). Format (docs/siem.md
 * "Risk snapshots"):
 *
 *   { "version": 1, "taken_at": "2026-03-10T09:12:00.000Z",
 *     "raises": [{ "id": "alice", "amount": 40, "until": "2026-03-10T10:12:00.000Z" }],
 *     "quarantines": [{ "id": "worker-7", "until": null }] }
 *
 * `until` is RFC 3339, or null for "until cleared / released" (also written
 * for an end past year 9999, which RFC 3339 cannot write). A reader
 * compares `until` with its own `now` (a plan's `--time`, an input's
 * `time`), so entries that have lapsed since are harmless.
 */
import { MemoryRiskStore } from "../evaluator/stores.js";
import { formatInstant, parseRfc3339 } from "../evaluator/time.js";

export interface RiskSnapshot {
  version: 1;
  taken_at: string;
  raises: { id: string; amount: number; until: string | null }[];
  quarantines: { id: string; until: string | null }[];
}

export class RiskSnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RiskSnapshotError";
  }
}

/** The last instant RFC 3339 can write (a four-digit year). */
const LAST_RFC3339_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

// An end past year 9999 (an event time plus a long `for`) has no RFC 3339 form, and written as
// `+010000-...` the file could not be read back: it is written as null, "until cleared", which no
// `now` a reader can write tells apart from it (and which errs on the side of holding the entry).
const untilText = (ms: number): string | null => (ms > LAST_RFC3339_MS ? null : formatInstant(ms));

/** What `store` holds in force at `since` (epoch ms; -Infinity: every entry), taken at `takenAt`. */
export function riskSnapshot(store: MemoryRiskStore, takenAt: number, since = -Infinity): RiskSnapshot {
  const { raises, quarantines } = store.entries(since);
  return {
    version: 1,
    taken_at: formatInstant(takenAt),
    raises: raises.map((r) => ({ id: r.id, amount: r.amount, until: untilText(r.until) })),
    quarantines: quarantines.map((q) => ({ id: q.id, until: untilText(q.until) })),
  };
}

/**
 * `riskSnapshot(store, takenAt, since)` as JSON text (one line and its newline), in pieces of the
 * entries of about `size` entities, unsorted: for a writer that lets other work run between pieces
 * (the server's state file, src/server/risk-state.ts). Entities changed while the pieces are taken
 * are read as MemoryRiskStore.raiseSlices says; the writer saves again after a change.
 */
export function* riskSnapshotText(store: MemoryRiskStore, takenAt: number, since: number, size = 2048): Generator<string> {
  // Raises written by one alert share their end: one RFC 3339 formatting for a run of them.
  let lastMs = NaN;
  let lastText: string | null = null;
  const until = (ms: number): string | null => {
    if (ms !== lastMs) {
      lastMs = ms;
      lastText = untilText(ms);
    }
    return lastText;
  };
  yield `{"version":1,"taken_at":${JSON.stringify(formatInstant(takenAt))},"raises":[`;
  let first = true;
  for (const slice of store.raiseSlices(since, size)) {
    if (slice.length === 0) continue;
    const text = slice.map((r) => JSON.stringify({ id: r.id, amount: r.amount, until: until(r.until) })).join(",");
    yield first ? text : `,${text}`;
    first = false;
  }
  yield `],"quarantines":[`;
  first = true;
  for (const slice of store.quarantineSlices(since, size)) {
    if (slice.length === 0) continue;
    const text = slice.map((q) => JSON.stringify({ id: q.id, until: until(q.until) })).join(",");
    yield first ? text : `,${text}`;
    first = false;
  }
  yield "]}\n";
}

/** A store holding a snapshot's entries; RiskSnapshotError (naming the entry) when `json` is not a snapshot. */
export function storeFromSnapshot(json: unknown): MemoryRiskStore {
  const fail = (where: string, what: string): never => {
    throw new RiskSnapshotError(`${where}: ${what}`);
  };
  if (typeof json !== "object" || json === null || Array.isArray(json)) return fail("(top level)", "must be an object");
  const o = json as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!["version", "taken_at", "raises", "quarantines"].includes(k)) fail(k, "unknown field");
  if (o.version !== 1) fail("version", "must be 1");
  const until = (v: unknown, where: string): number => {
    if (v === null) return Infinity;
    const ms = typeof v === "string" ? parseRfc3339(v) : NaN;
    return Number.isFinite(ms) ? ms : fail(where, "must be an RFC 3339 time or null");
  };
  const list = (name: "raises" | "quarantines"): Record<string, unknown>[] => {
    const v = o[name] ?? [];
    if (!Array.isArray(v)) return fail(name, "must be a list");
    return v.map((e, i) => (typeof e === "object" && e !== null && !Array.isArray(e) ? (e as Record<string, unknown>) : fail(`${name}[${i}]`, "must be an object")));
  };
  const id = (e: Record<string, unknown>, where: string): string => (typeof e.id === "string" && e.id !== "" ? e.id : fail(`${where}.id`, "must be a non-empty string"));
  const store = new MemoryRiskStore();
  list("raises").forEach((e, i) => {
    const amount = e.amount;
    // Negative amounts would cancel other raises: `then risk` only raises.
    if (typeof amount !== "number" || !Number.isFinite(amount) || amount < 0) fail(`raises[${i}].amount`, "must be a number of at least 0");
    store.raiseUntil(id(e, `raises[${i}]`), amount as number, until(e.until, `raises[${i}].until`));
  });
  list("quarantines").forEach((e, i) => store.quarantineUntil(id(e, `quarantines[${i}]`), until(e.until, `quarantines[${i}].until`)));
  return store;
}
