/**
 * `npm run bench`: every benchmark, printing medians and ratios, and the
 * figures kept per version in bench/results/<version>.json.
 */
import { mkdirSync, writeFileSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runFrontendBench } from "./frontend.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = JSON.parse(readFileSync(path.join(here, "..", "package.json"), "utf8")) as { version: string };

const results: Record<string, unknown> = { version: pkg.version, node: process.version, date: new Date().toISOString() };
results.frontend = runFrontendBench();
results.access = await (await import("./access.js")).runAccessBench();
results.audit = await (await import("./audit.js")).runAuditBench();
results.mesh = await (await import("./mesh.js")).runMeshBench();
results.crypto = await (await import("./crypto.js")).runCryptoBench();
results.server = await (await import("./server.js")).runServerBench({ durationS: 5, soakS: 10 });
results.reload = await (await import("./reload-pause.js")).runReloadPauseBench();
results.siem = await (await import("./siem.js")).runSiemBench();

mkdirSync(path.join(here, "results"), { recursive: true });
writeFileSync(path.join(here, "results", `${pkg.version}.json`), JSON.stringify(results, null, 2) + "\n");
console.log(`\nresults written to bench/results/${pkg.version}.json`);
