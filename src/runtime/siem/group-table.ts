/**
 * One rule's live groups: a Map from group key to window for lookup, and the
 * groups in update order for the two ways a group leaves memory
 * (spec/LANGUAGE.md section 7, issue #6 "Bounded memory"): the cap on live
 * groups evicts the least recently updated one, and the sweep drops groups
 * idle for longer than their window.
 *
 * Update order is a queue of (group, stamp) appended on every update; an
 * entry is current when its stamp is still the group's, and stale entries
 * are skipped when met and dropped when the queue outgrows twice the live
 * groups. An update is two appends to the queue's tail, where a doubly linked
 * list would write into both neighbours of the group (two more objects
 * touched, somewhere in a heap of hundreds of thousands of groups) and
 * re-inserting into the Map would rehash the key.
 */
import type { GroupWindow } from "./window.js";

/**
 * A group's key in its rule's Map. One `by` field: the value itself when a
 * string, number, boolean or null (a Map keeps 1 and "1" apart); a list or
 * an object as \x01 + JSON, and a string that starts with \x01 gets a second
 * one, so the two never meet. Several fields: their JSON list.
 */
export type GroupKey = string | number | boolean | null;

/** A deleted group's stamp: no queue entry is current for it. */
const GONE = -1;

export class GroupTable {
  private readonly map = new Map<GroupKey, GroupWindow>();
  /** Update order, oldest first from `first`: the groups and their stamps at the update. */
  private queue: GroupWindow[] = [];
  private stamps: number[] = [];
  private first = 0;
  private clock = 0;

  get size(): number {
    return this.map.size;
  }

  get(key: GroupKey): GroupWindow | undefined {
    return this.map.get(key);
  }

  /** A new group, as the most recently updated. */
  add(g: GroupWindow): void {
    this.map.set(g.key, g);
    this.enqueue(g);
  }

  /** `g` was just updated: it becomes the most recently updated. */
  touch(g: GroupWindow): void {
    const last = this.queue.length - 1;
    if (last >= this.first && this.queue[last] === g) return; // already the newest entry, and current
    this.enqueue(g);
  }

  delete(g: GroupWindow): void {
    this.map.delete(g.key);
    g.stamp = GONE;
  }

  /** Drops the least recently updated group. */
  evictOldest(): void {
    const g = this.oldest();
    if (g !== null) this.delete(g);
  }

  /** Drops groups, least recently updated first, while their newest event is before `limit`. */
  sweep(limit: number): void {
    for (let g = this.oldest(); g !== null && g.newest < limit; g = this.oldest()) this.delete(g);
  }

  clear(): void {
    for (const g of this.map.values()) g.stamp = GONE;
    this.map.clear();
    this.queue = [];
    this.stamps = [];
    this.first = 0;
  }

  /** The least recently updated live group; stale entries in front of it are dropped. */
  private oldest(): GroupWindow | null {
    const q = this.queue;
    const st = this.stamps;
    let i = this.first;
    while (i < q.length && st[i] !== q[i]!.stamp) q[i++] = undefined as unknown as GroupWindow;
    this.first = i;
    return i < q.length ? q[i]! : null;
  }

  private enqueue(g: GroupWindow): void {
    g.stamp = ++this.clock;
    this.queue.push(g);
    this.stamps.push(g.stamp);
    // Stale entries past twice the live groups, or a dropped front past half the array.
    const n = this.queue.length;
    if (n - this.first > 2 * this.map.size + 64 || (this.first > 1024 && 2 * this.first > n)) this.compact();
  }

  /** Keeps the current entries only, in order, from index 0 (amortized O(1) an update: each time, the queue has grown by at least half). */
  private compact(): void {
    const q = this.queue;
    const st = this.stamps;
    let n = 0;
    for (let i = this.first; i < q.length; i++) {
      const g = q[i]!;
      if (st[i] !== g.stamp) continue;
      q[n] = g;
      st[n++] = st[i]!;
    }
    q.length = n;
    st.length = n;
    this.first = 0;
  }
}

const ESCAPE = "\x01";

/** The key of one `by` value (see GroupKey). */
export function singleKey(v: unknown): GroupKey {
  switch (typeof v) {
    case "string":
      return v.charCodeAt(0) === 1 ? ESCAPE + v : v;
    case "number":
    case "boolean":
      return v;
    default:
      return v === null ? null : ESCAPE + JSON.stringify(v);
  }
}
