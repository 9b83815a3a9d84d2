/**
 * The service's Prometheus metrics, rendered in the text exposition format
 * 0.0.4 without a client library (a handful of counters, gauges and two
 * histograms do not need one).
 *
 * - Counters live in Maps keyed by their label values; the decision counter,
 *   hit on every decision, is a two-level Map so the hot path allocates
 *   nothing.
 * - `swarm_policy_decision_duration_seconds` is engine time per evaluate call
 *   (one decision, or a whole batch), buckets from 10 µs: a decision takes
 *   microseconds. `swarm_policy_request_duration_seconds` is the whole
 *   request on the evaluate and events routes, from its first byte to the
 *   end of the answer, buckets from 100 µs to 10 s.
 * - The served policy version is the gauge `swarm_policy_info{version}` = 1.
 */

const DECISION_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.1] as const;
const REQUEST_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 10] as const;

/** Escape a label value (backslash, double quote, newline), as the format requires. */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labelText(names: readonly string[], values: readonly string[]): string {
  if (names.length === 0) return "";
  return `{${names.map((k, i) => `${k}="${escapeLabel(values[i] ?? "")}"`).join(",")}}`;
}

function header(out: string[], name: string, help: string, type: string): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
}

/** A monotonically increasing count per combination of label values. */
export class Counter {
  private readonly values = new Map<string, { labels: readonly string[]; n: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  inc(values: readonly string[] = [], by = 1): void {
    const key = values.join("\u0000");
    const cur = this.values.get(key);
    if (cur) cur.n += by;
    else this.values.set(key, { labels: [...values], n: by });
  }

  get(values: readonly string[] = []): number {
    return this.values.get(values.join("\u0000"))?.n ?? 0;
  }

  render(out: string[]): void {
    header(out, this.name, this.help, "counter");
    if (this.values.size === 0 && this.labelNames.length === 0) out.push(`${this.name} 0`);
    for (const { labels, n } of this.values.values()) out.push(`${this.name}${labelText(this.labelNames, labels)} ${n}`);
  }
}

/** Decisions by kind and outcome: the hot-path counter, two Map lookups and no allocation. */
class DecisionCounter {
  private readonly byKind = new Map<string, Map<string, number>>();

  inc(kind: string, outcome: string): void {
    let m = this.byKind.get(kind);
    if (m === undefined) this.byKind.set(kind, (m = new Map()));
    m.set(outcome, (m.get(outcome) ?? 0) + 1);
  }

  get(kind: string, outcome: string): number {
    return this.byKind.get(kind)?.get(outcome) ?? 0;
  }

  render(out: string[]): void {
    const name = "swarm_policy_decisions_total";
    header(out, name, "Decisions made, by input kind and outcome.", "counter");
    for (const [kind, m] of this.byKind) for (const [outcome, n] of m) out.push(`${name}${labelText(["kind", "outcome"], [kind, outcome])} ${n}`);
  }
}

/** A histogram per label value (one label). */
class Histogram {
  private readonly series = new Map<string, { counts: Float64Array; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly label: string,
    readonly buckets: readonly number[],
  ) {}

  observe(labelValue: string, seconds: number): void {
    let s = this.series.get(labelValue);
    if (s === undefined) this.series.set(labelValue, (s = { counts: new Float64Array(this.buckets.length), sum: 0, count: 0 }));
    s.sum += seconds;
    s.count++;
    const b = this.buckets;
    for (let i = 0; i < b.length; i++) {
      if (seconds <= b[i]!) {
        s.counts[i]!++;
        return;
      }
    }
  }

  count(labelValue: string): number {
    return this.series.get(labelValue)?.count ?? 0;
  }

