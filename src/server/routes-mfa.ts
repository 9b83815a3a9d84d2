/**
 * POST /v1/mfa/verify `{ "user", "code" }`:
 * - 200 `{ valid: true, user, verified_at, context: { mfa: { verified_at } } }`
 *   for a good code; pass the context into the next evaluate;
 * - 200 `{ valid: false, reason }` for a wrong (`invalid`) or used
 *   (`replay`) code, with `retry_after_seconds` when this failure started a
 *   lock; an unknown user is `invalid` too, so the answer does not reveal
 *   who is enrolled;
 * - 429 `too_many_attempts` with Retry-After while the user is locked out;
 * - 501 `mfa_not_configured` without a secret source; 500 when the secret
 *   store fails (never a success).
 */
import type { FastifyInstance } from "fastify";
import type { ServerContext } from "./app.js";
import { sendError } from "./errors.js";
import { mfaBody } from "./schemas.js";

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

export function registerMfaRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post("/v1/mfa/verify", { schema: { body: mfaBody }, config: { scope: "evaluate", gate: "mfa" } }, async (request, reply) => {
    const mfa = ctx.mfa;
    if (mfa === null) {
      void sendError(reply, "mfa_not_configured", "this server has no MFA secret source configured (serve --keyring)");
      return reply;
    }
    const { user, code } = request.body as { user: string; code: string };
    let result;
    try {
      result = await mfa.verify(user, code, { sourceIp: request.ip });
    } catch (err) {
      ctx.metrics.mfa.inc(["error"]);
      request.log.error({ err: { message: (err as Error).message } }, "mfa verification failed");
      void sendError(reply, "internal_error", "MFA verification is unavailable");
      return reply;
    }
    if (result.valid) {
      ctx.metrics.mfa.inc(["valid"]);
      return { valid: true, user: result.user, verified_at: result.verifiedAt, context: result.context };
    }
    ctx.metrics.mfa.inc([result.reason]);
    if (result.reason === "locked") {
      const wait = seconds(result.retryAfterMs ?? 1000);
      void reply.header("retry-after", String(wait));
      void sendError(reply, "too_many_attempts", `too many failed attempts for this user; retry in ${wait} s`);
      return reply;
    }
    const reason = result.reason === "not-enrolled" ? "invalid" : result.reason;
    return { valid: false, reason, ...(result.retryAfterMs !== undefined ? { retry_after_seconds: seconds(result.retryAfterMs) } : {}) };
  });
}
