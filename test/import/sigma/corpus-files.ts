/**
 * The real, unmodified Sigma rules of ../shared/corpora/sigma/rules (read in
 * place), named by their path below the corpus folder, in sorted order.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const repoRoot = path.resolve(import.meta.dirname, "../../..");
export const CORPUS = path.resolve(repoRoot, "../shared/corpora/sigma");

let cache: { name: string; text: string }[] | undefined;

export function corpusFiles(): { name: string; text: string }[] {
  if (cache !== undefined) return cache;
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".yml")) out.push(p);
    }
  };
  walk(path.join(CORPUS, "rules"));
  cache = out.sort().map((p) => ({ name: path.relative(CORPUS, p), text: readFileSync(p, "utf8") }));
  return cache;
}
