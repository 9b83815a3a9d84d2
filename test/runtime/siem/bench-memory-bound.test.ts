/**
 * bench/siem.ts fails (`npm run bench` exits non-zero) when the heap of its
 * 10M-event memory run does not stay flat once settled; the check itself,
 * on heap series made up for the purpose (no timing, no big run here).
 */
import t from "tap";
import { settledSpread } from "../../../bench/siem.js";

t.test("a flat settled heap passes; the first two millions (windows filling) are not compared", async (t) => {
  t.equal(settledSpread([120, 260, 300, 304.5, 301, 303, 302, 305, 303, 304]), 5);
});

t.test("a heap that keeps growing throws", async (t) => {
  // 3 MiB a million: 21 MiB over 3M..10M.
  const leak = Array.from({ length: 10 }, (_, i) => 280 + 3 * i);
  t.throws(() => settledSpread(leak), /settled heap varies by 21\.0 MiB over 3M\.\.10M events, more than 16 MiB/);
  t.throws(() => settledSpread([100, 200, 300, 317]), /more than 16 MiB/);
  t.equal(settledSpread([100, 200, 300, 316]), 16, "the bound itself passes");
});

t.test("too short a run to settle throws rather than passing vacuously", async (t) => {
  t.throws(() => settledSpread([100, 200]), /fewer than 3 million events/);
});
