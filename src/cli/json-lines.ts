/**
 * The lines of a JSONL stream, read with backpressure: LF or CRLF line ends,
 * a last line without a newline, a leading UTF-8 BOM dropped. A line longer
 * than `maxBytes` is never held: its bytes are dropped as they arrive and it
 * comes out as `null`, so one huge line cannot exhaust memory.
 */
export async function* jsonLines(input: AsyncIterable<Buffer | string>, maxBytes: number): AsyncGenerator<string | null> {
  let parts: Buffer[] = [];
  let size = 0;
  let tooLong = false;
  let first = true;
  const finish = (): string | null => {
    const wasFirst = first;
    first = false;
    if (tooLong) {
      tooLong = false;
      return null;
    }
    let text = (parts.length === 1 ? parts[0]! : Buffer.concat(parts, size)).toString("utf8");
    parts = [];
    size = 0;
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
