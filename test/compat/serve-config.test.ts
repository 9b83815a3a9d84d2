/**
 * The serve configuration file as 899d258 documented it (docs/operations.md of that version,
 * test/fixtures/compat/2026-12-02-899d258/serve.yaml) loads with the values that version read;
 * fields added since keep their defaults.
 */
import t from "tap";
import path from "node:path";
import { loadServerConfig } from "../../src/server/config.js";
import { COMPAT_DIR } from "./old-files.js";

t.test("2026-12-02-899d258: its documented serve.yaml reads as it did", async (t) => {
  const dir = path.join(COMPAT_DIR, "2026-12-02-899d258");
  const config = await loadServerConfig(path.join(dir, "serve.yaml"));
  // What 899d258's loadServerConfig returned for this file.
  t.match(config, {
    host: "0.0.0.0",
    port: 8181,
    clients: [
      { name: "api-gateway", token_sha256: "3f1dab0000000000000000000000000000000000000000000000000000000001", scopes: ["evaluate"] },
      { name: "siem-shipper", token_sha256: "9b0cab0000000000000000000000000000000000000000000000000000000002", scopes: ["events"] },
      { name: "ops", token_sha256: "77e2ab0000000000000000000000000000000000000000000000000000000003", scopes: ["admin"] },
    ],
    tls: null,
    limits: { bodyBytes: 1048576, requestTimeoutMs: 10000, keepAliveTimeoutMs: 5000, maxConcurrent: 256, batchMaxItems: 1000, eventsMaxItems: 10000 },
    decisionLog: { path: "/var/log/swarm-policy/decisions.jsonl", maxBytes: 104857600, keep: 5, redact: ["principal.email", "context.device.serial", "context.*.token_hint"], toEvents: false },
    reload: { watch: true, debounceMs: 250 },
    events: { allowedLatenessMs: 0, maxGroupsPerRule: 100000 },
    alerts: { capacity: 1000 },
    log: { level: "info" },
    mfa: { keyring: path.join(dir, "ring") },
  });
  t.equal(config.clients.length, 3);
  t.same(config.risk, { stateFile: null, saveIntervalMs: 1000 }, "no risk state file unless asked for");
  t.same(config.evaluate, { inputTime: "accept" });
});
