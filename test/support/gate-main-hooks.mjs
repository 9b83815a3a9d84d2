// Module resolution hooks (run off the main thread): see gate-main.mjs.
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export async function resolve(specifier, context, nextResolve) {
  const dir = process.env.GATE_DIR;
  if (dir && specifier === "./main.js" && /\/cli\/bin\.[jt]s$/.test(context.parentURL ?? "")) {
    writeFileSync(path.join(dir, "loading"), "");
    while (!existsSync(path.join(dir, "go"))) await sleep(10);
  }
  return nextResolve(specifier, context);
}
