/**
 * The service's configuration: a YAML or JSON file (docs/operations.md),
 * checked against a JSON Schema, with defaults filled in and relative paths
 * taken relative to the file. Command-line flags override the common fields.
 *
 * A bad file is a `ServerConfigError` naming the file and the field
 * (`serve.yaml: limits.body_bytes: must be integer`); nothing starts.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { Ajv } from "ajv";
import type { ClientConfig, Scope } from "./auth.js";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export interface TlsConfig {
  cert: string;
  key: string;
  /** CA bundle for client certificates: mutual TLS, a client certificate is required. */
  clientCa?: string;
}

export interface ServerConfig {
  host: string;
  port: number;
  clients: ClientConfig[];
  tls: TlsConfig | null;
  limits: {
    bodyBytes: number;
    requestTimeoutMs: number;
    keepAliveTimeoutMs: number;
    /** Evaluate, batch and events requests served at once; more are answered 503 overloaded. */
    maxConcurrent: number;
    batchMaxItems: number;
    eventsMaxItems: number;
  };
  decisionLog: {
    /** A file, "-" for stdout, or null for none. */
    path: string | null;
    maxBytes: number;
    keep: number;
    redact: string[];
    /** Also feed each decision to the correlation engine as an event. */
    toEvents: boolean;
  };
  reload: { watch: boolean; debounceMs: number };
  events: { allowedLatenessMs: number; maxGroupsPerRule: number; maxFutureMs: number };
  alerts: { capacity: number };
  log: { level: LogLevel };
  /** The keyring whose MFA enrolments POST /v1/mfa/verify checks; null: MFA not served. */
  mfa: { keyring: string | null };
  /**
   * `inputTime`: what an evaluation input's `time` does. "accept" (default, the
   * spec): it is `now` for that decision. "refuse": such a request is answered
   * 400 `input_time_refused`, so every decision uses the server's clock and a
   * caller cannot pick a time at which a stale MFA is fresh.
   */
  evaluate: { inputTime: "accept" | "refuse" };
  /**
   * `stateFile`: where the risk store (quarantines, risk raises) is kept, so a
   * restart does not lift them (src/server/risk-state.ts); null: memory only.
   * `saveIntervalMs`: from a change to its save.
   */
  risk: { stateFile: string | null; saveIntervalMs: number };
}

export class ServerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ServerConfigError";
  }
}

export const DEFAULT_PORT = 8181;
export const DEFAULT_HOST = "127.0.0.1";

/** The configuration with nothing configured: loopback, no auth, no TLS, no decision log. */
export function defaultServerConfig(): ServerConfig {
  return {
    host: DEFAULT_HOST,
    port: DEFAULT_PORT,
    clients: [],
    tls: null,
    limits: {
      bodyBytes: 1024 * 1024,
      requestTimeoutMs: 10_000,
      keepAliveTimeoutMs: 5_000,
      maxConcurrent: 256,
      batchMaxItems: 1000,
      eventsMaxItems: 10_000,
    },
    decisionLog: { path: null, maxBytes: 100 * 1024 * 1024, keep: 5, redact: [], toEvents: false },
    reload: { watch: true, debounceMs: 250 },
    events: { allowedLatenessMs: 0, maxGroupsPerRule: 100_000, maxFutureMs: 300_000 },
    alerts: { capacity: 1000 },
    log: { level: "info" },
    mfa: { keyring: null },
    evaluate: { inputTime: "accept" },
    risk: { stateFile: null, saveIntervalMs: 1000 },
  };
}

