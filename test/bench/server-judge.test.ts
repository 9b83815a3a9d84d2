/**
 * bench:server's verdict (no timing: the figures are made up here): speed
 * targets are reported, while errors under load and memory growth over the
 * soak fail the run.
 */
import t from "tap";
import { judge, TARGETS, type LoadResult } from "../../bench/server.js";

const load = (over: Partial<LoadResult> = {}): LoadResult => ({
  requestsPerS: 20_000,
  decisionsPerS: 20_000,
  p50Ms: 1,
  p99Ms: 4,
  errors: 0,
  non2xx: 0,
  timeouts: 0,
  total: 200_000,
  ...over,
});
const flat = [60, 61, 60, 61, 60, 61, 60, 61, 60];

t.test("a clean fast run meets every target and fails nothing", async (t) => {
  const v = judge(load(), [load(), load()], flat);
  t.same(v.failures, []);
  t.same(v.targets, { singleRate: true, singleP99: true, noErrors: true, memoryFlat: true });
  t.match(v.lines[0], /single >= 15,000\/s met; p99 < 10 ms met/);
});

t.test("a slow run is reported, not failed", async (t) => {
  const slow = load({ decisionsPerS: 9_000, p99Ms: 14 });
  const v = judge(slow, [slow], flat);
  t.same(v.failures, []);
  t.equal(v.targets.singleRate, false);
  t.equal(v.targets.singleP99, false);
  t.match(v.lines[0], /NOT met; p99 < 10 ms NOT met/);
});

t.test("errors, timeouts and non-2xx answers in any phase fail the run", async (t) => {
  for (const bad of [{ errors: 1 }, { timeouts: 2 }, { non2xx: 3 }]) {
    const v = judge(load(), [load(), load(bad)], flat);
    t.equal(v.failures.length, 1, JSON.stringify(bad));
    t.match(v.failures[0], /errors, timeouts or non-2xx/);
    t.equal(v.targets.noErrors, false);
  }
});

t.test("RSS growing over the soak beyond the bound fails the run", async (t) => {
  const growing = flat.map((x, i) => x + i * 3);
  const v = judge(load(), [load()], growing);
  t.equal(v.targets.memoryFlat, false);
  t.match(v.failures.join(), new RegExp(`bound ${TARGETS.rssGrowthMiB} MiB`));
});
