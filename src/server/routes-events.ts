/**
 * POST /v1/events: events through the served set's correlation engine, as
 * one JSON object, a JSON array, or NDJSON (`application/x-ndjson`, one
 * object per line). GET /v1/alerts: the recent alerts, newest first.
 *
 * A malformed event (a line that is not JSON, no valid `@timestamp`, not an
 * object) is reported with its position (1-based `index` in the request and,
 * for NDJSON, its `line`) and skipped; the rest of the request goes on, and
 * the answer is still 200 with the counts. Alerts raised are stored for
 * GET /v1/alerts, counted per rule and returned in the answer.
 */
import type { FastifyInstance } from "fastify";
import { firstBadUtf8, parseRfc3339, type Alert, type StreamProblem } from "../index.js";
import type { ServerContext } from "./app.js";
import type { StoredAlert } from "./alerts.js";
import { sendError } from "./errors.js";
import { alertsQuery, eventsBody } from "./schemas.js";
import { NO_POLICY_MESSAGE } from "./routes-evaluate.js";

const MAX_REPORTED = 100;

/** A line of an NDJSON body that is not JSON: kept in place so positions stay right. */
class BadLine {
  constructor(readonly message: string) {}
}

/** NDJSON bodies: which line each parsed item came from (blank lines are skipped). */
const ndjsonLines = new WeakMap<object, number[]>();

/**
 * One NDJSON line, held to what fastify's JSON parser holds a body to: a
 * `__proto__` key, or `constructor` holding `prototype`, is refused (code
 * that copies events with assignment would take them as prototypes). The
 * message gives the position only: V8's own quotes the line, which may
 * carry a secret.
 */
function parseLine(line: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    const at = /at position (\d+)/.exec((err as Error).message);
    return new BadLine(at ? `not JSON (at column ${Number(at[1]) + 1})` : "not JSON");
  }
  // The same cheap test secure-json-parse makes before it walks the value.
  if (value !== null && typeof value === "object" && (line.includes("__proto__") || line.includes("constructor"))) {
    const bad = poisonedKey(value);
    if (bad !== null) return new BadLine(`not JSON that can be accepted: a ${bad} key`);
  }
  return value;
}

/** `__proto__` or `constructor.prototype` when `value` holds such a key at any depth, else null. */
function poisonedKey(value: unknown): string | null {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== "object") continue;
    if (Object.hasOwn(v, "__proto__")) return "__proto__";
    const c = (v as { constructor?: unknown }).constructor;
    if (Object.hasOwn(v, "constructor") && c !== null && typeof c === "object" && Object.hasOwn(c, "prototype")) return "constructor.prototype";
    for (const k in v) stack.push((v as Record<string, unknown>)[k]);
  }
  return null;
}

function parseNdjson(body: Buffer): unknown[] {
  const items: unknown[] = [];
  const lines: number[] = [];
  let n = 0;
  // A leading UTF-8 BOM (Windows tools write one) is not part of the first event, as the detect CLI reads files.
  let at = body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
  while (at <= body.length) {
    const nl = body.indexOf(10, at);
    const end = nl < 0 ? body.length : nl;
    const bytes = body.subarray(at, end > at && body[end - 1] === 13 ? end - 1 : end);
    at = end + 1;
    n++;
    // A line that is not UTF-8 is malformed, by its line, as a line that is not JSON: decoded with
    // U+FFFD it would be an event other than the one sent (a Latin-1 user.name no rule names).
    const bad = firstBadUtf8(bytes);
    const line = bad === undefined ? bytes.toString("utf8") : "";
    if (bad === undefined && line.trim() === "") continue;
    items.push(bad !== undefined ? new BadLine(`not valid UTF-8 (byte 0x${bad.byte.toString(16).padStart(2, "0")} at column ${bad.column})`) : parseLine(line));
    lines.push(n);
  }
  ndjsonLines.set(items, lines);
  return items;
}

export interface EventProblem {
  index: number;
  line?: number;
  kind: "malformed" | "late";
  message: string;
}

/** The problems the detector reports during one synchronous push loop (see `pushEvents`). */
let collecting: ((p: StreamProblem) => void) | null = null;

/** The detector's onProblem: routes problems to the request being served, if any. */
export function routeProblem(p: StreamProblem): void {
  collecting?.(p);
}

/** Record and count alerts from any source (events, decision log). */
export function storeAlerts(ctx: ServerContext, alerts: readonly Alert[]): StoredAlert[] {
  const out: StoredAlert[] = [];
  for (const a of alerts) {
    ctx.metrics.alerts.inc([a.rule, a.severity]);
    ctx.log.info({ rule: a.rule, severity: a.severity, count: a.count, first_seen: a.first_seen, last_seen: a.last_seen }, "alert");
    out.push(ctx.alerts.add(a));
  }
  return out;
}

export function registerEventRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { metrics, policies } = ctx;
  app.addContentTypeParser("application/x-ndjson", { parseAs: "buffer" }, (_request, body, done) => {
    done(null, parseNdjson(body as Buffer));
  });

  app.post(
    "/v1/events",
    { schema: { body: eventsBody(ctx.config.limits.eventsMaxItems) }, config: { scope: "events", gate: "events" } },
    (request, reply) => {
      const set = policies.current;
      if (set === null) {
        void sendError(reply, "policy_unavailable", NO_POLICY_MESSAGE);
        return;
      }
      const body = request.body as unknown;
      const events = Array.isArray(body) ? body : [body];
      const lines = Array.isArray(body) ? ndjsonLines.get(body) : undefined;
      const problems: EventProblem[] = [];
      let malformed = 0;
      let late = 0;
      let index = 0;
      const report = (kind: "malformed" | "late", message: string) => {
        if (kind === "malformed") malformed++;
        else late++;
        if (problems.length < MAX_REPORTED) problems.push({ index, ...(lines ? { line: lines[index - 1]! } : {}), kind, message });
      };
      const raised: Alert[] = [];
      collecting = (p) => report(p.kind, p.message);
      try {
        for (const event of events) {
          index++;
          if (event instanceof BadLine) report("malformed", event.message);
          else for (const a of set.detector.push(event)) raised.push(a);
        }
      } finally {
        collecting = null;
      }
      metrics.events.inc(["accepted"], events.length - malformed);
      if (malformed > 0) metrics.events.inc(["malformed"], malformed);
      if (late > 0) metrics.events.inc(["late"], late);
      return { version: set.version, received: events.length, accepted: events.length - malformed, malformed, late, alerts: storeAlerts(ctx, raised), problems };
    },
  );

  app.get("/v1/alerts", { schema: { querystring: alertsQuery }, config: { scope: "events" } }, (request, reply) => {
    const q = request.query as { rule?: string; severity?: string; since?: string; after?: string; limit?: string };
    // Read as the engine reads times: Date.parse takes no leap second (NaN, and then no alert was filtered out).
    const since = q.since === undefined ? undefined : parseRfc3339(q.since);
    if (since !== undefined && since !== since) return sendError(reply, "invalid_query", "querystring/since must be an RFC 3339 time");
    const limit = Math.min(1000, Math.max(1, q.limit !== undefined ? Number(q.limit) : 100));
    const alerts = ctx.alerts.query({
      limit,
      ...(q.rule !== undefined ? { rule: q.rule } : {}),
      ...(q.severity !== undefined ? { severity: q.severity } : {}),
      ...(since !== undefined ? { since } : {}),
      ...(q.after !== undefined ? { after: Number(q.after) } : {}),
    });
    return { alerts };
  });
}
