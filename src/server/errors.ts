/**
 * The service's error answers: `{ "error": { "code", "message" } }` with a
 * stable snake_case code (docs/api.md lists them). Clients switch on the
 * code, never on the message. Messages name what was wrong with the request;
 * they never echo a token or a body.
 */
import type { Socket } from "node:net";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";

export const ERROR_CODES = {
  bad_request: 400,
  invalid_json: 400,
  empty_body: 400,
  invalid_body: 400,
  invalid_query: 400,
  invalid_content_length: 400,
  input_time_refused: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  request_timeout: 408,
  body_too_large: 413,
  unsupported_media_type: 415,
  headers_too_large: 431,
  too_many_attempts: 429,
  internal_error: 500,
  mfa_not_configured: 501,
  overloaded: 503,
  policy_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}

/**
 * Send an error answer with the code's status, and log it: `info` for 4xx,
 * `warn` for 501 and 503, `error` for 500, with the request's id, method,
 * path (no query string), status, code, duration and client name; never a
 * body, a header value or the message (which may quote the request).
 */
export function sendError(reply: FastifyReply, code: ErrorCode, message: string): FastifyReply {
  const status = ERROR_CODES[code];
  const request = reply.request;
  const line = { method: request.method, path: request.url.split("?")[0], status, code, ms: Math.round(reply.elapsedTime * 1000) / 1000, client: request.client };
  if (status === 500) reply.log.error(line, "request failed");
  else if (status >= 500) reply.log.warn(line, "request refused");
  else reply.log.info(line, "request refused");
  return reply.code(status).type("application/json; charset=utf-8").send(errorBody(code, message));
}

/** fastify's own errors (parsing, limits, validation) mapped to our codes. */
export function classify(err: FastifyError, bodyLimit: number): { code: ErrorCode; message: string } {
  if (err.validation) {
    const code = err.validationContext === "querystring" ? "invalid_query" : "invalid_body";
    return { code, message: err.message };
  }
  switch (err.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return { code: "body_too_large", message: `the request body is larger than the limit of ${bodyLimit} bytes` };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return { code: "unsupported_media_type", message: "the body must be application/json (or application/x-ndjson for /v1/events)" };
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return { code: "empty_body", message: "the request body is empty" };
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return { code: "invalid_json", message: `the body is not valid JSON: ${err.message}` };
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return { code: "invalid_content_length", message: "Content-Length does not match the body" };
    case "FST_ERR_BAD_URL":
      return { code: "bad_request", message: "the URL is malformed (bad percent-encoding)" };
    default:
      break;
  }
  if (err instanceof SyntaxError || err.statusCode === 400) {
    // secure-json-parse (__proto__ keys) and the NDJSON parser throw plain errors with status 400.
    return { code: "invalid_json", message: `the body is not valid JSON: ${err.message}` };
  }
  if (err.statusCode === 413) return { code: "body_too_large", message: `the request body is larger than the limit of ${bodyLimit} bytes` };
  if (err.statusCode === 415) return { code: "unsupported_media_type", message: err.message };
  return { code: "internal_error", message: "internal error" };
}

/** fastify's error handler: every error as our JSON; 5xx logged (without the body). */
export function errorHandler(bodyLimit: number) {
  return function handleError(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
    const { code, message } = classify(err, bodyLimit);
    if (ERROR_CODES[code] >= 500) request.log.error({ err: { message: err.message, code: err.code, stack: err.stack } }, "request failed");
    void sendError(reply, code, message);
  };
}

/**
 * Errors before a request exists (node's HTTP parser: a request that took
 * longer than the request timeout, oversized headers, garbage) answered in
 * the same JSON shape on the raw socket, then the socket is closed.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  let status = 400;
  let body = errorBody("bad_request", "the request could not be parsed as HTTP");
  if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") {
    status = 408;
    body = errorBody("request_timeout", "the request was not received within the request timeout");
  } else if (err.code === "HPE_HEADER_OVERFLOW") {
    status = 431;
    body = errorBody("headers_too_large", "the request headers are larger than the limit");
  }
  const text = JSON.stringify(body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${status === 408 ? "Request Timeout" : status === 431 ? "Request Header Fields Too Large" : "Bad Request"}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    );
  }
  socket.destroy();
}
