/**
 * `startServer`: the decision service, listening. Loads the policy set,
 * watches it, opens the decision log, builds the application and listens;
 * returns a handle to reload and close it. Signals are the caller's
 * business (the `serve` verb maps SIGHUP to `reload("signal")`).
 *
 * fastify and pino are imported when a server starts, not when the library
 * is imported: `swarm-policy check` should not pay for an HTTP stack.
 *
 * Refusals (ServerConfigError, before anything listens): a non-loopback
 * host without client tokens configured; TLS files that cannot be read or
 * do not make a valid certificate and key; a decision log file that cannot
 * be opened for appending.
 */
import { EventEmitter } from "node:events";
import { readFile } from "node:fs/promises";
import { BlockList, isIP, type AddressInfo } from "node:net";
import type { DestinationStream } from "pino";
import { DecisionLog, decisionEvent, type DecisionLogEntry, type LockoutStore, type ReplayStore, type TotpSecretSource } from "../index.js";
import { AlertBuffer } from "./alerts.js";
import { TokenAuth } from "./auth.js";
import { defaultServerConfig, ServerConfigError, type ServerConfig } from "./config.js";
import { createMfaService } from "./mfa.js";
import { ServerMetrics } from "./metrics.js";
import { PolicySet, type ReloadAttempt, type ReloadTrigger } from "./policy-set.js";
import { ObservedRiskStore, RiskStateError, RiskStateFile } from "./risk-state.js";

export interface StartServerOptions {
  /** Policy files and directories. */
  paths: readonly string[];
  /** Default: defaultServerConfig() (loopback, port 8181, no auth, no decision log). */
  config?: ServerConfig;
  /** Base of relative policy paths and of file names in diagnostics (default process.cwd()). */
  cwd?: string;
  /** Where the service's JSON logs go (default: standard error). */
  logStream?: DestinationStream;
  /** Where a decision log configured as "-" writes (default: standard output). */
  stdout?: NodeJS.WritableStream;
  /** Where POST /v1/mfa/verify finds users' TOTP secrets (a keyring's enrolments, or in memory); without one it answers 501. */
  mfaSecrets?: TotpSecretSource | null;
  /**
   * Where POST /v1/mfa/verify keeps used codes and lockouts (e.g. the keyring's
   * FileMfaStateStore, so they outlive a restart); default this process's memory.
   */
  mfaState?: (ReplayStore & LockoutStore) | null;
  /** Engine clock, epoch ms (tests). */
  clock?: () => number;
}

