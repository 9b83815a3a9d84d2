/**
 * POST /v1/evaluate and POST /v1/evaluate/batch: decisions from the served
 * policy set. The set is read once per request, so every decision of a
 * batch comes from one version, and each decision names it (`version`).
 * Before any set has loaded without errors the answer is 503
 * `policy_unavailable`: no decision at all rather than one from nothing.
 */
import { performance } from "node:perf_hooks";
import type { FastifyInstance } from "fastify";
import { decisionOutcome, type Decision, type EvaluateOptions } from "../index.js";
import type { ServerContext } from "./app.js";
import { sendError } from "./errors.js";
import { batchBody, evaluateBody, explainQuery } from "./schemas.js";
import { serializeBatch, serializeDecision } from "./serialize.js";

const EXPLAIN: EvaluateOptions = { explain: true };
export const NO_POLICY_MESSAGE = "no policy set has loaded without errors; see GET /v1/policies";

/** The input's kind as the engine reads it (access when absent). */
export function kindOf(input: unknown): string {
  const k = (input as { kind?: unknown }).kind;
  return typeof k === "string" ? k : "access";
}

function wantsExplain(query: unknown): boolean {
  const e = (query as { explain?: string }).explain;
  return e === "true" || e === "1";
}

const JSON_TYPE = "application/json; charset=utf-8";

export const INPUT_TIME_MESSAGE = "this service decides with its own clock (evaluate.input_time: refuse): remove `time` from the input";

/** Whether `input` carries a `time` (own, not undefined). */
function hasTime(input: unknown): boolean {
  return typeof input === "object" && input !== null && Object.prototype.hasOwnProperty.call(input, "time") && (input as { time?: unknown }).time !== undefined;
}

export function registerEvaluateRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { metrics, policies } = ctx;
  const refuseTime = ctx.config.evaluate.inputTime === "refuse";
  const log = ctx.decisionLog;
  const record = (input: unknown, d: Decision): void => {
    const kind = kindOf(input);
    metrics.decisions.inc(kind, decisionOutcome(d));
    if (log !== null) log.append(kind, input, d);
  };

  app.post(
    "/v1/evaluate",
    { schema: { body: evaluateBody, querystring: explainQuery }, config: { scope: "evaluate", gate: "evaluate" } },
    (request, reply) => {
      const set = policies.current;
      if (set === null) {
        void sendError(reply, "policy_unavailable", NO_POLICY_MESSAGE);
        return;
      }
      const input = request.body;
      if (refuseTime && hasTime(input)) {
        void sendError(reply, "input_time_refused", INPUT_TIME_MESSAGE);
        return;
      }
      const t0 = performance.now();
      const d = set.engine.evaluate(input, wantsExplain(request.query) ? EXPLAIN : undefined);
      metrics.decisionLatency.observe("evaluate", (performance.now() - t0) / 1000);
      record(input, d);
      void reply.header("content-type", JSON_TYPE).send(serializeDecision(d));
    },
  );

  app.post(
    "/v1/evaluate/batch",
    { schema: { body: batchBody(ctx.config.limits.batchMaxItems), querystring: explainQuery }, config: { scope: "evaluate", gate: "batch" } },
    (request, reply) => {
      const set = policies.current;
      if (set === null) {
        void sendError(reply, "policy_unavailable", NO_POLICY_MESSAGE);
        return;
      }
      const body = request.body as { inputs: unknown[]; explain?: boolean };
      if (refuseTime) {
        const i = body.inputs.findIndex(hasTime);
        if (i >= 0) {
          void sendError(reply, "input_time_refused", `inputs[${i}]: ${INPUT_TIME_MESSAGE}`);
          return;
        }
      }
      const explain = body.explain === true || wantsExplain(request.query);
      const t0 = performance.now();
      const decisions = set.engine.evaluateBatch(body.inputs, explain ? EXPLAIN : undefined);
      metrics.decisionLatency.observe("batch", (performance.now() - t0) / 1000);
      for (let i = 0; i < decisions.length; i++) record(body.inputs[i], decisions[i]!);
      void reply.header("content-type", JSON_TYPE).send(serializeBatch(set.version, decisions));
    },
  );
}