  render(out: string[]): void {
    header(out, this.name, this.help, "histogram");
    for (const [v, s] of this.series) {
      let cumulative = 0;
      const l = `${this.label}="${escapeLabel(v)}"`;
      for (let i = 0; i < this.buckets.length; i++) {
        cumulative += s.counts[i]!;
        out.push(`${this.name}_bucket{${l},le="${this.buckets[i]}"} ${cumulative}`);
      }
      out.push(`${this.name}_bucket{${l},le="+Inf"} ${s.count}`, `${this.name}_sum{${l}} ${s.sum}`, `${this.name}_count{${l}} ${s.count}`);
    }
  }
}

/** Every metric the service exposes on GET /metrics. */
export class ServerMetrics {
  readonly decisions = new DecisionCounter();
  readonly decisionLatency = new Histogram(
    "swarm_policy_decision_duration_seconds",
    "Engine time per evaluate call (one decision, or one whole batch), in seconds.",
    "route",
    DECISION_BUCKETS,
  );
  readonly requestLatency = new Histogram(
    "swarm_policy_request_duration_seconds",
    "Whole requests on the evaluate and events routes, first byte to end of answer, in seconds.",
    "route",
    REQUEST_BUCKETS,
  );
  readonly reloads = new Counter("swarm_policy_reloads_total", "Policy reload attempts, by result: success (swapped in) or failure (the last good set kept).", ["result"]);
  readonly reloadFailures = new Counter("swarm_policy_reload_failures_total", "Reload attempts whose policy set had errors and was not served.", []);
  readonly alerts = new Counter("swarm_policy_alerts_total", "Alerts raised by the correlation engine, by rule and severity.", ["rule", "severity"]);
  readonly events = new Counter("swarm_policy_events_total", "Events received on /v1/events and from the decision log, by result (accepted, malformed, late).", ["result"]);
  readonly overloaded = new Counter("swarm_policy_overload_rejections_total", "Requests answered 503 overloaded: the bound on concurrent evaluations was reached.", []);
  readonly mfa = new Counter("swarm_policy_mfa_verifications_total", "MFA verifications, by result.", ["result"]);
  readonly decisionLog = new Counter("swarm_policy_decision_log_errors_total", "Decision log write or rotation errors.", []);
  readonly riskState = new Counter("swarm_policy_risk_state_errors_total", "Risk state file saves that failed (the store in memory still holds; retried until one succeeds, backing off to once a minute).", []);
  /** Read at render time: decision log counts, concurrent evaluations, the risk store, its file. */
  decisionLogStats: (() => { written: number; dropped: number }) | null = null;
  riskEntities: (() => { raised: number; quarantined: number }) | null = null;
  /** Epoch ms of the risk state file's last good save (null before one); absent without a file. */
  riskStateSavedAt: (() => number | null) | null = null;
  inflight: () => number = () => 0;
  /** The served set; null before the first good set. */
  policy: { version: string; loadedAtMs: number } | null = null;
  /** Whether the last reload attempt failed (1) or not (0). */
  lastReloadFailed = false;
  /** How long the last reload attempt took, seconds (null before the first). */
  lastReloadSeconds: number | null = null;

  /** The metrics as Prometheus text format 0.0.4. */
  render(): string {
    const out: string[] = [];
    this.decisions.render(out);
    this.decisionLatency.render(out);
    this.requestLatency.render(out);
    this.reloads.render(out);
    this.reloadFailures.render(out);
    header(out, "swarm_policy_last_reload_failed", "1 when the most recent reload attempt failed and an older set is being served.", "gauge");
    out.push(`swarm_policy_last_reload_failed ${this.lastReloadFailed ? 1 : 0}`);
    if (this.lastReloadSeconds !== null) {
      header(out, "swarm_policy_last_reload_duration_seconds", "How long the most recent reload attempt took (reading, checking, compiling), in seconds.", "gauge");
      out.push(`swarm_policy_last_reload_duration_seconds ${this.lastReloadSeconds}`);
    }
    this.alerts.render(out);
    this.events.render(out);
    this.overloaded.render(out);
    this.mfa.render(out);
    this.decisionLog.render(out);
    this.riskState.render(out);
    if (this.riskStateSavedAt !== null) {
      const at = this.riskStateSavedAt();
      header(out, "swarm_policy_risk_state_last_save_timestamp_seconds", "When the risk state file was last saved whole (it holds what was in force then).", "gauge");
      if (at !== null) out.push(`swarm_policy_risk_state_last_save_timestamp_seconds ${at / 1000}`);
    }
    if (this.riskEntities !== null) {
      const r = this.riskEntities();
      header(out, "swarm_policy_risk_entities", "Entities with risk raised (kind=raise) or quarantined (kind=quarantine) now.", "gauge");
      out.push(`swarm_policy_risk_entities{kind="raise"} ${r.raised}`, `swarm_policy_risk_entities{kind="quarantine"} ${r.quarantined}`);
    }
    if (this.decisionLogStats !== null) {
      const s = this.decisionLogStats();
      header(out, "swarm_policy_decision_log_lines_total", "Decision log lines, by result (written, dropped).", "counter");
      out.push(`swarm_policy_decision_log_lines_total{result="written"} ${s.written}`, `swarm_policy_decision_log_lines_total{result="dropped"} ${s.dropped}`);
    }
    header(out, "swarm_policy_inflight_requests", "Evaluate and events requests being served now.", "gauge");
    out.push(`swarm_policy_inflight_requests ${this.inflight()}`);
    header(out, "swarm_policy_info", "The policy set being served (value 1), labelled by its version.", "gauge");
    if (this.policy) out.push(`swarm_policy_info${labelText(["version"], [this.policy.version])} 1`);
    header(out, "swarm_policy_loaded_timestamp_seconds", "When the policy set being served was loaded.", "gauge");
    if (this.policy) out.push(`swarm_policy_loaded_timestamp_seconds ${this.policy.loadedAtMs / 1000}`);
    const mem = process.memoryUsage();
    header(out, "process_resident_memory_bytes", "Resident memory size in bytes.", "gauge");
    out.push(`process_resident_memory_bytes ${mem.rss}`);
    header(out, "nodejs_heap_used_bytes", "V8 heap in use, in bytes.", "gauge");
    out.push(`nodejs_heap_used_bytes ${mem.heapUsed}`);
    return out.join("\n") + "\n";
  }
}
