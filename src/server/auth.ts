/**
 * Bearer-token authentication of the service's clients.
 *
 * The config names each client with the sha256 (hex) of its token and its
 * scopes; tokens themselves are never stored. A presented token is hashed
 * and compared with EVERY client's hash with `crypto.timingSafeEqual`, with
 * no early exit, so neither the match nor its position leaks through timing.
 *
 * Scopes: `evaluate` (POST /v1/evaluate, /v1/evaluate/batch,
 * /v1/mfa/verify), `events` (POST /v1/events, GET /v1/alerts), `admin`
 * (GET /v1/policies, POST /v1/policies/reload, GET /metrics). /healthz and
 * /readyz are open, so orchestrators can probe without a secret. `admin`
 * does NOT imply the other scopes: a client gets what it is given.
 */
import { createHash, timingSafeEqual } from "node:crypto";

export const SCOPES = ["evaluate", "events", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

export interface ClientConfig {
  name: string;
  /** sha256 of the token, 64 hex digits. */
  token_sha256: string;
  scopes: Scope[];
}

interface Client {
  name: string;
  hash: Buffer;
  scopes: ReadonlySet<Scope>;
}

/** The hex sha256 of a token, as the config stores it. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** The outcome of authenticating one request. */
export type AuthResult = { ok: true; client: string } | { ok: false; status: 401 | 403; code: "unauthorized" | "forbidden"; message: string };

export class TokenAuth {
  private readonly clients: Client[];

  constructor(clients: readonly ClientConfig[]) {
    const names = new Set<string>();
    this.clients = clients.map((c) => {
      if (!/^[0-9a-fA-F]{64}$/.test(c.token_sha256)) throw new Error(`client ${JSON.stringify(c.name)}: token_sha256 must be 64 hex digits`);
      if (names.has(c.name)) throw new Error(`client ${JSON.stringify(c.name)} is configured twice`);
      names.add(c.name);
      return { name: c.name, hash: Buffer.from(c.token_sha256.toLowerCase(), "hex"), scopes: new Set(c.scopes) };
    });
  }

  get size(): number {
    return this.clients.length;
  }

  /** Authenticate an Authorization header value for `scope`. */
  check(authorization: string | undefined, scope: Scope): AuthResult {
    const m = authorization === undefined ? null : /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
    if (m === null) return { ok: false, status: 401, code: "unauthorized", message: "a bearer token is required (Authorization: Bearer <token>)" };
    const presented = createHash("sha256").update(m[1]!, "utf8").digest();
    let found: Client | null = null;
    for (const c of this.clients) {
      // Every hash is compared, match or not: constant time in the position of the match.
      if (timingSafeEqual(presented, c.hash) && found === null) found = c;
    }
    if (found === null) return { ok: false, status: 401, code: "unauthorized", message: "the bearer token is not valid" };
    if (!found.scopes.has(scope)) return { ok: false, status: 403, code: "forbidden", message: `client ${found.name} lacks the scope ${scope}` };
    return { ok: true, client: found.name };
  }
}
