/**
 * How long a good reload pauses the service's event loop (docs/operations.md
 * "Hot reload"): a served set of generated access rules is replaced by a
 * changed one, and a 1 ms timer records the longest gap between its turns.
 * Each run does it twice in turn: loading in steps with the event loop
 * turning between them (what the service does), and the same steps with no
 * turn between them (one pause for the whole load, as before steps).
 *
 *   npm run bench:reload -- [--files N] [--rules N] [--rounds N]   (also in `npm run bench`)
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { generateAccessPolicy } from "./generate.js";
import { PolicySet } from "../src/server/policy-set.js";

function write(dir: string, files: number, rules: number, generation: number): void {
  for (let f = 0; f < files; f++) {
    const text = generateAccessPolicy(Math.round(rules / files), generation * 1000 + f).replace(/package (\S+)/, `package $1.f${f}`);
    writeFileSync(path.join(dir, `p${f}.policy`), text);
  }
}

async function longestPause(files: number, rules: number, stepped: boolean): Promise<{ worstMs: number; durationMs: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), "reload-pause-"));
  try {
    write(dir, files, rules, 1);
    // Without steps: the pauses are microtasks, so nothing else runs until the load ends.
    const set = new PolicySet({ paths: [dir], checkInWorker: false, ...(stepped ? {} : { pause: () => Promise.resolve() }) });
    if (!(await set.reload("start")).ok) throw new Error("the generated set does not load");
    write(dir, files, rules, 2);
    let last = performance.now();
    let worst = 0;
    let done = false;
    const tick = () => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
      if (!done) setTimeout(tick, 1);
    };
    setTimeout(tick, 1);
    const attempt = await set.reload("api");
    // The gap the load's last stretch left is seen by the next tick.
    await new Promise((resolve) => setTimeout(resolve, 20));
    done = true;
    set.close();
    if (!attempt.ok) throw new Error("the changed set does not load");
    return { worstMs: worst, durationMs: attempt.durationMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ReloadPauseRow {
  steppedMs: number;
  wholeMs: number;
  reloadMs: number;
}

export async function runReloadPauseBench(options: { files?: number; rules?: number; rounds?: number } = {}): Promise<{ files: number; rules: number; rows: ReloadPauseRow[] }> {
  const files = Math.max(1, options.files ?? 10);
  const rules = Math.max(files, options.rules ?? 10_000);
  const rows: ReloadPauseRow[] = [];
  console.log(`\nhot reload: a good reload of ${rules.toLocaleString("en-US")} access rules in ${files} file(s), longest event-loop pause`);
  for (let r = 0; r < Math.max(1, options.rounds ?? 2); r++) {
    const steps = await longestPause(files, rules, true);
    const whole = await longestPause(files, rules, false);
    rows.push({ steppedMs: steps.worstMs, wholeMs: whole.worstMs, reloadMs: steps.durationMs });
    console.log(
      `  in steps ${steps.worstMs.toFixed(0).padStart(6)} ms (reload ${steps.durationMs.toFixed(0)} ms)   all at once ${whole.worstMs.toFixed(0).padStart(6)} ms (reload ${whole.durationMs.toFixed(0)} ms)   x${(whole.worstMs / steps.worstMs).toFixed(1)} shorter`,
    );
  }
  return { files, rules, rows };
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { files: { type: "string", default: "10" }, rules: { type: "string", default: "10000" }, rounds: { type: "string", default: "2" } } });
  await runReloadPauseBench({ files: Number(values.files), rules: Number(values.rules), rounds: Number(values.rounds) });
}
