/**
 * The service's limits over raw loopback sockets: the bound on concurrent
 * evaluations (503 overloaded, then served again), the request timeout (408
 * as JSON, for slow headers and slow bodies), keep-alive, and the body size.
 * Synchronised on socket events and on the server's in-flight gauge, never
 * on sleeps.
 */
import t from "tap";
import { connect, type Socket } from "node:net";
import { once } from "node:events";
import { accessInput, call, policyDir, POLICY, start, testConfig } from "./harness.js";

function open(url: string): Promise<Socket> {
  const u = new URL(url);
  const s = connect(Number(u.port), u.hostname);
  return once(s, "connect").then(() => s);
}

/** Everything the server sends until it closes the socket. */
function readAll(s: Socket): Promise<string> {
  let text = "";
  s.on("data", (c: Buffer) => (text += c.toString("utf8")));
  return once(s, "close").then(() => text);
}

/** The first complete response on a socket (headers and a Content-Length body). */
function readResponse(s: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    const onData = (c: Buffer) => {
      text += c.toString("utf8");
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) return;
      const len = Number(/content-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
      if (Buffer.byteLength(text.slice(end + 4)) >= len) {
        s.off("data", onData);
        resolve(text);
      }
    };
    s.on("data", onData);
  });
}

async function inflight(url: string): Promise<number> {
  const m = (await call(url, "/metrics")).text;
  return Number(/^swarm_policy_inflight_requests (\d+)$/m.exec(m)![1]);
}

t.test("past the bound on concurrent evaluations: 503 overloaded, and served again after", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  const { url } = await start(t, [dir], { config: testConfig((c) => (c.limits.maxConcurrent = 1)) });
  const body = JSON.stringify(accessInput("ann", ["reader"]));
  const slow = await open(url);
  t.teardown(() => void slow.destroy());
  const slowAnswer = readResponse(slow);
  // Headers and half the body: the request holds its slot until the rest arrives.
  slow.write(`POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
  while ((await inflight(url)) < 1);
  const refused = await call(url, "/v1/evaluate", { body: accessInput("ann", ["reader"]) });
  t.equal(refused.status, 503);
  t.equal(refused.json.error.code, "overloaded");
  const batch = await call(url, "/v1/evaluate/batch", { body: { inputs: [] } });
  t.equal(batch.json.error.code, "overloaded", "batches share the bound");
  t.equal((await call(url, "/healthz")).status, 200, "health is not bounded");
  slow.write(body.slice(10));
  t.match(await slowAnswer, /^HTTP\/1\.1 200 /);
  while ((await inflight(url)) > 0);
  const again = await call(url, "/v1/evaluate", { body: accessInput("ann", ["reader"]) });
  t.equal(again.json.decision, "allow");
  t.match((await call(url, "/metrics")).text, /^swarm_policy_overload_rejections_total 2$/m);
});

t.test("request timeout: slow headers and slow bodies get 408 as JSON, then the socket closes", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  const { url } = await start(t, [dir], { config: testConfig((c) => (c.limits.requestTimeoutMs = 300)) });
  for (const partial of [
    "POST /v1/evaluate HTTP/1.1\r\nHost: x\r\n",
    "POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{",
  ]) {
    const s = await open(url);
    const all = readAll(s);
    s.write(partial);
    const text = await all;
    t.match(text, /^HTTP\/1\.1 408 /);
    const json = JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4));
    t.equal(json.error.code, "request_timeout");
  }
  t.equal((await call(url, "/v1/evaluate", { body: accessInput("ann", ["reader"]) })).json.decision, "allow", "still serving");
});

t.test("keep-alive: announced and enforced", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  const { url } = await start(t, [dir], { config: testConfig((c) => (c.limits.keepAliveTimeoutMs = 2000)) });
  const s = await open(url);
  const closed = once(s, "close");
  const first = readResponse(s);
  s.write("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n");
  const text = await first;
  t.match(text, /^HTTP\/1\.1 200 /);
  t.match(text, /\r\nKeep-Alive: timeout=2\r\n/i);
  const second = readResponse(s);
  s.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  t.match(await second, /^HTTP\/1\.1 200 /, "the connection is reused");
  await closed; // the server closes the idle connection
  t.pass("closed by the server when idle");
});

t.test("oversized headers: 431 as JSON", async (t) => {
  const dir = policyDir(t, { "a.policy": POLICY });
  const { url } = await start(t, [dir]);
  const s = await open(url);
  const all = readAll(s);
  s.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ${"a".repeat(20_000)}\r\n\r\n`);
  const text = await all;
  t.match(text, /^HTTP\/1\.1 431 /);
  t.equal(JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)).error.code, "headers_too_large");
});
