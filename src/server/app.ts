/**
 * The fastify application: hooks shared by every route (authentication,
 * security headers, the concurrency bound, request logs), the error and
 * not-found handlers, and the routes, registered from their own files.
 *
 * Request logs never carry a body or a header value: one line per answered
 * request at `debug`, and at `info` (4xx) or `error` (5xx) for failures, with
 * method, path, status, error code and the client's configured name.
 */
import { performance } from "node:perf_hooks";
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest, type onRequestHookHandler } from "fastify";
import type { Logger } from "pino";
import type { DecisionLog } from "../index.js";
import type { TokenAuth, Scope } from "./auth.js";
import type { ServerConfig } from "./config.js";
import { clientErrorHandler, errorHandler, sendError } from "./errors.js";
import type { ServerMetrics } from "./metrics.js";
import type { AlertBuffer } from "./alerts.js";
import type { PolicySet } from "./policy-set.js";
import type { MfaService } from "./mfa.js";
import { registerEvaluateRoutes } from "./routes-evaluate.js";
import { registerEventRoutes } from "./routes-events.js";
import { registerAdminRoutes } from "./routes-admin.js";
import { registerMfaRoutes } from "./routes-mfa.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The scope a client needs; routes without one (health, readiness) are open. */
    scope?: Scope;
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

/**
 * The bound on concurrent work (evaluate, batch, events): a request counts
 * from its first byte until its answer is finished or its connection closes;
 * past the bound it is answered 503 `overloaded` before its body is read.
 */
export class ConcurrencyGate {
  inflight = 0;
  constructor(
    private readonly max: number,
    private readonly metrics: ServerMetrics,
  ) {}

  hook(route: string): onRequestHookHandler {
    return (_request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
      if (this.inflight >= this.max) {
        this.metrics.overloaded.inc();
        void sendError(reply, "overloaded", `more than ${this.max} evaluation requests at once; retry later`);
        return;
      }
      this.inflight++;
      const t0 = performance.now();
      // 'close' fires exactly once, whether the answer was sent or the client went away.
      reply.raw.once("close", () => {
        this.inflight--;
        this.metrics.requestLatency.observe(route, (performance.now() - t0) / 1000);
      });
      done();
    };
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
  const app = Fastify({
    loggerInstance: ctx.log,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: limits.bodyBytes,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    return503OnClosing: true,
    clientErrorHandler,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
    ...(https !== null ? { https: { ...https, ...serverOptions } } : { http: serverOptions }),
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;
  const gate = new ConcurrencyGate(limits.maxConcurrent, ctx.metrics);
  ctx.metrics.inflight = () => gate.inflight;

  app.decorateRequest("client", null);
  // Bodies are JSON (or NDJSON for events); fastify's default text/plain parser would let a string through as a body.
  app.removeContentTypeParser("text/plain");
  app.setErrorHandler(errorHandler(limits.bodyBytes));
  app.setNotFoundHandler((request, reply) => sendError(reply, "not_found", `no route ${request.method} ${request.url.split("?")[0]}`));

  const auth = ctx.auth;
  app.addHook("onRequest", (request, reply, done) => {
    reply.headers(SECURITY_HEADERS);
    if (https !== null) reply.header("strict-transport-security", "max-age=31536000");
    const scope = request.routeOptions.config.scope;
    if (auth === null || scope === undefined) return done();
    const result = auth.check(request.headers.authorization, scope);
    if (!result.ok) {
      if (result.status === 401) reply.header("www-authenticate", 'Bearer realm="swarm-policy"');
      void sendError(reply, result.code, result.message);
      return;
    }
    request.client = result.client;
    done();
  });

  const log = ctx.log;
  app.addHook("onResponse", (request, reply, done) => {
    const status = reply.statusCode;
    if (status < 400 && !log.isLevelEnabled("debug")) return done();
    const line = { reqId: request.id, method: request.method, path: request.url.split("?")[0], status, ms: Math.round(reply.elapsedTime * 1000) / 1000, client: request.client };
    if (status === 500) log.error(line, "request failed");
    else if (status >= 500) log.warn(line, "request refused");
    else if (status >= 400) log.info(line, "request refused");
    else log.debug(line, "request");
    done();
  });

  registerEvaluateRoutes(app, ctx, gate);
  registerEventRoutes(app, ctx, gate);
  registerAdminRoutes(app, ctx);
  registerMfaRoutes(app, ctx, gate);
  return { app, gate };
}
