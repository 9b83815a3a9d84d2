/**
 * Rule names made unique the way both importers name them: NAME when it is
 * free, else the first free one of NAME-2, NAME-3, ... (rule ids must be
 * unique; Sigma titles and json-rules-engine names need not be).
 *
 * Each base name remembers where its search stopped. Searching from 2 every
 * time made n rules of one title cost n^2 / 2 look-ups: 16,000 took 9.6 s
 * in this loop alone. Starting where the last search stopped gives the same
 * names, because a name once taken stays taken.
 */
export class UniqueNames {
  private readonly next = new Map<string, number>();

  constructor(private readonly used: Set<string> = new Set()) {}

  /** A free name for `base`, taken from now on. */
  take(base: string): string {
    let name = base;
    if (this.used.has(name)) {
      let n = this.next.get(base) ?? 2;
      while (this.used.has(`${base}-${n}`)) n++;
      name = `${base}-${n}`;
      this.next.set(base, n + 1);
    }
    this.used.add(name);
    return name;
  }
}
