/**
 * POST /v1/mfa/verify `{ "user", "code" }`: 200 `{ valid: true, user,
 * verified_at }` for a good code (pass `verified_at` as
 * `context.mfa.verified_at` in the next evaluate), 200 `{ valid: false,
 * reason }` for a wrong or replayed code (an unknown user is `invalid` too,
 * so the answer does not reveal who is enrolled), 429 `too_many_attempts`
 * while the user is locked out, 501 `mfa_not_configured` without an MFA
 * secret source.
 */
import type { FastifyInstance } from "fastify";
import type { ConcurrencyGate, ServerContext } from "./app.js";
import { sendError } from "./errors.js";
import { mfaBody } from "./schemas.js";

export function registerMfaRoutes(app: FastifyInstance, ctx: ServerContext, gate: ConcurrencyGate): void {
  app.post("/v1/mfa/verify", { schema: { body: mfaBody }, config: { scope: "evaluate" }, onRequest: gate.hook("mfa") }, async (request, reply) => {
    const mfa = ctx.mfa;
    if (mfa === null) {
      void sendError(reply, "mfa_not_configured", "this server has no MFA secret source configured");
      return reply;
    }
    const { user, code } = request.body as { user: string; code: string };
    let result;
    try {
      result = await mfa.verify(user, code);
    } catch (err) {
      // An unreachable secret store is an error answer, never a success.
      ctx.metrics.mfa.inc(["error"]);
      request.log.error({ err: { message: (err as Error).message } }, "mfa verification failed");
      void sendError(reply, "internal_error", "MFA verification is unavailable");
      return reply;
    }
    ctx.metrics.mfa.inc([result.valid ? "valid" : result.reason]);
    if (result.valid) return { valid: true, user, verified_at: result.verifiedAt };
    if (result.reason === "locked") {
      void reply.header("retry-after", String(result.retryAfterSeconds));
      void sendError(reply, "too_many_attempts", `too many failed attempts for this user; retry in ${result.retryAfterSeconds} s`);
      return reply;
    }
    return { valid: false, reason: result.reason };
  });
}