const positive = { type: "integer", minimum: 1 } as const;
const nonNegative = { type: "integer", minimum: 0 } as const;
const text = { type: "string", minLength: 1 } as const;
/** Node's timers hold at most 2^31-1 ms (about 24.8 days): a longer one is cut to that with a warning, not honoured. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const timerMs = { type: "integer", minimum: 1, maximum: MAX_TIMER_MS } as const;

const SCHEMA = {
  type: "object",
  additionalProperties: false,
  properties: {
    host: text,
    port: { type: "integer", minimum: 0, maximum: 65535 },
    clients: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["name", "token_sha256", "scopes"],
        properties: {
          name: { type: "string", pattern: "^[A-Za-z0-9._-]{1,64}$" },
          token_sha256: { type: "string", pattern: "^[0-9a-fA-F]{64}$" },
          scopes: { type: "array", minItems: 1, uniqueItems: true, items: { enum: ["evaluate", "events", "admin"] } },
        },
      },
    },
    tls: {
      type: "object",
      additionalProperties: false,
      required: ["cert", "key"],
      properties: { cert: text, key: text, client_ca: text },
    },
    limits: {
      type: "object",
      additionalProperties: false,
      properties: {
        body_bytes: { type: "integer", minimum: 1024, maximum: 1024 * 1024 * 1024 },
        request_timeout_ms: timerMs,
        keep_alive_timeout_ms: timerMs,
        max_concurrent: positive,
        batch_max_items: positive,
        events_max_items: positive,
      },
    },
    decision_log: {
      type: "object",
      additionalProperties: false,
      required: ["path"],
      properties: {
        path: text,
        max_bytes: { type: "integer", minimum: 1024 },
        keep: nonNegative,
        redact: { type: "array", items: { type: "string", pattern: "^[^.]+(\\.[^.]+)*$" } },
        to_events: { type: "boolean" },
      },
    },
    reload: {
      type: "object",
      additionalProperties: false,
      properties: { watch: { type: "boolean" }, debounce_ms: { ...nonNegative, maximum: MAX_TIMER_MS } },
    },
    events: {
      type: "object",
      additionalProperties: false,
      properties: { allowed_lateness_ms: nonNegative, max_groups_per_rule: positive, max_future_ms: nonNegative },
    },
    alerts: { type: "object", additionalProperties: false, properties: { capacity: positive } },
    log: {
      type: "object",
      additionalProperties: false,
      properties: { level: { enum: ["fatal", "error", "warn", "info", "debug", "trace", "silent"] } },
    },
    mfa: { type: "object", additionalProperties: false, required: ["keyring"], properties: { keyring: text } },
    evaluate: { type: "object", additionalProperties: false, properties: { input_time: { enum: ["accept", "refuse"] } } },
    risk: { type: "object", additionalProperties: false, properties: { state_file: text, save_interval_ms: timerMs } },
  },
} as const;

const validate = new Ajv({ allErrors: false, strict: true }).compile(SCHEMA);

/** The file's content as a config object (YAML is a superset of JSON, so one parser reads both). */
function parseText(file: string, raw: string): unknown {
  try {
    return parseYaml(raw, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    const pos = (err as { linePos?: { line: number; col: number }[] }).linePos?.[0];
    const where = pos ? `:${pos.line}:${pos.col}` : "";
    const message = (err as Error).message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    throw new ServerConfigError(`${file}${where}: not valid YAML or JSON: ${message}`);
  }
}

function fieldOf(instancePath: string, extra?: string): string {
  const parts = instancePath.split("/").filter((p) => p !== "");
  if (extra !== undefined) parts.push(extra);
  return parts.length === 0 ? "(top level)" : parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : (i > 0 ? "." : "") + p)).join("");
}

