/**
 * Splits an inventory's bytes into records as they arrive, so a file of any
 * size is read in memory bounded by one record (docs/audit.md "Inventory
 * files"). Two layouts:
 *
 * - JSON Lines: one record per line; blank lines are skipped.
 * - A JSON array of records: the top-level array is scanned (strings,
 *   escapes and bracket nesting tracked byte by byte) and each element is
 *   parsed on its own, so the array is never held whole.
 *
 * The layout is the forced one, else the first byte that is not whitespace
 * (after a UTF-8 BOM): `[` means a JSON array, anything else JSON Lines.
 *
 * What is whose fault:
 * - A record that is not JSON, not UTF-8, or longer than `maxRecordBytes`
 *   is one bad record: reported with its line, and the scan goes on.
 * - A JSON array whose structure breaks (a stray `,`, mismatched brackets,
 *   text after the closing `]`, the file ending inside the array) cannot be
 *   read reliably past that point: InventoryError, and the whole inventory
 *   is unreadable (exit 2), never a report over the part before the break.
 *
 * Pure and synchronous: `push(chunk)` returns the records the chunk
 * completes and `end()` the rest; inventory.ts feeds it from a stream.
 */
import { jsonSyntaxProblem } from "../../diagnostics/json-syntax.js";

/** One record as scanned: where it starts, and its value or why it has none. */
export interface ScannedRecord {
  /** 1-based line the record starts on. */
  readonly line: number;
  /** 0-based position among the records (blank JSONL lines do not count). */
  readonly index: number;
  /** The parsed record, when it parsed. */
  readonly value?: unknown;
  /** Why the record could not be read; `value` is absent then. */
  readonly error?: string;
}

export type InventoryFormat = "json" | "jsonl";

/** The inventory as a whole cannot be read (exit 2). */
export class InventoryError extends Error {
  /** The line the problem is on, when there is one. */
  readonly line: number | null;
  constructor(message: string, line: number | null = null) {
    super(message);
    this.name = "InventoryError";
    this.line = line;
  }
}

export interface ScannerOptions {
  /** Force a layout instead of looking at the first byte. */
  readonly format?: InventoryFormat;
  /** Longest record in bytes (default 1 MiB); longer ones are bad records and are not buffered. */
  readonly maxRecordBytes?: number;
}

export const DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const BOM = [0xef, 0xbb, 0xbf];

const isSpace = (b: number) => b === SPACE || b === LF || b === CR || b === TAB;

/** Where the scan is in a JSON array. */
const enum At {
  /** Before the first byte that is not whitespace. */
  Start,
  /** Inside the array, expecting a record or (when `#sawElement` is false and no comma came) `]`. */
  Between,
  /** Inside a record. */
  Element,
  /** After a record, expecting `,` or `]`. */
  After,
  /** After the closing `]`: only whitespace may follow. */
  Done,
  /** JSON Lines. */
  Lines,
}

export class RecordScanner {
  readonly #max: number;
  readonly #decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  #at: At;
  #forced: InventoryFormat | null;
  #bomSeen = 0;
  #line = 1;
  #index = 0;
  /** Bytes of the record in progress carried over from earlier chunks. */
  #parts: Uint8Array[] = [];
  #size = 0;
  #overflow = false;
  #recordLine = 1;
  // JSON array state inside a record: the closing byte each open bracket expects, one byte per
  // level. Only the first `#max` levels are kept: a record nested deeper is longer than the limit
  // (a bad record), and its deeper levels are counted, not matched, so a file of `[[[[...` cannot
  // make the scanner hold more than one record's worth of memory.
  #stack = new Uint8Array(64);
  #depth = 0;
  #inString = false;
  #escape = false;
  #afterComma = false;

  constructor(options: ScannerOptions = {}) {
    this.#max = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    if (!Number.isInteger(this.#max) || this.#max < 1) throw new RangeError("maxRecordBytes must be a positive integer");
    this.#forced = options.format ?? null;
    this.#at = At.Start;
  }

