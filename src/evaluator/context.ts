/**
 * The per-evaluation state the compiled closures read: the input, the
 * evaluation time (memoized: the clock is read at most once per decision, so
 * every clause of one decision sees the same `now`) and the risk store.
 */
import { EvalError, type ObjectValue } from "./values.js";
import { MAX_TIME_MS, Time } from "./time.js";
import type { RiskStore } from "./stores.js";
import { msg } from "./messages.js";

const NOW_UNAVAILABLE = new EvalError(msg.nowUnavailable(), null);

export class EvalContext {
  private nowMs = NaN;
  private nowTime: Time | null = null;

  constructor(
    public input: ObjectValue,
    /** Epoch ms of the input's `time`, NaN when the input has none. */
    public timeMs: number,
    readonly clock: () => number,
    readonly store: RiskStore,
  ) {}

  /**
   * The same context for the next input: a stream engine evaluates one input
   * at a time and keeps no context past it, so it need not make one per event.
   */
  reset(input: ObjectValue, timeMs: number): void {
    this.input = input;
    this.timeMs = timeMs;
    this.nowMs = NaN;
    this.nowTime = null;
  }

  /** Evaluation time in epoch ms (NaN when the clock gives nonsense). */
  now(): number {
    if (this.nowMs === this.nowMs) return this.nowMs;
    const t = this.timeMs === this.timeMs ? this.timeMs : this.clock();
    this.nowMs = typeof t === "number" && Math.abs(t) <= MAX_TIME_MS ? t : NaN;
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
