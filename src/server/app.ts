/**
 * The fastify application: the hook every route runs first (security
 * headers, authentication, the concurrency bound), request logs, the error
 * and not-found handlers, and the routes, registered from their own files.
 *
 * The hot path is kept short: each route gets ONE onRequest hook, built
 * when the route is registered from its `config` (its scope, and whether it
 * counts against the concurrency bound), so nothing is looked up or
 * allocated per request to decide what applies; the answer's serialization
 * is the routes' business (serialize.ts for decisions).
 *
 * Request logs never carry a body or a header value. Failures (4xx at
 * `info`, 501 and 503 at `warn`, 500 at `error`) are logged where they are
 * answered, by `sendError`; answered requests get a `debug` line from an
 * onResponse hook that exists only when the level is `debug` or `trace` at
 * start. Lines carry method, path, status, error code, duration and the
 * client's configured name.
 */
import { performance } from "node:perf_hooks";
import type { ServerResponse } from "node:http";
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type onRequestHookHandler } from "fastify";
import type { Logger } from "pino";
import { utf8Problem, type DecisionLog } from "../index.js";
import type { TokenAuth, Scope } from "./auth.js";
import type { ServerConfig } from "./config.js";
import { classify, clientErrorHandler, errorHandler, sendError } from "./errors.js";
import type { ServerMetrics } from "./metrics.js";
import type { AlertBuffer } from "./alerts.js";
import type { PolicySet } from "./policy-set.js";
import type { MfaService } from "./mfa.js";
import { registerEvaluateRoutes } from "./routes-evaluate.js";
import { registerEventRoutes } from "./routes-events.js";
import { registerAdminRoutes } from "./routes-admin.js";
import { registerMfaRoutes } from "./routes-mfa.js";
import { lazyChildLogger } from "./request-log.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The scope a client needs; routes without one (health, readiness) are open. */
    scope?: Scope;
    /**
     * Set on routes that count against the concurrency bound (evaluate, batch,
     * events, MFA): the route's label in swarm_policy_request_duration_seconds.
     */
    gate?: string;
  }
  interface FastifyRequest {
    /** The authenticated client's configured name (null without auth). */
    client: string | null;
  }
}

/** Everything the routes share. */
export interface ServerContext {
  config: ServerConfig;
  policies: PolicySet;
  metrics: ServerMetrics;
  alerts: AlertBuffer;
  decisionLog: DecisionLog | null;
  auth: TokenAuth | null;
  mfa: MfaService | null;
  log: Logger;
}

const SECURITY_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
  "cross-origin-resource-policy": "same-origin",
};

const kStarted = Symbol("gateStarted");
type GatedResponse = ServerResponse & { [kStarted]?: number };

/**
 * The bound on concurrent work (evaluate, batch, events, MFA): a request
 * counts from its first byte until its answer is finished or its connection
 * closes; past the bound it is answered 503 `overloaded` before its body is
 * read.
 */
export class ConcurrencyGate {
  inflight = 0;
  constructor(
    private readonly max: number,
    private readonly metrics: ServerMetrics,
  ) {}

  /**
   * The 'close' listener of one route's responses (the response is `this`):
   * one function per route, shared by its requests, so entering the gate
   * allocates nothing. 'close' fires exactly once, whether the answer was
   * sent or the client went away.
   */
  onClose(route: string): (this: GatedResponse) => void {
    const gate = this;
    const latency = this.metrics.requestLatency;
    return function onGatedClose(this: GatedResponse) {
      gate.inflight--;
      latency.observe(route, (performance.now() - this[kStarted]!) / 1000);
    };
  }

  /** Count the request in, or answer 503 `overloaded` and return false. */
  enter(reply: FastifyReply, onClose: (this: GatedResponse) => void): boolean {
    if (this.inflight >= this.max) {
      this.metrics.overloaded.inc();
      void sendError(reply, "overloaded", `more than ${this.max} evaluation requests at once; retry later`);
      return false;
    }
    this.inflight++;
    const res = reply.raw as GatedResponse;
    res[kStarted] = performance.now();
    res.on("close", onClose);
    return true;
  }
}

export interface BuiltApp {
  app: FastifyInstance;
  gate: ConcurrencyGate;
}

