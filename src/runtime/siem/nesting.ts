/**
 * How deep the correlation engine follows a value.
 *
 * JSON.parse reads any depth, but JSON.stringify, and anything else that
 * recurses, overflows the stack some thousands of levels down. An alert
 * carries its events, so one crafted event nested 100,000 levels deep made
 * each write of its alert fail: `detect` ended with an internal error, the
 * service answered 500 to every alerts query while it kept the alert. The
 * writers (the detect CLI, the service's alert store) therefore write an
 * alert's events to MAX_DEPTH levels, a deeper part replaced by TOO_DEEP;
 * `push` returns the events as given (walking every event of every alert
 * cost the engine more than the rest of raising it). `by` and `distinct`
 * values are keyed to the same depth (group-table.ts); deeper ones are the
 * rule's counted error.
 */
export const MAX_DEPTH = 256;

export const TOO_DEEP = `[nested deeper than ${MAX_DEPTH} levels]`;

/**
 * `v` itself when it nests at most MAX_DEPTH levels below `depth` (nothing is
 * copied: the common case), otherwise a copy whose deeper parts are TOO_DEEP.
 */
export function pruneDeep(v: unknown, depth = 0): unknown {
  if (typeof v !== "object" || v === null) return v;
  if (depth >= MAX_DEPTH) return TOO_DEEP;
  if (Array.isArray(v)) {
    let copy: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const x = pruneDeep(v[i], depth + 1);
      if (x !== v[i]) (copy ??= v.slice())[i] = x;
    }
    return copy ?? v;
  }
  const o = v as Record<string, unknown>;
  let copy: Record<string, unknown> | null = null;
  for (const k of Object.keys(o)) {
    const x = pruneDeep(o[k], depth + 1);
    if (x === o[k]) continue;
    copy ??= { ...o };
    // defineProperty: a key named __proto__ stays a plain key.
    Object.defineProperty(copy, k, { value: x, writable: true, enumerable: true, configurable: true });
  }
  return copy ?? v;
}

/** `events` (an alert's) with each event pruned to MAX_DEPTH levels; the same array when nothing is deeper. */
export function pruneEvents<T>(events: T[]): T[] {
  let copy: T[] | null = null;
  for (let i = 0; i < events.length; i++) {
    const e = pruneDeep(events[i]) as T;
    if (e !== events[i]) (copy ??= events.slice())[i] = e;
  }
  return copy ?? events;
}
