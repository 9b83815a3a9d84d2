/**
 * Lint SP3011: a `matches` pattern whose repeated group can split the same
 * text in many ways (`(a+)+`, `(\w+\s?)*`, `(-.+)*`). On a near miss
 * ECMAScript's backtracking engine then tries every split, exponential in the
 * input's length, so one crafted event blocks the correlation engine (and a
 * server's every request). Node 20's linear-time engine does not take the `u`
 * patterns the language uses, so the checker warns instead.
 *
 * The test is star height 2 with one common exemption: a repeated group that
 * holds a repeat is flagged unless each of its alternatives starts, or ends,
 * with a single literal character that none of the repeats inside it can
 * match (`(-[a-z0-9]+)*`, `([a-z]+,)*`, `(\.\w+)+`): then each round begins
 * (or ends) at a place the text fixes, and the split is unique.
 */

interface Atom {
  kind: "atom";
  /** The atom as written: a character, an escape, a class, `.`, an anchor. */
  text: string;
  repeat: Repeat;
}
interface Group {
  kind: "group";
  text: string;
  alternatives: Element[][];
  repeat: Repeat;
}
type Element = Atom | Group;
/** none (or a fixed count, `{3}`); optional (`?`, `{0,1}`); many: a choice of how many, reaching 2 or more (`*`, `+`, `{2,}`, `{1,3}`). */
type Repeat = "none" | "optional" | "many";

/** The first repeated group that can split its text many ways, as written, or null. Assumes a pattern that compiles. */
export function ambiguousRepeat(pattern: string): string | null {
  const parsed = parse(pattern, 0, false);
  return parsed === null ? null : find(parsed.alternatives);
}

function find(alternatives: Element[][]): string | null {
  for (const seq of alternatives) {
    for (const el of seq) {
      if (el.kind !== "group") continue;
      if (el.repeat === "many" && el.alternatives.some(holdsRepeat) && !el.alternatives.every(pinned)) return el.text;
      const inner = find(el.alternatives);
      if (inner !== null) return inner;
    }
  }
  return null;
}

function holdsRepeat(seq: Element[]): boolean {
  return seq.some((el) => el.repeat === "many" || (el.kind === "group" && el.alternatives.some(holdsRepeat)));
}

/** The alternative starts or ends with a literal character that none of its repeats can match. */
function pinned(seq: Element[]): boolean {
  for (const edge of [seq[0], seq[seq.length - 1]]) {
    if (edge === undefined || edge.kind !== "atom" || edge.repeat !== "none") continue;
    const c = literal(edge.text);
    if (c !== null && !repeatsCanMatch(seq, c)) return true;
  }
  return false;
}

function repeatsCanMatch(seq: Element[], c: string): boolean {
  for (const el of seq) {
    if (el.kind === "group") {
      // A group's repeats, or the whole repeated group: assume it can (no attempt to read it).
      if (el.repeat === "many" || el.alternatives.some(holdsRepeat)) return true;
      continue;
    }
    if (el.repeat === "many" && matchesChar(el.text, c)) return true;
  }
  return false;
}

/** The one character a literal atom stands for (`a`, `\.`, `\-`), or null. */
function literal(text: string): string | null {
  if (text.length === 1 && !".^$".includes(text)) return text;
  if (text.length === 2 && text[0] === "\\" && /[\^$\\.*+?()[\]{}|/-]/.test(text[1]!)) return text[1]!;
  return null;
}

function matchesChar(atom: string, c: string): boolean {
  try {
    return new RegExp(`^(?:${atom})$`, "u").test(c);
  } catch {
    return true; // cannot tell: assume it can
  }
}

/** Parses from `i` to the end or (inside a group) to its `)`. */
function parse(p: string, i: number, inGroup: boolean): { alternatives: Element[][]; end: number } | null {
  const alternatives: Element[][] = [[]];
  while (i < p.length) {
    const c = p[i]!;
    const seq = alternatives[alternatives.length - 1]!;
    if (c === ")") {
      if (inGroup) return { alternatives, end: i };
      return null;
    }
    if (c === "|") {
      alternatives.push([]);
      i++;
      continue;
    }
    let el: Element;
    let next: number;
    if (c === "(") {
      let body = i + 1;
      if (p[body] === "?") {
        // (?: (?= (?! (?<= (?<! (?<name>
        const m = /^\?(?::|=|!|<=|<!|<[^>]*>)/.exec(p.slice(body));
        if (m === null) return null;
        body += m[0].length;
      }
      const inner = parse(p, body, true);
      if (inner === null) return null;
      next = inner.end + 1;
      el = { kind: "group", text: p.slice(i, next), alternatives: inner.alternatives, repeat: "none" };
    } else {
      next = atomEnd(p, i);
      el = { kind: "atom", text: p.slice(i, next), repeat: "none" };
    }
    const q = quantifier(p, next);
    el.repeat = q.repeat;
    i = q.end;
    seq.push(el);
  }
  return inGroup ? null : { alternatives, end: i };
}

function atomEnd(p: string, i: number): number {
  const c = p[i]!;
  if (c === "[") {
    let j = i + 1;
    while (j < p.length && p[j] !== "]") j += p[j] === "\\" ? 2 : 1;
    return Math.min(j + 1, p.length);
  }
  if (c !== "\\") return i + 1;
  const e = p[i + 1] ?? "";
  if (/[pPuk]/.test(e) && (p[i + 2] === "{" || p[i + 2] === "<")) {
    const close = p.indexOf(p[i + 2] === "{" ? "}" : ">", i + 3);
    return close < 0 ? p.length : close + 1;
  }
  if (e === "u" && /^[0-9a-fA-F]{4}/.test(p.slice(i + 2))) return i + 6;
  if (e === "x") return i + 4;
  if (e === "c") return i + 3;
  return i + 2;
}

function quantifier(p: string, i: number): { repeat: Repeat; end: number } {
  let repeat: Repeat = "none";
  let end = i;
  const c = p[i];
  if (c === "*" || c === "+") {
    repeat = "many";
    end = i + 1;
  } else if (c === "?") {
    repeat = "optional";
    end = i + 1;
  } else if (c === "{") {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(i));
    if (m !== null) {
      end = i + m[0].length;
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]);
      // A fixed count (`{2}`) matches one length: no choice of split. A range that reaches 2 or more does.
      repeat = max > min && max > 1 ? "many" : min === max ? "none" : "optional";
    }
  }
  if (end > i && p[end] === "?") end++; // lazy
  return { repeat, end };
}
