import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

/** Every `.policy` file under `dir`, recursively, in sorted order ([] if `dir` is absent). */
export function policyFiles(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) policyFiles(full, out);
    else if (name.endsWith(".policy")) out.push(full);
  }
  return out;
}