/** A listening server. Emits "reload" with each ReloadAttempt (after it is applied). */
export interface RunningServer extends EventEmitter {
  /** `http://127.0.0.1:8181` (https with TLS); the real port when 0 was asked for. */
  readonly url: string;
  readonly port: number;
  /** The served policy version; null before a good set loaded. */
  readonly version: string | null;
  /** Reload now (coalesced with a running one); resolves with the attempt. */
  reload(trigger?: ReloadTrigger): Promise<ReloadAttempt>;
  /** Stop accepting, finish answers in flight, flush the decision log. */
  close(): Promise<void>;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");
LOOPBACK.addSubnet("::ffff:127.0.0.0", 104, "ipv6");

/** Whether `host` names only this machine: 127.0.0.0/8, ::1 (or v4-mapped 127/8), `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (h.toLowerCase() === "localhost") return true;
  const family = isIP(h);
  if (family === 0) return false;
  return LOOPBACK.check(h, family === 4 ? "ipv4" : "ipv6");
}

async function readPem(field: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ServerConfigError(`${field}: cannot read ${file}: ${code === "ENOENT" ? "no such file or directory" : (err as Error).message}`);
  }
}

async function httpsOptions(config: ServerConfig): Promise<Record<string, unknown> | null> {
  const tls = config.tls;
  if (tls === null) return null;
  const opts: Record<string, unknown> = { cert: await readPem("tls.cert", tls.cert), key: await readPem("tls.key", tls.key), minVersion: "TLSv1.2" };
  if (tls.clientCa !== undefined) {
    // Mutual TLS: a client without a certificate signed by this CA is refused during the handshake.
    Object.assign(opts, { ca: await readPem("tls.client_ca", tls.clientCa), requestCert: true, rejectUnauthorized: true });
  }
  const { createSecureContext } = await import("node:tls");
  try {
    createSecureContext(opts as Parameters<typeof createSecureContext>[0]);
  } catch (err) {
    throw new ServerConfigError(`tls: the certificate, key or CA is not valid: ${(err as Error).message}`);
  }
  return opts;
}

class ServerHandle extends EventEmitter implements RunningServer {
  url = "";
  port = 0;
  private closer: (() => Promise<void>) | null = null;
  private closing: Promise<void> | null = null;

  constructor(private readonly policies: () => PolicySet) {
    super();
  }

  started(url: string, port: number, closer: () => Promise<void>): void {
    this.url = url;
    this.port = port;
    this.closer = closer;
  }

  get version(): string | null {
    return this.policies().current?.version ?? null;
  }

  reload(trigger: ReloadTrigger = "api"): Promise<ReloadAttempt> {
    return this.policies().reload(trigger);
  }

  close(): Promise<void> {
    this.closing ??= this.closer?.() ?? Promise.resolve();
    return this.closing;
  }
}

/** Start the decision service (see the top of the file). Throws ServerConfigError for a refused configuration. */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const config = options.config ?? defaultServerConfig();
  if (!isLoopbackHost(config.host) && config.clients.length === 0) {
    throw new ServerConfigError(
      `refusing to listen on ${config.host} without authentication: configure clients (bearer tokens) in the config file, or listen on a loopback address such as 127.0.0.1`,
    );
  }
  const https = await httpsOptions(config);
  const [{ default: pino }, { buildApp }, { routeProblem, storeAlerts }] = await Promise.all([import("pino"), import("./app.js"), import("./routes-events.js")]);
  const log = pino(
    { level: config.log.level, base: { service: "swarm-policy" }, redact: { paths: ["req.headers.authorization", "headers.authorization"], remove: true } },
    options.logStream ?? pino.destination({ dest: 2, sync: true }),
  );
  const metrics = new ServerMetrics();
  const handle = new ServerHandle(() => policies);
  const clock = options.clock ?? Date.now;
  const risk = new ObservedRiskStore({ clock });
  metrics.riskEntities = () => risk.inForceCounts(clock());
  const policies = new PolicySet({
    risk,
    paths: options.paths,
    cwd: options.cwd ?? process.cwd(),
    debounceMs: config.reload.debounceMs,
    detector: {
      allowedLatenessMs: config.events.allowedLatenessMs,
      maxGroupsPerRule: config.events.maxGroupsPerRule,
      maxFutureMs: config.events.maxFutureMs,
      ...(options.clock ? { clock: options.clock } : {}),
      onProblem: routeProblem,
    },
    ...(options.clock ? { clock: options.clock } : {}),
    onReload: (attempt, served) => {
      metrics.reloads.inc([attempt.ok ? "success" : "failure"]);
      metrics.lastReloadFailed = !attempt.ok;
      if (served !== null) metrics.policy = { version: served.version, loadedAtMs: served.loadedAtMs };
      metrics.lastReloadSeconds = attempt.durationMs / 1000;
      const took = { duration_ms: Math.round(attempt.durationMs), checked_in: attempt.checkedIn };
      if (attempt.ok) log.info({ trigger: attempt.trigger, version: attempt.version, rules: served?.ruleIds.length, warnings: attempt.diagnostics.length, ...took }, "policy set loaded");
      else {
        metrics.reloadFailures.inc();
        const errors = attempt.diagnostics.filter((d) => d.severity === "error");
        log.error(
          { trigger: attempt.trigger, rejected_version: attempt.version, served_version: served?.version ?? null, errors: errors.slice(0, 20), load_errors: attempt.loadErrors, ...took },
          "policy set rejected; the last good set is still served",
        );
      }
      handle.emit("reload", attempt);
    },
  });
  const alerts = new AlertBuffer(config.alerts.capacity);
  const ctx = {
    config,
    policies,
    metrics,
    alerts,
    decisionLog: null as DecisionLog | null,
    auth: config.clients.length > 0 ? new TokenAuth(config.clients) : null,
    mfa: null as ReturnType<typeof createMfaService> | null,
    log,
  };
  if (options.mfaSecrets) {
    ctx.mfa = createMfaService({
      secrets: options.mfaSecrets,
      state: options.mfaState ?? null,
      ...(options.clock ? { clock: options.clock } : {}),
      // MFA's security events are events like any other: detect rules see them, and they are logged (never a code).
      onEvent: (event) => {
        const e = event.event as { action?: string; outcome?: string; reason?: string };
        log.info({ mfa: { action: e.action, outcome: e.outcome, reason: e.reason, user: (event.user as { name?: string } | undefined)?.name } }, "mfa event");
        const set = policies.current;
        if (set === null) return;
        metrics.events.inc(["mfa"]);
        storeAlerts(ctx, set.detector.push(event));
      },
    });
  }
  const dl = config.decisionLog;
  if (dl.path !== null) {
    const feed = (entry: DecisionLogEntry) => {
      const set = policies.current;
      if (set === null) return;
      metrics.events.inc(["decision"]);
      storeAlerts(ctx, set.detector.push(decisionEvent(entry)));
    };
    ctx.decisionLog = new DecisionLog({
      path: dl.path,
      maxBytes: dl.maxBytes,
      keep: dl.keep,
      redact: dl.redact,
      ...(options.stdout ? { stdout: options.stdout } : {}),
      ...(options.clock ? { now: options.clock } : {}),
      ...(dl.toEvents ? { onEntry: feed } : {}),
      onError: (err) => {
        metrics.decisionLog.inc();
        log.error({ err: { message: err.message } }, "decision log write failed");
      },
    });
    const stats = ctx.decisionLog.stats;
    metrics.decisionLogStats = () => stats;
    // Opened before anything is answered: a path the service cannot write (a missing directory, a
    // service user without permission) refuses the start, as unusable TLS files do, rather than
    // every decision going unlogged while the service runs.
    try {
      await ctx.decisionLog.open();
    } catch (err) {
      policies.close();
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === "ENOENT" ? "no such file or directory" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "is a directory" : (err as Error).message;
      throw new ServerConfigError(`decision_log.path: cannot open ${dl.path}: ${why}`);
    }
  }

