/**
 * Hostile requests to the service: each is answered (4xx for what cannot be
 * read), the process goes on, and no request can switch off what the next
 * one relies on.
 */
import t from "tap";
import { call, policyDir, start, testConfig } from "./harness.js";

const BURST = `detect "login-burst" {
  severity medium
  where event.action == "login"
  by user.name within 5m
  having count >= 3
}
`;

t.test("one event dated far ahead does not blind `by ... within` rules (events.max_future_ms)", async (t) => {
  const dir = policyDir(t, { "d.policy": BURST });
  const T0 = Date.parse("2026-03-10T10:00:00Z");
  const { url } = await start(t, [dir], { clock: () => T0 + 10 * 60_000 });
  const login = (sec: number) => ({ "@timestamp": new Date(T0 + sec * 1000).toISOString(), event: { action: "login" }, user: { name: "ann" } });
  await call(url, "/v1/events", { body: login(0) });
  const forged = await call(url, "/v1/events", { body: { ...login(0), "@timestamp": "9999-12-31T23:59:59Z" } });
  t.equal(forged.status, 200);
  t.match(forged.json, { received: 1, accepted: 0, malformed: 1, problems: [{ index: 1, kind: "malformed", message: /is more than 300000 ms after the clock/ }] });
  const rest = await call(url, "/v1/events", { body: [login(1), login(2)] });
  t.match(rest.json, { received: 2, accepted: 2, late: 0 });
  t.equal(rest.json.alerts.length, 1, "the third login fires");

  const lenient = await start(t, [dir], { clock: () => T0, config: testConfig((c) => (c.events.maxFutureMs = 3_600_000)) });
  const ahead = await call(lenient.url, "/v1/events", { body: { ...login(0), "@timestamp": new Date(T0 + 3_000_000).toISOString() } });
  t.match(ahead.json, { accepted: 1, malformed: 0 }, "within the configured bound");
});