/** Check a parsed config object; `file` names it in errors, relative paths are taken from `baseDir`. */
export function resolveServerConfig(raw: unknown, file: string, baseDir: string): ServerConfig {
  const doc = raw ?? {};
  if (!validate(doc)) {
    const e = validate.errors![0]!;
    if (e.keyword === "additionalProperties") {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      throw new ServerConfigError(`${file}: ${fieldOf(e.instancePath, extra)}: unknown field`);
    }
    if (e.keyword === "required") {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      throw new ServerConfigError(`${file}: ${fieldOf(e.instancePath, missing)}: is required`);
    }
    if (e.keyword === "enum") {
      // ajv says "must be equal to one of the allowed values" without naming them; a misspelled level should see the right one.
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map(String).join(", ");
      throw new ServerConfigError(`${file}: ${fieldOf(e.instancePath)}: must be one of ${allowed}`);
    }
    throw new ServerConfigError(`${file}: ${fieldOf(e.instancePath)}: ${e.message ?? "is not valid"}`);
  }
  const c = doc as Record<string, any>;
  const out = defaultServerConfig();
  const abs = (p: string) => path.resolve(baseDir, p);
  if (c.host !== undefined) out.host = c.host;
  if (c.port !== undefined) out.port = c.port;
  if (c.clients !== undefined) {
    const names = new Set<string>();
    out.clients = (c.clients as ClientConfig[]).map((client, i) => {
      if (names.has(client.name)) throw new ServerConfigError(`${file}: clients[${i}].name: ${client.name} is configured twice`);
      names.add(client.name);
      return { name: client.name, token_sha256: client.token_sha256.toLowerCase(), scopes: [...client.scopes] as Scope[] };
    });
    const hashes = new Set<string>();
    out.clients.forEach((client, i) => {
      if (hashes.has(client.token_sha256)) throw new ServerConfigError(`${file}: clients[${i}].token_sha256: the same token is given to two clients`);
      hashes.add(client.token_sha256);
    });
  }
  if (c.tls !== undefined) out.tls = { cert: abs(c.tls.cert), key: abs(c.tls.key), ...(c.tls.client_ca !== undefined ? { clientCa: abs(c.tls.client_ca) } : {}) };
  const l = c.limits ?? {};
  out.limits = {
    bodyBytes: l.body_bytes ?? out.limits.bodyBytes,
    requestTimeoutMs: l.request_timeout_ms ?? out.limits.requestTimeoutMs,
    keepAliveTimeoutMs: l.keep_alive_timeout_ms ?? out.limits.keepAliveTimeoutMs,
    maxConcurrent: l.max_concurrent ?? out.limits.maxConcurrent,
    batchMaxItems: l.batch_max_items ?? out.limits.batchMaxItems,
    eventsMaxItems: l.events_max_items ?? out.limits.eventsMaxItems,
  };
  if (c.decision_log !== undefined) {
    const d = c.decision_log;
    out.decisionLog = {
      path: d.path === "-" ? "-" : abs(d.path),
      maxBytes: d.max_bytes ?? out.decisionLog.maxBytes,
      keep: d.keep ?? out.decisionLog.keep,
      redact: d.redact ?? [],
      toEvents: d.to_events ?? false,
    };
  }
  if (c.reload !== undefined) out.reload = { watch: c.reload.watch ?? true, debounceMs: c.reload.debounce_ms ?? out.reload.debounceMs };
  if (c.events !== undefined) {
    out.events = {
      allowedLatenessMs: c.events.allowed_lateness_ms ?? out.events.allowedLatenessMs,
      maxGroupsPerRule: c.events.max_groups_per_rule ?? out.events.maxGroupsPerRule,
      maxFutureMs: c.events.max_future_ms ?? out.events.maxFutureMs,
    };
  }
  if (c.alerts?.capacity !== undefined) out.alerts.capacity = c.alerts.capacity;
  if (c.log?.level !== undefined) out.log.level = c.log.level;
  if (c.mfa !== undefined) out.mfa.keyring = abs(c.mfa.keyring);
  if (c.evaluate?.input_time !== undefined) out.evaluate.inputTime = c.evaluate.input_time;
  if (c.risk?.state_file !== undefined) out.risk.stateFile = abs(c.risk.state_file);
  if (c.risk?.save_interval_ms !== undefined) out.risk.saveIntervalMs = c.risk.save_interval_ms;
  return out;
}

/** Read, parse and check a config file. Throws ServerConfigError (file, field, problem); `name` is how errors call the file. */
export async function loadServerConfig(file: string, name: string = file): Promise<ServerConfig> {
  let raw: string;
  try {
    raw = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ServerConfigError(`cannot read config ${name}: ${code === "ENOENT" ? "no such file or directory" : (err as Error).message}`);
  }
  return resolveServerConfig(parseText(name, raw), name, path.dirname(path.resolve(file)));
}
