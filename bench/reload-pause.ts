/**
 * How long a good reload pauses the service's event loop (docs/operations.md
 * "Hot reload"): a served set of generated access rules is replaced by a
 * changed one, and a 1 ms timer records the longest gap between its turns.
 * Each run does it twice in turn: loading in steps with the event loop
 * turning between them (what the service does), and the same steps with no
 * turn between them (one pause for the whole load, as before steps).
 *
 *   node --import tsx bench/reload-pause.ts [--files N] [--rules N] [--rounds N]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { generateAccessPolicy } from "./generate.js";
import { PolicySet } from "../src/server/policy-set.js";

const { values } = parseArgs({ options: { files: { type: "string", default: "10" }, rules: { type: "string", default: "10000" }, rounds: { type: "string", default: "2" } } });
const files = Math.max(1, Number(values.files));
const rules = Math.max(files, Number(values.rules));
const rounds = Math.max(1, Number(values.rounds));

function write(dir: string, generation: number): void {
  for (let f = 0; f < files; f++) {
    const text = generateAccessPolicy(Math.round(rules / files), generation * 1000 + f).replace(/package (\S+)/, `package $1.f${f}`);
    writeFileSync(path.join(dir, `p${f}.policy`), text);
  }
}

async function longestPause(stepped: boolean): Promise<{ worstMs: number; durationMs: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), "reload-pause-"));
  try {
    write(dir, 1);
    // Without steps: the pauses are microtasks, so nothing else runs until the load ends.
    const set = new PolicySet({ paths: [dir], checkInWorker: false, ...(stepped ? {} : { pause: () => Promise.resolve() }) });
    if (!(await set.reload("start")).ok) throw new Error("the generated set does not load");
    write(dir, 2);
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

console.log(`good reload of ${rules.toLocaleString("en-US")} access rules in ${files} file(s): longest event-loop pause`);
for (let r = 0; r < rounds; r++) {
  const steps = await longestPause(true);
  const whole = await longestPause(false);
  console.log(
    `  in steps ${steps.worstMs.toFixed(0).padStart(6)} ms (reload ${steps.durationMs.toFixed(0)} ms)   all at once ${whole.worstMs.toFixed(0).padStart(6)} ms (reload ${whole.durationMs.toFixed(0)} ms)   x${(whole.worstMs / steps.worstMs).toFixed(1)} shorter`,
  );
}
