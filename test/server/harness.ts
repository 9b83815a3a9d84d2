/**
 * Driving the real server over loopback in tests: policy directories in a
 * temp dir, a server on port 0 with its JSON logs captured, and a small
 * HTTP(S) client on node:http that can present client certificates. Not a
 * test file itself.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { once } from "node:events";
import { defaultServerConfig, startServer, type ReloadAttempt, type RunningServer, type ServerConfig, type StartServerOptions } from "../../src/index.js";

export interface Tap {
  teardown(fn: () => unknown): void;
}

/** A temp directory, removed at teardown. */
export function tempDir(t: Tap, prefix = "sp-server-"): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A directory holding `files` (relative name -> text). */
export function policyDir(t: Tap, files: Record<string, string>): string {
  const dir = tempDir(t);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** The log lines a server wrote, parsed. */
export class LogCapture extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  raw = "";
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    const text = chunk.toString("utf8");
    this.raw += text;
    for (const l of text.split("\n")) if (l.trim() !== "") this.lines.push(JSON.parse(l) as Record<string, unknown>);
    done();
  }
}

export interface Started {
  server: RunningServer;
  url: string;
  logs: LogCapture;
}

/** A config for tests: port 0, no file watching unless asked, defaults otherwise. */
export function testConfig(patch: (c: ServerConfig) => void = () => {}): ServerConfig {
  const c = defaultServerConfig();
  c.port = 0;
  c.reload.watch = false;
  c.log.level = "debug";
  patch(c);
  return c;
}

/** Start a server on `paths`, closed at teardown. */
export async function start(t: Tap, paths: string[], options: Partial<StartServerOptions> = {}): Promise<Started> {
  const logs = new LogCapture();
  const server = await startServer({ paths, config: testConfig(), logStream: logs, ...options });
  t.teardown(() => server.close());
  return { server, url: server.url, logs };
}

export interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: any;
}

export interface RequestOptions {
  method?: string;
  body?: string | Buffer | object;
  headers?: Record<string, string>;
  /** TLS: trust this CA; present this client certificate and key. */
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** One request; JSON bodies for objects. Resolves with the answer (never rejects on a status). */
export function call(url: string, pathname: string, options: RequestOptions = {}): Promise<Response> {
  const target = new URL(pathname, url);
  let body: Buffer | undefined;
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.body !== undefined) {
    if (typeof options.body === "string" || Buffer.isBuffer(options.body)) body = Buffer.from(options.body);
    else {
      body = Buffer.from(JSON.stringify(options.body));
      headers["content-type"] ??= "application/json";
    }
    headers["content-length"] = String(body.length);
  }
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: options.method ?? (body !== undefined ? "POST" : "GET"),
        headers,
        agent: false,
        ...(options.ca ? { ca: options.ca } : {}),
        ...(options.cert ? { cert: options.cert, key: options.key } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown = undefined;
          try {
            json = JSON.parse(text);
          } catch {
            // not JSON (metrics)
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** Resolves with the first reload attempt (emitted from now on) that satisfies `pred`. */
export async function nextReload(server: RunningServer, pred: (a: ReloadAttempt) => boolean = () => true): Promise<ReloadAttempt> {
  for (;;) {
    const [attempt] = (await once(server, "reload")) as [ReloadAttempt];
    if (pred(attempt)) return attempt;
  }
}

/** An access input the POLICY below allows (reader reading) or denies (anyone else). */
export function accessInput(user: string, roles: string[], action = "read"): Record<string, unknown> {
  return { principal: { id: user, roles }, action, resource: { type: "doc", id: "d1" } };
}

/** A small set: readers read docs; contractors are denied; one detect rule over logins. */
export const POLICY = `package demo

allow "readers-read" {
  when action == "read" and principal.roles contains "reader"
}

deny "no-contractors" {
  when principal.roles contains "contractor"
}

detect "many-login-failures" {
  severity medium
  tags ["MITRE:T1110"]
  where event.action == "login" and event.outcome == "failure"
  by user.name within 5m
  having count >= 3
}
`;

/** The same set with one more rule: a different version. */
export const POLICY_V2 = POLICY + `
allow "writers-write" {
  when action == "write" and principal.roles contains "writer"
}
`;

/** A set with a syntax error: never served. */
export const BROKEN = `package demo

allow "readers-read" {
  when action == "read" and principal.roles contains
}
`;
