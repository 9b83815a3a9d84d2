/**
 * Rendering a Doc to text: each group is laid out flat when it fits in the
 * remaining width (counting what follows it up to the next possible break),
 * else broken. Output lines never end in spaces, and the text ends with
 * exactly one newline (or is empty).
 */
import { propagateBreaks, type Doc } from "./doc.js";

const FLAT = 0;
const BREAK = 1;
type Mode = typeof FLAT | typeof BREAK;

interface Cmd {
  ind: number;
  mode: Mode;
  doc: Doc;
}

const TRAILING_BLANKS = /[ \t]+$/;

export function render(doc: Doc, width: number): string {
  propagateBreaks(doc);
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
      const code = cur.replace(TRAILING_BLANKS, "");
      lines.push(code === "" ? cur + suffixes[0] : code + " " + suffixes[0]);
      for (let i = 1; i < suffixes.length; i++) lines.push(pad(ind) + suffixes[i]);
      suffixes = [];
    } else lines.push(cur.replace(TRAILING_BLANKS, ""));
    cur = pad(ind);
    pending = -1;
  };
  const text = (s: string): void => {
    if (s === "") return;
    if (pending >= 0) newline(pending);
    cur += s;
  };
  const lineIsBlank = (): boolean => suffixes.length === 0 && cur.trim() === "";

  const cmds: Cmd[] = [{ ind: 0, mode: BREAK, doc }];
  while (cmds.length > 0) {
    const { ind, mode, doc: d } = cmds.pop()!;
    if (typeof d === "string") {
      text(d);
      continue;
    }
    if (Array.isArray(d)) {
      for (let i = d.length - 1; i >= 0; i--) cmds.push({ ind, mode, doc: d[i]! });
      continue;
    }
    switch (d.t) {
      case "group": {
        let m: Mode = BREAK;
        if (!d.broken) {
          const column = pending >= 0 ? pending : cur.length;
          m = mode === FLAT || fits({ ind, mode: FLAT, doc: d.contents }, cmds, width - column) ? FLAT : BREAK;
        }
        cmds.push({ ind, mode: m, doc: d.contents });
        break;
      }
      case "indent":
        cmds.push({ ind: ind + 2, mode, doc: d.contents });
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

/** Whether `next`, laid out flat, fits in `width` columns before the next break. */
function fits(next: Cmd, rest: readonly Cmd[], width: number): boolean {
  let remaining = width;
  let restIdx = rest.length;
  const stack: { mode: Mode; doc: Doc }[] = [next];
  while (remaining >= 0) {
    const c = stack.pop();
    if (c === undefined) {
      if (restIdx === 0) return true;
      stack.push(rest[--restIdx]!);
      continue;
    }
    const d = c.doc;
    if (typeof d === "string") {
      remaining -= d.length;
      continue;
    }
    if (Array.isArray(d)) {
      for (let i = d.length - 1; i >= 0; i--) stack.push({ mode: c.mode, doc: d[i]! });
      continue;
    }
    switch (d.t) {
      case "group":
        stack.push({ mode: d.broken ? BREAK : c.mode, doc: d.contents });
        break;
      case "indent":
        stack.push({ mode: c.mode, doc: d.contents });
        break;
      case "line":
        if (c.mode === BREAK || d.hard) return true;
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
