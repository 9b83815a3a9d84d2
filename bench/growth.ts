/**
 * State that grows over time in a long-running process (docs/operations.md
 * "Memory over months"): each scenario feeds one part of the service for a
 * long while and prints, at intervals, the heap after gc and the entries the
 * part holds. A bounded part levels off; a leak keeps climbing.
 *
 *   node --expose-gc --import tsx bench/growth.ts reloads [N]   served set reloaded N times (default 2,000), each a new version
 *   node --expose-gc --import tsx bench/growth.ts dlog [S]      decision log behind a disk whose writes take 20 ms, for S seconds (default 12)
 *   node --expose-gc --import tsx bench/growth.ts roles [N]     N requests (default 60,000), each a new combination of 40 roles over 2,000 rules
 *   node --expose-gc --import tsx bench/growth.ts mfa [N]       N made-up names (default 300,000) through the server's MFA service
 *   node --expose-gc --import tsx bench/growth.ts detect [N]    N events (default 2,000,000) with ever new field values through the correlation engine
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { compile, DecisionLog, defaultServerConfig, MemoryRiskStore, startServer, type DecisionLogFile } from "../src/index.js";
import { createMfaService } from "../src/server/mfa.js";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with node --expose-gc");
function heapMb(): string {
  for (let i = 0; i < 3; i++) gc!();
  return (process.memoryUsage().heapUsed / 1e6).toFixed(1);
}

async function reloads(n: number): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "growth-reloads-"));
  const policy = (i: number) =>
    `package demo\nallow "r${i}" { when action == "x${i}" and principal.roles contains "reader" }\n` +
    `detect "d${i}" { severity low where event.action == "login" by user.name within 5m having count >= 3 }\n`;
  writeFileSync(path.join(dir, "a.policy"), policy(0));
  const config = defaultServerConfig();
  config.port = 0;
  config.reload.watch = false;
  const server = await startServer({ paths: [dir], config, logStream: new Writable({ write: (_c, _e, done) => done() }) });
  try {
    for (let i = 1; i <= n; i++) {
      writeFileSync(path.join(dir, "a.policy"), policy(i));
      if (!(await server.reload("api")).ok) throw new Error("reload refused");
      if (i % Math.max(1, Math.floor(n / 8)) === 0) console.log(`${i} reloads: heap ${heapMb()} MB, reload listeners ${server.listenerCount("reload")}`);
    }
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function dlog(seconds: number): Promise<void> {
  let writes = 0;
  const file: DecisionLogFile = {
    write: (_b, _o, length) => new Promise((resolve) => setTimeout(() => (writes++, resolve({ bytesWritten: length })), 20)),
    truncate: async () => undefined,
    stat: async () => ({ size: 0 }),
    close: async () => undefined,
  };
  const log = new DecisionLog({ path: "unused.jsonl", openFile: async () => file });
  await log.open();
  const input = { principal: { id: "alice", roles: ["reader"] }, action: "read", resource: { type: "doc", id: "d1" } };
  const end = Date.now() + seconds * 1000;
  let appended = 0;
  let report = Date.now() + 3000;
  while (Date.now() < end) {
    for (let k = 0; k < 200; k++, appended++) log.append("access", input, { version: "v", decision: "allow", rule: "r", reasons: [] });
    await new Promise((resolve) => setImmediate(resolve));
    if (Date.now() >= report) {
      report = Date.now() + 3000;
      console.log(`${appended} appended, ${log.stats.written} written, ${log.stats.dropped} dropped, ${writes} writes: heap ${heapMb()} MB`);
    }
  }
  await log.close();
}

function roles(n: number): void {
  let src = "package p\n";
  for (let i = 0; i < 2000; i++) src += `allow "a${i}" { when action == "read" and resource.type == "doc" and principal.roles contains "r${i % 40}" and resource.owner == "o${i}" }\n`;
  const engine = compile(src);
  const index = (engine as unknown as { evaluator: { set: { index: { cacheStats: object } } } }).evaluator.set.index;
  for (let i = 1; i <= n; i++) {
    const rs: string[] = [];
    for (let r = 0; r < 40; r++) if (Math.random() < 0.5) rs.push(`r${r}`);
    engine.evaluate({ principal: { id: "u", roles: rs }, action: "read", resource: { type: "doc", id: "d", owner: "x" } });
    // Not a multiple of the caches' fill cycle (about 1,950 requests here), so the samples see them at every fill.
    if (i % 7919 === 0) console.log(`${i} requests: heap ${heapMb()} MB, cache ${JSON.stringify(index.cacheStats)}`);
  }
}

async function mfa(n: number): Promise<void> {
  let now = Date.parse("2026-01-01T00:00:00Z");
  const svc = createMfaService({ secrets: { secretFor: async () => null }, clock: () => now, onEvent: () => undefined });
  let t = performance.now();
  const every = 20_000;
  for (let i = 1; i <= n; i++) {
    now += 1;
    await svc.verify(`user-${i}`, "123456");
    if (i % every === 0) {
      console.log(`${i} names: ${Math.round((every / (performance.now() - t)) * 1000)} verifications/s`);
      t = performance.now();
    }
  }
  console.log(`heap ${heapMb()} MB`);
}

function detect(n: number): void {
  const engine = compile(`package s
detect "count" { severity low where event.action == "login" by user.name within 1m having count >= 3 }
detect "distinct" { severity low where event.action == "login" by source.ip within 1m having distinct dest.port >= 50 }
detect "seq" { severity low by user.name within 1m sequence { a: event.action == "login" count >= 2
  b: event.action == "sudo" } }
detect "risky" { severity low where event.outcome == "failure" by user.name within 1m having count >= 2 then risk user.name + 5 for 10m }
`);
  const t0 = Date.parse("2026-01-01T00:00:00Z");
  let t = t0;
  const risk = new MemoryRiskStore({ clock: () => t });
  const detector = engine.detector({ risk, allowedLatenessMs: 5000 });
  for (let i = 1; i <= n; i++) {
    t = t0 + i * 10;
    detector.push({
      "@timestamp": new Date(i % 97 === 0 ? t - 3000 : t).toISOString(),
      event: { action: i % 5 === 0 ? "sudo" : "login", outcome: i % 3 ? "failure" : "success" },
      user: { name: `u${i >> 1}` },
      source: { ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` },
      dest: { port: i % 65536 },
    });
    if (i % Math.max(1, Math.floor(n / 8)) === 0) {
      const live = Object.values(detector.stats().rules).reduce((sum, r) => sum + r.liveGroups, 0);
      console.log(`${i} events: heap ${heapMb()} MB, live groups ${live}, risk entities ${risk.size}`);
    }
  }
}

const [which, arg] = process.argv.slice(2);
const count = arg === undefined ? undefined : Number(arg);
switch (which) {
  case "reloads":
    await reloads(count ?? 2000);
    break;
  case "dlog":
    await dlog(count ?? 12);
    break;
  case "roles":
    roles(count ?? 60_000);
    break;
  case "mfa":
    await mfa(count ?? 300_000);
    break;
  case "detect":
    detect(count ?? 2_000_000);
    break;
  default:
    console.error("usage: node --expose-gc --import tsx bench/growth.ts reloads|dlog|roles|mfa|detect [N]");
    process.exitCode = 2;
}
