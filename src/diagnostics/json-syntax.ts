/**
 * Where JSON text stops being JSON, as line and column, for messages about
 * hand-edited files (a mesh inventory). JSON.parse gives an offset for some
 * errors and, for others, a quote of the text that may run over several
 * lines; this names the line and column of the first bad character either way.
 * Called only after JSON.parse has failed.
 */

export interface JsonSyntaxProblem {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units. */
  column: number;
  message: string;
}

class Stop {
  constructor(
    readonly at: number,
    readonly message: string,
  ) {}
}

/** A character quoted for a message: JSON's escapes, and C1 controls escaped too (JSON leaves them raw). */
const shown = (c: string): string => JSON.stringify(c).replace(/[\u007f-\u009f\u2028\u2029]/g, (x) => `\\u${x.charCodeAt(0).toString(16).padStart(4, "0")}`);

const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
const ESCAPE = /\\(["\\/bfnrt]|u[0-9A-Fa-f]{4})/y;

/** The first syntax error of `text`, or null when it is JSON (or too deep to scan here). */
export function jsonSyntaxProblem(text: string): JsonSyntaxProblem | null {
  let i = 0;
  const unexpected = (): Stop => new Stop(i, i >= text.length ? "unexpected end of input" : `unexpected ${shown(text[i]!)}`);
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const expect = (c: string) => {
    ws();
    if (text[i] !== c) throw unexpected();
    i++;
  };
  const string = () => {
    i++; // the opening quote
    for (;;) {
      if (i >= text.length) throw unexpected();
      const c = text.charCodeAt(i);
      if (c === 0x22) return void i++;
      if (c < 0x20) throw new Stop(i, "a control character in a string (write it escaped)");
      if (c === 0x5c) {
        ESCAPE.lastIndex = i;
        if (!ESCAPE.test(text)) throw new Stop(i, "a bad escape in a string");
        i = ESCAPE.lastIndex;
      } else i++;
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') throw unexpected();
        string();
        expect(":");
        value();
        ws();
        if (text[i] === "}") return void i++;
        if (text[i] !== ",") throw unexpected();
        i++;
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === "]") return void i++;
        if (text[i] !== ",") throw unexpected();
        i++;
      }
    }
    if (c === '"') return string();
    for (const word of ["true", "false", "null"]) if (text.startsWith(word, i)) return void (i += word.length);
    NUMBER.lastIndex = i;
    if (c !== undefined && /[-0-9]/.test(c) && NUMBER.test(text)) return void (i = NUMBER.lastIndex);
    throw unexpected();
  };
  try {
    value();
    ws();
    if (i < text.length) throw new Stop(i, `unexpected ${shown(text[i]!)} after the JSON value`);
    return null;
  } catch (err) {
    if (!(err instanceof Stop)) return null; // nesting too deep for this scanner: no position
    const before = text.slice(0, err.at);
    const line = before.split("\n").length;
    return { line, column: err.at - (before.lastIndexOf("\n") + 1) + 1, message: err.message };
  }
}

/**
 * Why `text` (which JSON.parse refused with `err`) is not JSON, for a one-line
 * message: "line 2, column 16: unexpected "n"". JSON.parse's own message
 * quotes the text, newlines and all, which would split an error line.
 */
export function notJsonReason(text: string, err: unknown): string {
  const at = jsonSyntaxProblem(text);
  if (at) return `line ${at.line}, column ${at.column}: ${at.message}`;
  return (err instanceof Error ? err.message : String(err)).replace(/\s*[\r\n]+\s*/g, " ");
}
