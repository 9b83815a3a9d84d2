// After `tsc` (the build): remove what dist/ holds for sources that are gone. tsc only ever adds
// and overwrites, so a renamed or deleted src/ file left its old .js in dist/, which `npm pack`
// shipped, and a stale dist/cli/commands/*.js would still be loaded as a verb. Usage:
// node scripts/prune-dist.mjs [ROOT] (default: this checkout).
import { existsSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = process.argv[2] ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const OUTPUT = /^(.*)\.(js|d\.ts)(\.map)?$/;

function prune(rel) {
  const dir = path.join(root, "dist", rel);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const out = path.join(rel, e.name);
    if (e.isDirectory()) {
      if (existsSync(path.join(root, "src", out))) prune(out);
      else rmSync(path.join(root, "dist", out), { recursive: true, force: true });
      continue;
    }
    const m = OUTPUT.exec(e.name);
    if (m === null) continue;
    const source = path.join(root, "src", rel, `${m[1]}.ts`);
    if (!existsSync(source)) rmSync(path.join(dir, e.name), { force: true });
  }
}

if (existsSync(path.join(root, "dist"))) prune(".");
