/** The detector's fast `@timestamp` parser agrees with the evaluator's RFC 3339 parser everywhere. */
import t, { type Test } from "tap";
import { eventTimeMs } from "../../../src/runtime/siem/event-time.js";
import { parseRfc3339 } from "../../../src/evaluator/time.js";
import { prng } from "../../support/prng.js";

const same = (a: number, b: number) => a === b || (a !== a && b !== b);

t.test("table", async (t) => {
  const cases: [string, number][] = [
    ["2026-03-10T09:00:00Z", Date.UTC(2026, 2, 10, 9)],
    ["2026-03-10T09:00:00.123Z", Date.UTC(2026, 2, 10, 9, 0, 0, 123)],
    ["2026-03-10T09:00:00.5Z", Date.UTC(2026, 2, 10, 9, 0, 0, 500)],
    ["2026-03-10T09:00:00.57Z", Date.UTC(2026, 2, 10, 9, 0, 0, 570)],
    ["2026-03-10T09:00:00.999999999Z", Date.UTC(2026, 2, 10, 9, 0, 0, 999)],
    ["2024-02-29T00:00:00Z", Date.UTC(2024, 1, 29)],
    ["2016-12-31T23:59:60Z", Date.UTC(2017, 0, 1)],
    ["1969-12-31T23:59:59.999Z", -1],
    ["0001-01-01T00:00:00Z", Date.parse("0001-01-01T00:00:00Z")],
    ["0000-02-29T00:00:00Z", Date.parse("0000-02-29T00:00:00Z")],
    ["0099-12-31T23:59:60Z", Date.parse("0100-01-01T00:00:00Z")],
    ["0099-12-31T23:59:60.5Z", Date.parse("0100-01-01T00:00:00.500Z")],
    ["2026-03-10T10:00:00+01:00", Date.UTC(2026, 2, 10, 9)],
    ["2026-03-10t09:00:00z", Date.UTC(2026, 2, 10, 9)],
    ["2023-02-29T00:00:00Z", NaN],
    ["2026-13-01T00:00:00Z", NaN],
    ["2026-03-10T24:00:00Z", NaN],
    ["2026-03-10T09:00:00.Z", NaN],
    ["2026-03-10T09:00:00.1234567890Z", NaN],
    ["2026-03-10T09:0a:00Z", NaN],
    ["", NaN],
  ];
  for (const [s, want] of cases) {
    t.ok(same(eventTimeMs(s), want), `${s}: ${eventTimeMs(s)} want ${want}`);
    t.ok(same(parseRfc3339(s), want), `parseRfc3339 agrees on ${s}`);
  }
});

const MUTATIONS = "0123456789-:TZ.+tz ";

/** `s` with one character replaced by one from MUTATIONS. */
function mutateOne(s: string, rand: () => number): string {
  const chars = s.split("");
  chars[Math.floor(rand() * chars.length)] = MUTATIONS[Math.floor(rand() * MUTATIONS.length)]!;
  return chars.join("");
}

/** eventTimeMs(s) when parseRfc3339 agrees; otherwise a failure and null. */
function agreed(t: Test, s: string): number | null {
  const a = eventTimeMs(s);
  const b = parseRfc3339(s);
  if (same(a, b)) return a;
  t.fail(`${s}: ${a} vs ${b}`);
  return null;
}

t.test("random times and mutations: identical to parseRfc3339", async (t) => {
  const rand = prng(7);
  let valid = 0;
  for (let i = 0; i < 200_000; i++) {
    const ms = Math.floor((rand() * 2 - 0.5) * 2e14); // years ~ -1200 .. 7300
    let s = new Date(ms).toISOString();
    if (s.startsWith("-") || s.startsWith("+")) s = new Date(Math.abs(ms) % 2.5e14).toISOString();
    if (rand() < 0.3) s = s.replace(/\.\d+Z$/, rand() < 0.5 ? "Z" : `.${String(Math.floor(rand() * 1e9)).slice(0, 1 + Math.floor(rand() * 9))}Z`);
    if (rand() < 0.4) s = mutateOne(s, rand);
    const a = agreed(t, s);
    if (a === null) return;
    if (a === a) valid++;
  }
  t.ok(valid > 100_000, `${valid} valid times among the inputs`);
});

t.test("a stream's times, mostly in the minute of the one before: identical to parseRfc3339", async (t) => {
  const rand = prng(11);
  let ms = Date.UTC(2024, 1, 28, 23, 58);
  let hits = 0;
  for (let i = 0; i < 100_000; i++) {
    ms += Math.floor(rand() * 2000); // crosses minutes, hours, days and a leap day
    let s = new Date(ms).toISOString();
    if (rand() < 0.1) s = s.replace(/\.\d+Z$/, "Z");
    if (rand() < 0.05) s = mutateOne(s, rand);
    const a = agreed(t, s);
    if (a === null) return;
    if (a === ms || a === Math.floor(ms / 1000) * 1000) hits++;
  }
  t.ok(hits > 90_000, `${hits} times read back`);
});
