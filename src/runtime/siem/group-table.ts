/**
 * One rule's live groups: a Map from group key to window for lookup, and a
 * doubly linked list in update order for the two ways a group leaves memory
 * (spec/LANGUAGE.md section 7, issue #6 "Bounded memory"): the cap on live
 * groups evicts the least recently updated one, and the sweep drops groups
 * idle for longer than their window. Moving a group to the end of the list
 * is a few pointer writes, where re-inserting it into the Map (the obvious
 * way to keep a Map in update order) rehashes the key on every event.
 */
import type { GroupWindow } from "./window.js";

/**
 * A group's key in its rule's Map. One `by` field: the value itself when a
 * string, number, boolean or null (a Map keeps 1 and "1" apart); a list or
 * an object as \x01 + JSON, and a string that starts with \x01 gets a second
 * one, so the two never meet. Several fields: their JSON list.
 */
export type GroupKey = string | number | boolean | null;

export class GroupTable {
  private readonly map = new Map<GroupKey, GroupWindow>();
  /** Least recently updated first. */
  private head: GroupWindow | null = null;
  private tail: GroupWindow | null = null;

  get size(): number {
    return this.map.size;
  }

  get(key: GroupKey): GroupWindow | undefined {
    return this.map.get(key);
  }

  /** A new group, as the most recently updated. */
  add(g: GroupWindow): void {
    this.map.set(g.key, g);
    this.append(g);
  }

  /** `g` was just updated: it moves to the end. */
  touch(g: GroupWindow): void {
    if (this.tail === g) return;
    this.unlink(g);
    this.append(g);
  }

  delete(g: GroupWindow): void {
    this.map.delete(g.key);
    this.unlink(g);
  }

  /** Drops the least recently updated group. */
  evictOldest(): void {
    if (this.head !== null) this.delete(this.head);
  }

  /** Drops groups, least recently updated first, while their newest event is before `limit`. */
  sweep(limit: number): void {
    while (this.head !== null && this.head.newest < limit) this.delete(this.head);
  }

  clear(): void {
    this.map.clear();
    this.head = this.tail = null;
  }

  private append(g: GroupWindow): void {
    g.prev = this.tail;
    g.next = null;
    if (this.tail === null) this.head = g;
    else this.tail.next = g;
    this.tail = g;
  }

  private unlink(g: GroupWindow): void {
    if (g.prev === null) this.head = g.next;
    else g.prev.next = g.next;
    if (g.next === null) this.tail = g.prev;
    else g.next.prev = g.prev;
    g.prev = g.next = null;
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
