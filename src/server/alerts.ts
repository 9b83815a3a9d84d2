/**
 * The recent alerts GET /v1/alerts answers from: a ring buffer of fixed
 * capacity (default 1,000), oldest overwritten first. Each alert gets a
 * sequence number (`id`, increasing from 1 for the life of the process) and
 * the time it was received, so a poller can ask for `after=<last id>`.
 */
import type { Alert } from "../index.js";
import { pruneEvents } from "../runtime/siem/nesting.js";

export interface StoredAlert extends Alert {
  id: number;
  received_at: string;
}

export interface AlertFilter {
  rule?: string;
  severity?: string;
  /** RFC 3339: alerts whose last_seen is at or after it. */
  since?: number;
  /** Alerts with a larger id. */
  after?: number;
  /** Most recent first, at most this many. */
  limit: number;
}

export class AlertBuffer {
  private readonly items: (StoredAlert | undefined)[];
  private next = 0;
  private seq = 0;

  constructor(readonly capacity = 1000) {
    this.items = new Array(Math.max(1, capacity));
  }

  add(alert: Alert, now = Date.now()): StoredAlert {
    // Events kept to MAX_DEPTH levels, so the alert can always be answered (nesting.ts).
    const stored: StoredAlert = { id: ++this.seq, received_at: new Date(now).toISOString(), ...alert, events: pruneEvents(alert.events) };
    this.items[this.next] = stored;
    this.next = (this.next + 1) % this.items.length;
    return stored;
  }

  /** Matching alerts, newest first. */
  query(f: AlertFilter): StoredAlert[] {
    const out: StoredAlert[] = [];
    const n = this.items.length;
    for (let k = 1; k <= n && out.length < f.limit; k++) {
      const a = this.items[(this.next - k + n) % n];
      if (a === undefined) break;
      if (f.after !== undefined && a.id <= f.after) break;
      if (f.rule !== undefined && a.rule !== f.rule) continue;
      if (f.severity !== undefined && a.severity !== f.severity) continue;
      if (f.since !== undefined && Date.parse(a.last_seen) < f.since) continue;
      out.push(a);
    }
    return out;
  }
}