  /** The layout in use, once known. */
  get format(): InventoryFormat | null {
    if (this.#at === At.Start) return this.#forced;
    return this.#at === At.Lines ? "jsonl" : "json";
  }

  /** The records `chunk` completes. Throws InventoryError when a JSON array's structure breaks. */
  push(chunk: Uint8Array): ScannedRecord[] {
    const out: ScannedRecord[] = [];
    let i = 0;
    const n = chunk.length;
    while (this.#bomSeen < 3 && this.#bomSeen >= 0 && i < n) {
      // A BOM only counts at the very start of the input.
      if (chunk[i] === BOM[this.#bomSeen]) {
        this.#bomSeen++;
        i++;
      } else if (this.#bomSeen > 0) {
        throw new InventoryError("the inventory starts with a broken byte order mark", 1);
      } else this.#bomSeen = -1;
    }
    if (this.#at === At.Start) i = this.#start(chunk, i);
    if (this.#at === At.Lines) this.#lines(chunk, i, out);
    else if (i < n) this.#array(chunk, i, out);
    return out;
  }

  /** The last records. Throws InventoryError when a JSON array is not closed. */
  end(): ScannedRecord[] {
    const out: ScannedRecord[] = [];
    switch (this.#at) {
      case At.Lines:
        if (this.#size > 0 || this.#overflow) this.#finishLine(new Uint8Array(0), out);
        break;
      case At.Start:
      case At.Done:
        break;
      default:
        throw new InventoryError(`the inventory ends inside its JSON array (is the file truncated?)`, this.#line);
    }
    return out;
  }

  /** Skip leading whitespace, then choose the layout. Returns where to go on. */
  #start(chunk: Uint8Array, i: number): number {
    for (; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === LF) this.#line++;
      else if (!isSpace(b)) break;
    }
    if (i === chunk.length) return i;
    const format = this.#forced ?? (chunk[i] === OPEN_BRACKET ? "json" : "jsonl");
    if (format === "jsonl") {
      this.#at = At.Lines;
      this.#recordLine = this.#line;
      return i;
    }
    if (chunk[i] !== OPEN_BRACKET) throw new InventoryError(`a JSON inventory must be an array of records`, this.#line);
    this.#at = At.Between;
    return i + 1;
  }

  // ---- JSON Lines -------------------------------------------------------

  #lines(chunk: Uint8Array, i: number, out: ScannedRecord[]): void {
    while (i < chunk.length) {
      const nl = chunk.indexOf(LF, i);
      if (nl < 0) {
        this.#keep(chunk, i, chunk.length);
        return;
      }
      this.#finishLine(chunk.subarray(i, nl), out);
      this.#line++;
      this.#recordLine = this.#line;
      i = nl + 1;
    }
  }

  #finishLine(tail: Uint8Array, out: ScannedRecord[]): void {
    if (this.#overflow || this.#size + tail.length > this.#max) {
      out.push({ line: this.#recordLine, index: this.#index++, error: this.#tooLong() });
    } else {
      const bytes = this.#take(tail);
      let blank = true;
      for (const b of bytes) {
        if (!isSpace(b)) {
          blank = false;
          break;
        }
      }
      if (!blank) out.push(this.#parse(bytes));
    }
    this.#reset();
  }

  // ---- JSON array -------------------------------------------------------

  #array(chunk: Uint8Array, i: number, out: ScannedRecord[]): void {
    const n = chunk.length;
    let start = this.#at === At.Element ? i : -1;
    while (i < n) {
      const b = chunk[i]!;
      if (this.#at === At.Element) {
        if (this.#inString) {
          // Fast path through string contents: only a quote or a backslash matters.
          if (this.#escape) {
            this.#escape = false;
            if (b === LF) this.#line++;
            i++;
            continue;
          }
          while (i < n && chunk[i] !== QUOTE && chunk[i] !== BACKSLASH) {
            if (chunk[i] === LF) this.#line++;
            i++;
          }
          if (i === n) break;
          if (chunk[i] === BACKSLASH) this.#escape = true;
          else {
            this.#inString = false;
            if (this.#depth === 0) {
              this.#endElement(chunk, start, i + 1, out);
              start = -1;
            }
          }
          i++;
          continue;
        }
        if (b === QUOTE) this.#inString = true;
        else if (b === OPEN_BRACE || b === OPEN_BRACKET) this.#open(b === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET);
        else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
          if (this.#depth === 0) {
            if (b === CLOSE_BRACKET) {
              // `]` right after a scalar record: the record ends here, the array too (handled below).
              this.#endElement(chunk, start, i, out);
              start = -1;
              continue;
            }
            throw new InventoryError(`unexpected "}" in the JSON array`, this.#line);
          }
          this.#depth--;
          if (this.#depth < this.#max && this.#stack[this.#depth] !== b) throw new InventoryError(`mismatched "${String.fromCharCode(b)}" in the JSON array`, this.#line);
          if (this.#depth === 0) {
            this.#endElement(chunk, start, i + 1, out);
            start = -1;
            i++;
            continue;
          }
        } else if (this.#depth === 0 && (b === COMMA || isSpace(b))) {
          // The end of a scalar record (a number or a literal).
          this.#endElement(chunk, start, i, out);
          start = -1;
          continue;
        }
        if (b === LF) this.#line++;
        i++;
        continue;
      }
      i++;
      if (b === LF) {
        this.#line++;
        continue;
      }
      if (isSpace(b)) continue;
      switch (this.#at) {
        case At.Between:
          if (b === CLOSE_BRACKET && !this.#afterComma) this.#at = At.Done;
          else if (b === COMMA || b === CLOSE_BRACKET) throw new InventoryError(`unexpected "${String.fromCharCode(b)}" in the JSON array`, this.#line);
          else {
            this.#at = At.Element;
            this.#recordLine = this.#line;
            start = i - 1;
            i = start; // the first byte is read again as part of the record
          }
          break;
        case At.After:
          if (b === COMMA) {
            this.#at = At.Between;
            this.#afterComma = true;
          } else if (b === CLOSE_BRACKET) this.#at = At.Done;
          else throw new InventoryError(`expected "," or "]" after a record in the JSON array`, this.#line);
          break;
        case At.Done:
          throw new InventoryError(`unexpected text after the JSON array`, this.#line);
      }
    }
    if (this.#at === At.Element && start >= 0) this.#keep(chunk, start, n);
  }

  /** One more open bracket expecting `closer`; kept while within the first `#max` levels. */
  #open(closer: number): void {
    if (this.#depth < this.#max) {
      if (this.#depth === this.#stack.length) {
        const grown = new Uint8Array(Math.min(this.#stack.length * 2, this.#max));
        grown.set(this.#stack);
        this.#stack = grown;
      }
      this.#stack[this.#depth] = closer;
    }
    this.#depth++;
  }

  #endElement(chunk: Uint8Array, start: number, end: number, out: ScannedRecord[]): void {
    const tail = start < 0 ? new Uint8Array(0) : chunk.subarray(start, end);
    if (this.#overflow || this.#size + tail.length > this.#max) out.push({ line: this.#recordLine, index: this.#index++, error: this.#tooLong() });
    else out.push(this.#parse(this.#take(tail)));
    this.#reset();
    this.#at = At.After;
    this.#afterComma = false;
  }

  // ---- record bytes -----------------------------------------------------

  /** Carry `chunk[from, to)` over to the next chunk, or give up on the record once it is too long. */
  #keep(chunk: Uint8Array, from: number, to: number): void {
    if (this.#overflow || to <= from) return;
    if (this.#size + (to - from) > this.#max) {
      this.#overflow = true;
      this.#parts = [];
      return;
    }
    this.#parts.push(chunk.slice(from, to)); // a copy: the caller may reuse its buffer
    this.#size += to - from;
  }

  #take(tail: Uint8Array): Uint8Array {
    if (this.#parts.length === 0) return tail;
    const all = new Uint8Array(this.#size + tail.length);
    let at = 0;
    for (const p of this.#parts) {
      all.set(p, at);
      at += p.length;
    }
    all.set(tail, at);
    return all;
  }

  #parse(bytes: Uint8Array): ScannedRecord {
    const line = this.#recordLine;
    const index = this.#index++;
    let text: string;
    try {
      text = this.#decoder.decode(bytes);
    } catch {
      return { line, index, error: "not valid UTF-8" };
    }
    try {
      return { line, index, value: JSON.parse(text) };
    } catch {
      // Where it broke, not JSON.parse's message: that quotes the record, secrets and all, into a
      // report read more widely than the inventory.
      const at = jsonSyntaxProblem(text);
      return { line, index, error: at ? `not JSON: line ${at.line}, column ${at.column}: ${at.message}` : "not JSON" };
    }
  }

  #tooLong(): string {
    return `record is longer than ${this.#max} bytes`;
  }

  #reset(): void {
    this.#parts = [];
    this.#size = 0;
    this.#overflow = false;
  }
}
