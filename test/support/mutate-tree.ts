/**
 * Structural mutation of a parsed document (JSON rule sets, Sigma YAML,
 * pipelines) for the seeded import fuzzers. The random choices stay with the
 * caller, so each fuzzer keeps its own seeded sequence.
 */
export type Path = (string | number)[];

/** Every path into `v`, the root (`[]`) first; below `maxDepth` levels nothing more is listed. */
export function treePaths(v: unknown, maxDepth = Infinity, p: Path = [], out: Path[] = []): Path[] {
  out.push(p);
  if (p.length > maxDepth) return out;
  if (Array.isArray(v)) v.forEach((x, i) => treePaths(x, maxDepth, [...p, i], out));
  else if (v !== null && typeof v === "object") for (const k of Object.keys(v)) treePaths((v as Record<string, unknown>)[k], maxDepth, [...p, k], out);
  return out;
}

/**
 * Changes `doc` at `path` (not the root): inside an object, `rename()` may
 * give the value a new key (defined as an own property, so `__proto__` is a
 * key and not the prototype); otherwise the value is replaced by `value()`.
 */
export function mutateAt(doc: unknown, path: Path, rename: () => string | null, value: () => unknown): void {
  let parent = doc as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  const key = Array.isArray(parent) ? null : rename();
  if (key === null) {
    parent[last] = value();
    return;
  }
  const v = parent[last];
  delete parent[last];
  Object.defineProperty(parent, key, { value: v, enumerable: true, writable: true, configurable: true });
}
