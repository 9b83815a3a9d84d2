import { firstBadUtf8 } from "../index.js";

/** A line that is not UTF-8: where its first bad byte is (column in UTF-16 units, as everywhere). */
export class NotUtf8Line {
  constructor(
    readonly byte: number,
    readonly column: number,
  ) {}

  get message(): string {
    return `not valid UTF-8 (byte 0x${this.byte.toString(16).padStart(2, "0")} at column ${this.column})`;
  }
}

/**
 * The lines of a JSONL stream, read with backpressure: LF or CRLF line ends,
 * a last line without a newline, a leading UTF-8 BOM dropped. A line longer
 * than `maxBytes` is never held: its bytes are dropped as they arrive and it
 * comes out as `null`, so one huge line cannot exhaust memory. A line that is
 * not UTF-8 comes out as a NotUtf8Line: decoded with U+FFFD it would be an
 * event other than the one logged, silently (as POST /v1/events reports it).
 */
export async function* jsonLines(input: AsyncIterable<Buffer | string>, maxBytes: number): AsyncGenerator<string | null | NotUtf8Line> {
  let parts: Buffer[] = [];
  let size = 0;
  let tooLong = false;
  let first = true;
  const finish = (): string | null | NotUtf8Line => {
    const wasFirst = first;
    first = false;
    if (tooLong) {
      tooLong = false;
      return null;
    }
    const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
    parts = [];
    size = 0;
    const bad = firstBadUtf8(bytes);
    if (bad !== undefined) return new NotUtf8Line(bad.byte, bad.column);
    let text = bytes.toString("utf8");
    if (wasFirst && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return text.endsWith("\r") ? text.slice(0, -1) : text;
  };
  for await (const raw of input) {
    const chunk = typeof raw === "string" ? Buffer.from(raw, "utf8") : raw;
    let at = 0;
    while (at < chunk.length) {
      const nl = chunk.indexOf(10, at);
      const end = nl < 0 ? chunk.length : nl;
      if (!tooLong) {
        if (size + (end - at) > maxBytes) {
          tooLong = true;
          parts = [];
          size = 0;
        } else if (end > at) {
          parts.push(chunk.subarray(at, end));
          size += end - at;
        }
      }
      if (nl < 0) break;
      yield finish();
      at = nl + 1;
    }
  }
  if (tooLong || size > 0) yield finish();
}