  // Read before the first decision, written back before listening: a state the service cannot read
  // or write refuses the start (serving with nobody quarantined would fail open).
  let riskState: RiskStateFile | null = null;
  if (config.risk.stateFile !== null) {
    riskState = new RiskStateFile({
      path: config.risk.stateFile,
      store: risk,
      saveIntervalMs: config.risk.saveIntervalMs,
      clock,
      onError: (err) => {
        metrics.riskState.inc();
        log.error({ err: { message: err.message } }, "risk state write failed");
      },
    });
    try {
      const loaded = await riskState.start();
      log.info({ risk_state: config.risk.stateFile, ...loaded }, "risk state loaded");
      const file = riskState;
      metrics.riskStateSavedAt = () => file.savedAt;
    } catch (err) {
      policies.close();
      await ctx.decisionLog?.close();
      if (err instanceof RiskStateError) throw new ServerConfigError(`risk.state_file: ${err.message}`);
      throw err;
    }
  }

  await policies.reload("start");
  if (config.reload.watch) await policies.watch();
  const { app } = buildApp(ctx, https);
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    policies.close();
    await ctx.decisionLog?.close();
    await riskState?.close();
    await app.close().catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "EADDRINUSE" ? "the address is in use" : code === "EACCES" ? "permission denied" : (err as Error).message;
    throw new ServerConfigError(`cannot listen on ${config.host}:${config.port}: ${why}`);
  }
  const addr = app.server.address() as AddressInfo;
  const hostForUrl = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  const url = `${https !== null ? "https" : "http"}://${hostForUrl}:${addr.port}`;
  log.info({ url, tls: https !== null, mutual_tls: config.tls?.clientCa !== undefined, auth: ctx.auth !== null, version: policies.current?.version ?? null }, "listening");

  handle.started(url, addr.port, async () => {
    policies.close();
    // Each step runs whatever became of the one before: an HTTP close that fails must not cost the
    // decision log its last lines or the risk state file its last changes (a restart would lift them).
    let failure: unknown = null;
    for (const step of [() => app.close(), async () => ctx.decisionLog?.close(), async () => riskState?.close()]) {
      try {
        await step();
      } catch (err) {
        failure ??= err;
      }
    }
    log.info("closed");
    log.flush?.();
    if (failure !== null) throw failure;
  });
  return handle;
}