/** The application for `ctx` (not listening yet). */
export function buildApp(ctx: ServerContext, https: Record<string, unknown> | null): BuiltApp {
  const { limits } = ctx.config;
  // node checks request timeouts on a timer; check often enough for the configured timeout to mean something.
  const checkEvery = Math.max(25, Math.min(30_000, Math.floor(limits.requestTimeoutMs / 4)));
  const serverOptions = { connectionsCheckingInterval: checkEvery, headersTimeout: Math.min(60_000, limits.requestTimeoutMs) };
  const headers = https !== null ? { ...SECURITY_HEADERS, "strict-transport-security": "max-age=31536000" } : SECURITY_HEADERS;
  const app = Fastify({
    loggerInstance: ctx.log,
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLogger,
    bodyLimit: limits.bodyBytes,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    return503OnClosing: true,
    clientErrorHandler,
    // Errors fastify answers before routing (a URL with bad percent-encoding): our shape and headers, not its own.
    frameworkErrors: (err: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      const { code, message } = classify(err, limits.bodyBytes);
      reply.headers(headers);
      void sendError(reply, code, message);
    },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
    ...(https !== null ? { https: { ...https, ...serverOptions } } : { http: serverOptions }),
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;
  const gate = new ConcurrencyGate(limits.maxConcurrent, ctx.metrics);
  ctx.metrics.inflight = () => gate.inflight;

  app.decorateRequest("client", null);
  // Bodies are JSON (or NDJSON for events); fastify's default text/plain parser would let a string through as a body.
  app.removeContentTypeParser("text/plain");
  // JSON bodies must be UTF-8 (RFC 8259 8.1). Decoded leniently, a Latin-1 "josé" from a client
  // became "jos\ufffd": a deny rule naming josé did not apply, while the service acting on the
  // decision reads josé. Such a body is refused (400 invalid_json) with the place of the first bad byte.
  const jsonParser = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) => {
    const bad = utf8Problem(body as Buffer);
    if (bad !== undefined) {
      done(Object.assign(new Error(bad), { statusCode: 400 }), undefined);
      return;
    }
    jsonParser(request, (body as Buffer).toString("utf8"), done);
  });
  app.setErrorHandler(errorHandler(limits.bodyBytes));

  const auth = ctx.auth;
  /** The one onRequest hook of a route: security headers, then its scope's token check, then the gate when it has one. */
  const routeHook = (scope: Scope | undefined, gated: string | undefined): onRequestHookHandler => {
    const onClose = gated === undefined ? null : gate.onClose(gated);
    const needsToken = auth !== null && scope !== undefined;
    return (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
      reply.headers(headers);
      if (needsToken) {
        const result = auth.check(request.headers.authorization, scope);
        if (!result.ok) {
          if (result.status === 401) reply.header("www-authenticate", 'Bearer realm="swarm-policy"');
          void sendError(reply, result.code, result.message);
          return;
        }
        request.client = result.client;
      }
      if (onClose !== null && !gate.enter(reply, onClose)) return;
      done();
    };
  };
  // Added before any route, so every route (and the HEAD twin of each GET) gets its hook first.
  app.addHook("onRoute", (route) => {
    const config = route.config as { scope?: Scope; gate?: string } | undefined;
    const own = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    route.onRequest = [routeHook(config?.scope, config?.gate), ...own];
  });
  app.setNotFoundHandler((request, reply) => {
    reply.headers(headers);
    return sendError(reply, "not_found", `no route ${request.method} ${request.url.split("?")[0]}`);
  });

  const log = ctx.log;
  if (log.isLevelEnabled("debug")) {
    app.addHook("onResponse", (request, reply, done) => {
      // Failures were logged by sendError when they were answered.
      if (reply.statusCode < 400) {
        log.debug({ reqId: request.id, method: request.method, path: request.url.split("?")[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime * 1000) / 1000, client: request.client }, "request");
      }
      done();
    });
  }

  registerEvaluateRoutes(app, ctx);
  registerEventRoutes(app, ctx);
  registerAdminRoutes(app, ctx);
  registerMfaRoutes(app, ctx);
  return { app, gate };
}
