/**
 * What operators and orchestrators ask: GET /healthz (the process answers),
 * GET /readyz (a good policy set is served), GET /v1/policies (what is
 * served and how the last reload went), POST /v1/policies/reload, and
 * GET /metrics (Prometheus text). Health and readiness are open, so probes
 * need no secret; the rest need the `admin` scope when auth is configured.
 */
import type { FastifyInstance } from "fastify";
import type { ServerContext } from "./app.js";
import { sendError } from "./errors.js";
import type { ReloadAttempt } from "./policy-set.js";

function attemptJson(a: ReloadAttempt | null) {
  if (a === null) return null;
  return {
    at: a.at,
    ok: a.ok,
    trigger: a.trigger,
    version: a.version,
    duration_ms: Math.round(a.durationMs),
    checked_in: a.checkedIn,
    diagnostics: a.diagnostics,
    load_errors: a.loadErrors,
  };
}

export function registerAdminRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { policies } = ctx;

  app.get("/healthz", () => ({ status: "ok" }));

  app.get("/readyz", (_request, reply) => {
    const set = policies.current;
    if (set === null) {
      void sendError(reply, "policy_unavailable", "not ready: no policy set has loaded without errors");
      return;
    }
    return { ready: true, version: set.version };
  });

  app.get("/v1/policies", { config: { scope: "admin" } }, () => {
    const set = policies.current;
    return {
      served:
        set === null
          ? null
          : { version: set.version, loaded_at: set.loadedAt, rules: set.ruleIds, warnings: set.diagnostics },
      last_reload: attemptJson(policies.lastAttempt),
    };
  });

  app.post("/v1/policies/reload", { config: { scope: "admin" } }, async () => {
    const attempt = await policies.reload("api");
    return { ...attemptJson(attempt), served: policies.current?.version ?? null };
  });

  app.get("/metrics", { config: { scope: "admin" } }, (_request, reply) => {
    void reply.type("text/plain; version=0.0.4; charset=utf-8").send(ctx.metrics.render());
  });
}
