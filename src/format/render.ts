/**
 * Rendering a Doc to text: each group is laid out flat when it fits in the
 * remaining width (counting what follows it up to the next possible break),
 * else broken. Output lines never end in spaces, and the text ends with
 * exactly one newline (or is empty).
 */
import { propagateBreaks, type Doc } from "./doc.js";

const FLAT = 0;
const BREAK = 1;

const TRAILING_BLANKS = /[ \t]+$/;

function trimEnd(line: string): string {
  const last = line.charCodeAt(line.length - 1);
  return last === 32 || last === 9 ? line.replace(TRAILING_BLANKS, "") : line;
}

/**
 * `doc` as text within `width` columns. A builder that already marked the
 * groups that must break (as the policy printer does) can skip the pass
 * that finds them.
 */
export function render(doc: Doc, width: number, breaksMarked = false): string {
  if (!breaksMarked) propagateBreaks(doc);
  const lines: string[] = [];
  let cur = "";
  let suffixes: string[] = [];
  /** Indentation of the newline an own-line comment still owes, or -1. */
  let pending = -1;
  const indents: string[] = [];
  const pad = (n: number): string => (indents[n] ??= " ".repeat(n));

  const newline = (ind: number): void => {
    if (suffixes.length > 0) {
      // One trailing comment per line: two side by side would read back as one.
      const code = trimEnd(cur);
      lines.push(code === "" ? cur + suffixes[0] : code + " " + suffixes[0]);
      for (let i = 1; i < suffixes.length; i++) lines.push(pad(ind) + suffixes[i]);
      suffixes = [];
    } else lines.push(trimEnd(cur));
    cur = pad(ind);
    pending = -1;
  };
  const text = (s: string): void => {
    if (s === "") return;
    if (pending >= 0) newline(pending);
    cur += s;
  };
  const lineIsBlank = (): boolean => suffixes.length === 0 && cur.trim() === "";

  // The work stack, as three parallel arrays (no object per entry).
  const docs: Doc[] = [doc];
  const inds: number[] = [0];
  const modes: number[] = [BREAK];
  while (docs.length > 0) {
    const d = docs.pop()!;
    const ind = inds.pop()!;
    const mode = modes.pop()!;
    if (typeof d === "string") {
      text(d);
      continue;
    }
    if (Array.isArray(d)) {
      // Leading strings go out at once; the rest waits on the stack.
      let i = 0;
      while (i < d.length && typeof d[i] === "string") text(d[i++] as string);
      for (let j = d.length - 1; j >= i; j--) {
        docs.push(d[j]!);
        inds.push(ind);
        modes.push(mode);
      }
      continue;
    }
    switch (d.t) {
      case "group": {
        let m = BREAK;
        if (!d.broken) {
          const column = pending >= 0 ? pending : cur.length;
          m = mode === FLAT || fits(d.contents, docs, modes, width - column) ? FLAT : BREAK;
        }
        docs.push(d.contents);
        inds.push(ind);
        modes.push(m);
        break;
      }
      case "indent":
        docs.push(d.contents);
        inds.push(ind + 2);
        modes.push(mode);
        break;
      case "line":
        if (mode === FLAT && !d.hard) text(d.flat);
        else newline(ind);
        break;
      case "lineSuffix":
        // A trailing comment after an own-line one belongs to the next line.
        if (pending >= 0) newline(pending);
        suffixes.push(d.text);
        break;
      case "ownLine":
        if (lineIsBlank()) cur = pad(ind);
        else newline(ind);
        cur += d.text;
        pending = ind;
        break;
      case "breakParent":
        break;
    }
  }
  if (suffixes.length > 0 || cur.trim() !== "") newline(0);
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}

// The stack `fits` works on, reused from call to call.
const fitDocs: Doc[] = [];
const fitModes: number[] = [];

/**
 * Whether `next`, laid out flat, fits in `width` columns together with what
 * follows it (`rest`, the render stack) up to the next possible break.
 */
function fits(next: Doc, rest: readonly Doc[], restModes: readonly number[], width: number): boolean {
  let remaining = width;
  let restIdx = rest.length;
  fitDocs.length = 0;
  fitModes.length = 0;
  fitDocs.push(next);
  fitModes.push(FLAT);
  while (remaining >= 0) {
    if (fitDocs.length === 0) {
      if (restIdx === 0) return true;
      restIdx--;
      fitDocs.push(rest[restIdx]!);
      fitModes.push(restModes[restIdx]!);
      continue;
    }
    const d = fitDocs.pop()!;
    const mode = fitModes.pop()!;
    if (typeof d === "string") {
      remaining -= d.length;
      continue;
    }
    if (Array.isArray(d)) {
      for (let i = d.length - 1; i >= 0; i--) {
        fitDocs.push(d[i]!);
        fitModes.push(mode);
      }
      continue;
    }
    switch (d.t) {
      case "group":
        fitDocs.push(d.contents);
        fitModes.push(d.broken ? BREAK : mode);
        break;
      case "indent":
        fitDocs.push(d.contents);
        fitModes.push(mode);
        break;
      case "line":
        if (mode === BREAK || d.hard) return true;
        remaining -= d.flat.length;
        break;
      case "ownLine":
        return true;
      case "lineSuffix":
      case "breakParent":
        break;
    }
  }
  return false;
}
