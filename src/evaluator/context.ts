/**
 * The per-evaluation state the compiled closures read: the input, the
 * evaluation time (memoized: the clock is read at most once per decision, so
 * every clause of one decision sees the same `now`) and the risk store.
 */
import { EvalError, type ObjectValue } from "./values.js";
import { Time } from "./time.js";
import type { RiskStore } from "./stores.js";
import { msg } from "./messages.js";

const NOW_UNAVAILABLE = new EvalError(msg.nowUnavailable(), null);

export class EvalContext {
  private nowMs = NaN;
  private nowTime: Time | null = null;

  constructor(
    readonly input: ObjectValue,
    /** Epoch ms of the input's `time`, NaN when the input has none. */
    readonly timeMs: number,
    readonly clock: () => number,
    readonly store: RiskStore,
  ) {}

  /** Evaluation time in epoch ms (NaN when the clock gives nonsense). */
  now(): number {
    if (this.nowMs === this.nowMs) return this.nowMs;
    const t = this.timeMs === this.timeMs ? this.timeMs : this.clock();
    this.nowMs = typeof t === "number" && Number.isFinite(t) ? t : NaN;
    return this.nowMs;
  }

  /** `now` as a value. */
  nowValue(): Time | EvalError {
    if (this.nowTime !== null) return this.nowTime;
    const ms = this.now();
    if (ms !== ms) return NOW_UNAVAILABLE;
    this.nowTime = new Time(ms);
    return this.nowTime;
  }
}
